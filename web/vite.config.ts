// The front ends are pages of one build: everything they need (scripts, styles, the map's
// worker) is bundled into dist/, which cockpit-server serves. Nothing is fetched from elsewhere.
// Each compressible file gets its brotli and gzip copies beside it (precompress.ts).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { precompress } from './precompress';

export default defineConfig({
  base: '/',
  plugins: [precompress()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2500,
    assetsInlineLimit: 0,
    // The wall (index.html), the PC workbench (workbench.html) and the grid worker's
    // mobile app (mobile.html).
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL('./index.html', import.meta.url)),
        workbench: fileURLToPath(new URL('./workbench.html', import.meta.url)),
        mobile: fileURLToPath(new URL('./mobile.html', import.meta.url)),
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: process.env.COCKPIT_URL ?? 'http://127.0.0.1:8080', ws: true },
    },
  },
});
