// The wall is one page; everything it needs (scripts, styles, the map's worker) is
// bundled into dist/, which cockpit-server serves. Nothing is fetched from elsewhere.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2500,
    assetsInlineLimit: 0,
    // Two pages: the wall (index.html) and the PC workbench (workbench.html).
    rollupOptions: {
      input: {
        index: resolve(import.meta.dirname, 'index.html'),
        workbench: resolve(import.meta.dirname, 'workbench.html'),
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: process.env.COCKPIT_URL ?? 'http://127.0.0.1:8080', ws: true },
    },
  },
});
