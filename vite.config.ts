import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The built page declares, in a Content-Security-Policy, that it talks to nobody but itself:
 * patient images never leave the tab. (Only in the build: the dev server injects inline scripts.)
 * 'unsafe-eval' is needed by vega (tfjs-vis charts compile their expressions with Function).
 */
function contentSecurityPolicy(): Plugin {
  const policy = [
    "default-src 'self'",
    "script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'",
    "worker-src 'self' blob:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    "connect-src 'self' blob: data:",
    "object-src 'none'",
    "base-uri 'self'",
  ].join('; ');
  return {
    name: 'content-security-policy',
    apply: 'build',
    transformIndexHtml(html) {
      return html.replace('<head>', `<head>\n    <meta http-equiv="Content-Security-Policy" content="${policy}" />`);
    },
  };
}

export default defineConfig({
  plugins: [react(), contentSecurityPolicy()],
  worker: { format: 'es' },
  // Pre-bundled up front: discovered late (inside the workers), they would make the dev server reload the page mid-run.
  optimizeDeps: {
    include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-vis', '@zip.js/zip.js', 'react', 'react-dom/client'],
  },
  server: { port: 5173 },
  // ISOLATE=1 serves the preview cross-origin isolated (COOP/COEP), to check the WASM backend under a host that isolates.
  preview: { port: 4173, headers: process.env.ISOLATE ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {} },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
});
