import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

import { LAYERS } from './layers.config.js';

/** The layer of an entry of the table: `worker/protocol.ts` is of `worker`. */
const layerOf = (entry) => entry.split('/')[0];
const FOLDERS = Object.keys(LAYERS).filter((name) => !name.includes('.'));
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The folder rules of layers.config.js (the table src/layering.test.ts checks every import against) as
 * no-restricted-imports, so the editor marks an import up a layer as it is typed.
 */
function layerRules(name, forTests = false) {
  const layer = LAYERS[name];
  const isFolder = FOLDERS.includes(name);
  const typeOnly = layer.typeImports ?? [];
  const imports = [...layer.imports, ...(forTests ? (layer.testImports ?? []) : [])];
  const allowed = new Set(imports.map(layerOf));
  const forbidden = FOLDERS.filter((other) => other !== name && !allowed.has(other));
  const words = [...layer.imports, ...typeOnly.map((t) => `types of ${t}`)].join(', ') || 'itself';
  const message = `src/${name} may import only ${words} (see layers.config.js).`;
  // A folder's files reach other folders with ../; a file at the root of src/ with ./.
  const prefix = isFolder ? '^(\\.\\./)+' : '^\\./';
  const folders = (names) => `${prefix}(${names.join('|')})(/|$)`;
  const patterns = [];
  const valueForbidden = forbidden.filter((other) => !typeOnly.includes(other));
  if (valueForbidden.length > 0) patterns.push({ regex: folders(valueForbidden), message });
  if (typeOnly.length > 0) patterns.push({ regex: folders(typeOnly), allowTypeImports: true, message });
  // Single files of a layer (worker/protocol.ts): the rest of that folder is out of reach.
  const singleFiles = imports.filter((entry) => entry.includes('/'));
  for (const folder of new Set(singleFiles.map(layerOf))) {
    if (imports.includes(folder)) continue;
    const names = singleFiles
      .filter((entry) => layerOf(entry) === folder)
      .map((entry) => escape(entry.slice(folder.length + 1).replace(/\.tsx?$/, '')));
    patterns.push({ regex: `${prefix}${folder}/(?!(${names.join('|')})(\\.tsx?)?$)`, message });
  }
  if (layer.noPackages) patterns.push({ regex: layer.noPackages.source, message: `src/${name} must not import this.` });
  if (layer.noValuePackages && !forTests) {
    patterns.push({ regex: layer.noValuePackages.source, allowTypeImports: true, message: `src/${name}: types only.` });
  }
  const glob = isFolder ? `src/${name}/**/*` : `src/${name.replace(/\.tsx?$/, '')}`;
  const files = forTests ? [`${glob}.{test,testutil}.{ts,tsx}`] : [isFolder ? `${glob}.{ts,tsx}` : `src/${name}`];
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
  ...Object.keys(LAYERS).map((name) => layerRules(name)),
  // Tests may reach further (testImports) and import packages their layer's app code may not (never bundled).
  ...FOLDERS.map((name) => layerRules(name, true)),
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
);
