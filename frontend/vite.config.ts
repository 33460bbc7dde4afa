/// <reference types="vitest/config" />
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// Four pages, one bundle each (shared code split out by Vite). /config.js is
// served by the host at run time (window.CUTOVER = {apiBase}) and stays a
// plain <script>, never bundled.
const page = (name: string) => resolve(import.meta.dirname, name);

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    rollupOptions: {
      input: {
        index: page('index.html'),
        upload: page('upload.html'),
        signoff: page('signoff.html'),
        ops: page('ops.html'),
      },
    },
  },
  server: {
    // `npm run dev` against a running stack: API_TARGET=http://127.0.0.1:8080 npx vite
    proxy: process.env.API_TARGET
      ? { '/api': process.env.API_TARGET, '/config.js': process.env.API_TARGET }
      : undefined,
  },
  test: {
    environment: 'happy-dom',
    include: ['test/**/*.test.ts'],
    restoreMocks: true,
  },
});
