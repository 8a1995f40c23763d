import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

/**
 * The layers of src/ for the editor: which folders each may import. src/layering.test.ts holds the
 * full rules (cycles, worker bundles, type-only imports) and is the authority; keep the two in step.
 */
const LAYER_IMPORTS = {
  core: [],
  model: ['core'],
  eval: ['core'],
  data: ['core'],
  export: ['core'],
  storage: ['core'],
  backends: ['core', 'model'],
  worker: ['core', 'model', 'eval', 'export', 'backends'],
  ui: ['core', 'data', 'eval', 'export', 'storage', 'worker'], // worker/protocol.ts and worker/trainerClient.ts only
};

/** Folders a layer may also import with `import type` only. */
const TYPE_IMPORTS = { ui: ['backends'] };

/** Folders a layer's tests may also import (export's build and judge real models; worker's draw demo images). */
const TEST_IMPORTS = { export: ['model', 'eval'], worker: ['data'] };

/** Packages a layer must not import as a value (types are fine): tfjs is for the training worker. */
const TFJS = '^@tensorflow/tfjs(-core|-layers|-converter|-backend-.*)?$';

function layerRules(folder, forTests = false) {
  const typeOnly = TYPE_IMPORTS[folder] ?? [];
  const allowed = [...LAYER_IMPORTS[folder], ...(forTests ? (TEST_IMPORTS[folder] ?? []) : [])];
  const forbidden = Object.keys(LAYER_IMPORTS).filter((other) => other !== folder && !allowed.includes(other));
  const message = `src/${folder}/ may import only ${[...LAYER_IMPORTS[folder], ...typeOnly.map((t) => `types of ${t}`)].join(', ') || 'itself'} (see src/layering.test.ts).`;
  const folders = (names) => `^(\\.\\./)+(${names.join('|')})(/|$)`;
  const patterns = [{ regex: folders(forbidden.filter((other) => !typeOnly.includes(other))), message }];
  if (typeOnly.length > 0) patterns.push({ regex: folders(typeOnly), allowTypeImports: true, message });
  if (folder === 'core') patterns.push({ regex: '^(@tensorflow/|react|@zip\\.js/)', message: 'src/core/ is plain TypeScript: no tfjs, React or zip.js.' });
  if (folder === 'ui') {
    patterns.push(
      { regex: '^(\\.\\./)+worker/(?!(protocol|trainerClient)(\\.ts)?$)', message: 'The page talks to the training worker through worker/protocol.ts and worker/trainerClient.ts only.' },
      { regex: TFJS, allowTypeImports: true, message: 'The page does not train: tfjs stays in the training worker (tfjs-vis is fine).' },
    );
  }
  const files = forTests ? [`src/${folder}/**/*.test.{ts,tsx}`] : [`src/${folder}/**/*.{ts,tsx}`];
  return { files, rules: { 'no-restricted-imports': ['error', { patterns }] } };
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test-results/', 'playwright-report/', '.cache/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['src/ui/**/*.{ts,tsx}', 'src/main.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
    },
  },
  {
    files: ['scripts/**/*.{js,mjs,ts}', '*.config.{js,ts}', 'e2e/**/*.ts'],
    languageOptions: { globals: globals.node },
  },
  ...Object.keys(LAYER_IMPORTS).map((folder) => layerRules(folder)),
  ...Object.keys(TEST_IMPORTS).map((folder) => layerRules(folder, true)),
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
);
