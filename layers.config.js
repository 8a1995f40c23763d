/**
 * The layers of src/: the one table that src/layering.test.ts (the authority: every import, cycles, worker bundles)
 * and eslint.config.js (the same folder rules as no-restricted-imports, for the editor) both read.
 * Folders of src/ (and files at its root), low to high. A new folder is one line.
 * @type {Readonly<Record<string, import('./layers.config').Layer>>}
 */
export const LAYERS = {
  core: { rank: 0, imports: [], noPackages: /^(@tensorflow\/|react|@zip\.js\/)/ },
  model: { rank: 1, imports: ['core'] },
  eval: { rank: 1, imports: ['core'] },
  data: { rank: 1, imports: ['core'] },
  // Other formats (ONNX, Keras HDF5, the PyTorch bundle) written from the layers-format files: pure bytes, no tfjs.
  export: {
    rank: 1,
    imports: ['core'],
    // Its tests build and judge real models to check the converters against.
    testImports: ['model', 'eval'],
    noValuePackages: /^@tensorflow\/tfjs(-core|-layers|-converter|-backend-.*)?$/,
  },
  // Saved runs in the browser (IndexedDB): plain records and model files, no tfjs.
  storage: { rank: 1, imports: ['core'], noPackages: /^(@tensorflow\/|react)/ },
  backends: { rank: 2, imports: ['core', 'model'] },
  // Its tests may draw the demo's synthetic chest images (data/synthetic.ts) to train and judge on.
  worker: { rank: 3, imports: ['core', 'model', 'eval', 'export', 'backends'], testImports: ['data'] },
  // The page talks to the training worker through its protocol and client only, and does not train.
  ui: {
    rank: 4,
    imports: ['core', 'data', 'eval', 'export', 'storage', 'worker/protocol.ts', 'worker/trainerClient.ts'],
    typeImports: ['backends'],
    noValuePackages: /^@tensorflow\/tfjs(-core|-layers|-converter|-backend-.*)?$/,
  },
  'main.tsx': { rank: 5, imports: ['core', 'data', 'eval', 'ui', 'worker/protocol.ts', 'worker/trainerClient.ts'] },
  // How the layering test reads src/: files, their imports, resolved.
  'importGraph.testutil.ts': { rank: 6, imports: [] },
  'layering.test.ts': { rank: 7, imports: ['importGraph.testutil.ts'] },
};

/**
 * Worker bundles, and what their (value) import graphs must never reach: packages, or folders of src/ (`ui/`).
 * @type {Readonly<Record<string, readonly string[]>>}
 */
export const WORKER_BUNDLES = {
  'data/decode.worker.ts': ['@zip.js/zip.js', 'react'],
  'worker/train.worker.ts': ['react', 'react-dom', '@tensorflow/tfjs-vis', 'ui/'],
  // The native kernels' helper thread: the kernels module and a control block, nothing of tfjs.
  'backends/native/helper.worker.ts': ['@tensorflow/tfjs', '@tensorflow/tfjs-core', 'react', 'ui/', 'model/'],
};
