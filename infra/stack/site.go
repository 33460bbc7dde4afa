package stack

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"os"
	"path/filepath"
	"strings"
)

// configJS is the site's runtime configuration: the API is same-origin
// under /api, so the browser needs no CORS for it.
const configJS = `window.CUTOVER = {"apiBase": "/api"};` + "\n"

// siteHandler serves the built static site from dir (503 with what to run
// when it is not built), /config.js, and /api/*
// reverse-proxied to the HTTP API on kumo.
//
// kumo serves an HTTP API by Host ({apiId}.execute-api.localhost:PORT); the
// proxy dials 127.0.0.1 and sets that Host, so no *.localhost name
// resolution is needed. The auto-deployed $default stage takes no stage
// prefix in the path: /api/migrations/x becomes /migrations/x.
func siteHandler(dir string, kumoPort int, apiID string, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()

	mux.HandleFunc("GET /config.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(configJS))
	})

	files := http.FileServer(http.Dir(dir))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
			http.Error(w, "The site is not built: run `make frontend` (or `make up`, which builds it).", http.StatusServiceUnavailable)
			return
		}
		files.ServeHTTP(w, r)
	}))

	api := apiProxy(kumoPort, apiID, log)
	mux.Handle("/api/", api)
	mux.Handle("/api", api)

	return mux
}

func apiProxy(kumoPort int, apiID string, log *slog.Logger) http.Handler {
	if apiID == "" {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			writeAPIError(w, http.StatusNotFound, "Not Found")
		})
	}

	target := fmt.Sprintf("127.0.0.1:%d", kumoPort)
	host := fmt.Sprintf("%s.execute-api.localhost:%d", apiID, kumoPort)

	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = target
			pr.Out.Host = host

			path := strings.TrimPrefix(pr.In.URL.Path, "/api")
			if path == "" {
				path = "/"
			}

			pr.Out.URL.Path = path
			pr.Out.URL.RawPath = ""

			if raw := pr.In.URL.RawPath; raw != "" {
				pr.Out.URL.RawPath = strings.TrimPrefix(raw, "/api")
			}
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.ErrorContext(r.Context(), "API proxy failed", "method", r.Method, "error", err.Error())
			writeAPIError(w, http.StatusBadGateway, "Bad Gateway")
		},
	}
}

func writeAPIError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}
