// The site's runtime configuration in production: the API is under /api on
// the same origin (CloudFront routes it). The local stack answers /config.js
// itself, and LocalStack's deploy script writes its own.
window.CUTOVER = { apiBase: "/api" };
