/** The shape of layers.config.js (plain JavaScript, so that eslint.config.js can import it too). */
export interface Layer {
  /** Low to high: a file may import its own layer and, as listed in `imports`, lower ranks only. */
  rank: number;
  /** What it may import: layers (`core`), or single files of a layer (`worker/protocol.ts`). */
  imports: readonly string[];
  /** What it may also import with `import type` (erased from the bundle). */
  typeImports?: readonly string[];
  /** Packages its app code must not import as a value (its tests may: they are never bundled). */
  noValuePackages?: RegExp;
  /** Layers its tests may import besides `imports` (e.g. to build a real model to check a converter against). */
  testImports?: readonly string[];
  /** Packages it must not import at all, not even their types. */
  noPackages?: RegExp;
}

export declare const LAYERS: Readonly<Record<string, Layer>>;
export declare const WORKER_BUNDLES: Readonly<Record<string, readonly string[]>>;
