/// <reference types="vitest/config" />
// Two single-page applications from one build: the member's mall (index.html, served at /) and
// the operators' console (admin/index.html, served at /admin/). `pointsmall serve --web-dir
// web/dist` serves the output; files under assets/ carry a content hash in their name.
import { fileURLToPath, URL } from 'node:url';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

const apiTarget = process.env.POINTSMALL_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [vue()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      input: {
        mall: fileURLToPath(new URL('./index.html', import.meta.url)),
        admin: fileURLToPath(new URL('./admin/index.html', import.meta.url)),
      },
    },
  },
  // `npm run dev` serves the pages with hot reload and sends API calls to a running server.
  server: {
    proxy: { '/v1': apiTarget, '/healthz': apiTarget },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
  },
});
