import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * dcmjs-codecs (the 12-bit JPEG DICOM decoder, src/data/dicom/jpeg12.ts) requires dcmjs for its Transcoder, which the
 * app never calls: its NativeCodecs needs nothing of it. Two of its modules read `dcmjs.data` and `dcmjs.log` when
 * they load, so they get a stand-in holding empty ones, and the lazily loaded codec chunk does not carry dcmjs'
 * 0.7 MB. (Tests and scripts, in Node, load the real dcmjs.)
 */
function dcmjsCodecsWithoutDcmjs(): Plugin {
  const stub = '\0dcmjs-stand-in';
  return {
    name: 'dcmjs-codecs-without-dcmjs',
    enforce: 'pre',
    resolveId(source, importer) {
      return source === 'dcmjs' && importer && /[\\/]dcmjs-codecs[\\/]/.test(importer) ? stub : null;
    },
    load(id) {
      return id === stub ? 'export const data = {};\nexport const log = {};\nexport default { data, log };\n' : null;
    },
  };
}

/**
 * tfjs-backend-wasm starts each pthread of its threaded build with a script made from
 * `wasmFactoryThreadedSimd.toString()`. Bundled and minified, that function refers to variables of
 * its module scope that the string does not carry, so every pthread dies ("e is not defined") and the
 * backend waits for them forever. This hands the pthreads the Emscripten module's own source instead,
 * which defines everything it uses: the threaded SIMD build then starts on every core.
 */
function wasmPthreadScript(): Plugin {
  const require = createRequire(import.meta.url);
  const source = readFileSync(
    require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js'),
    'utf8',
  );
  const target = /`var WasmBackendModuleThreadedSimd = ` \+\s*wasmFactoryThreadedSimd\.toString\(\)/;
  return {
    name: 'tfjs-wasm-pthread-script',
    transform(code, id) {
      if (!/tfjs-backend-wasm[\\/]dist[\\/](backend_wasm|tf-backend-wasm\.fesm)\.js$/.test(id)) return null;
      if (!target.test(code))
        throw new Error(
          `tfjs-wasm-pthread-script: the pthread script expression was not found in ${id}; check the tfjs-backend-wasm version.`,
        );
      return { code: code.replace(target, JSON.stringify(source)), map: null };
    },
  };
}

/**
 * The built page declares, in a Content-Security-Policy, that it talks to nobody but itself:
 * patient images never leave the tab. (Only in the build: the dev server injects inline scripts.)
 * No 'unsafe-eval': vega interprets chart expressions (vega-interpreter, src/ui/common/charts/embedInTasks.ts).
 * Trusted Types are required; the one policy, `default`, passes only this origin's script URLs (its workers and
 * service worker) and makes no HTML or script (src/ui/common/trustedTypes.ts).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' blob: data:",
  "font-src 'self'",
  "connect-src 'self' blob: data:",
  "object-src 'none'",
  "base-uri 'self'",
  "require-trusted-types-for 'script'",
  'trusted-types default',
].join('; ');

function contentSecurityPolicy(): Plugin {
  const policy = CONTENT_SECURITY_POLICY;
  return {
    name: 'content-security-policy',
    apply: 'build',
    transformIndexHtml(html) {
      return html.replace('<head>', `<head>\n    <meta http-equiv="Content-Security-Policy" content="${policy}" />`);
    },
  };
}

const isolationHeaders: Record<string, string> =
  process.env.ISOLATE === '0'
    ? {}
    : { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/**
 * Offline and installable: a service worker (Workbox, through vite-plugin-pwa) precaches the whole build — the page,
 * both workers, every wasm file, the lazily loaded chunks (HDF5, the WebGPU backend) — so after one visit the app loads, trains and
 * downloads with the network off; a web app manifest makes it installable. The service worker is registered by an
 * external script (registerSW.js), which the Content-Security-Policy's script-src 'self' allows.
 */
function offline(): Plugin[] {
  return VitePWA({
    registerType: 'autoUpdate',
    injectRegister: 'script',
    includeAssets: ['favicon.svg'],
    manifest: {
      name: 'X-ray trainer: train an image classifier in your browser',
      short_name: 'X-ray trainer',
      description: 'Train an image classifier on your own chest X-rays, in your browser. Nothing is uploaded.',
      start_url: '/',
      display: 'standalone',
      background_color: '#11151b',
      theme_color: '#11151b',
      icons: [
        { src: '/icon-192.png', sizes: '192x192', type: 'image/png' },
        { src: '/icon-512.png', sizes: '512x512', type: 'image/png' },
        { src: '/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
      ],
    },
    workbox: {
      globPatterns: ['**/*.{js,css,html,wasm,svg,png,webmanifest}'],
      // The largest file is the HDF5 library's chunk (~4.8 MB); precache everything the app can load.
      maximumFileSizeToCacheInBytes: 8 * 2 ** 20,
      navigateFallback: '/index.html',
      cleanupOutdatedCaches: true,
    },
  }) as Plugin[];
}

export default defineConfig({
  // tfjs-vis draws with vega-embed, which compiles, parses and renders a chart in one task of 40-60 ms; the same
  // calls split into tasks (issue 12: no task over 50 ms) stand in for it, for tfjs-vis and our own charts alike.
  resolve: {
    alias: [
      {
        find: /^vega-embed$/,
        replacement: fileURLToPath(new URL('./src/ui/common/charts/embedInTasks.ts', import.meta.url)),
      },
    ],
  },
  plugins: [react(), contentSecurityPolicy(), wasmPthreadScript(), dcmjsCodecsWithoutDcmjs(), ...offline()],
  // Workers are bundled on their own: the training worker, which loads the wasm backend, needs the pthread fix.
  worker: { format: 'es', plugins: () => [wasmPthreadScript(), dcmjsCodecsWithoutDcmjs()] },
  // Pre-bundled up front: discovered late (inside the workers), they would make the dev server reload the page mid-run.
  optimizeDeps: {
    include: [
      '@tensorflow/tfjs',
      '@tensorflow/tfjs-backend-wasm',
      '@tensorflow/tfjs-backend-webgpu',
      '@tensorflow/tfjs-vis',
      '@zip.js/zip.js',
      'react',
      'react-dom/client',
      'h5wasm',
      'protobufjs/light',
      'idb',
    ],
    // The dev server pre-bundles dependencies without the app's plugins: this one is needed there too.
    rolldownOptions: { plugins: [wasmPthreadScript()] },
  },
  // Cross-origin isolated (COOP/COEP), so that browsers allow SharedArrayBuffer and the WebAssembly backend
  // runs on every core; ISOLATE=0 serves without, to compare. A static host must send the same headers
  // (public/_headers does so on Netlify and Cloudflare Pages; see docs/architecture.md, Hosting).
  server: { port: 5173, headers: isolationHeaders },
  preview: { port: 4173, headers: isolationHeaders },
  // 5000: h5wasm (the HDF5 library, for Keras downloads) is one ~4.8 MB chunk, loaded only when a .h5 is asked for.
  build: { target: 'es2022', chunkSizeWarningLimit: 5000 },
});
