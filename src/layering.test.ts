/**
 * Keeps the layering of src/ true. Every .ts/.tsx file under src/, tests included, is parsed with the
 * TypeScript compiler; its imports (`import`, `import type`, `export … from`, `import()`, `import('x').T`
 * in types, and worker entries `new URL('./x.worker.ts', import.meta.url)`) are resolved, and the rules
 * below are checked. Test files obey the same rules as their folder (a test may import test utilities
 * of its own or a lower layer), and only they may reach outside src/ (e.g. scripts/syntheticZip.ts).
 * The table of layers is layers.config.js at the repository root, which eslint.config.js reads too (the folder
 * rules as no-restricted-imports, for the editor); this test is the authority. The reading of files and imports is
 * in importGraph.testutil.ts.
 */
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAYERS, WORKER_BUNDLES } from '../layers.config.js';
import {
  SRC,
  importsIn,
  importsOf,
  layerOf,
  packageOf,
  sourceFiles,
  type Import,
  type Kind,
} from './importGraph.testutil';

const TEST_FILE = /\.(test|testutil)\.tsx?$/;

/** True when `target` (relative to src/) is the layer or file that `allowed` names. */
function allows(allowed: readonly string[] | undefined, target: string): boolean {
  return !!allowed?.some((entry) => entry === target || entry === layerOf(target));
}

const files = sourceFiles(SRC).map((path) => relative(SRC, path).split(sep).join('/'));
const importsByFile = new Map(files.map((file) => [file, importsOf(join(SRC, file))]));

const KIND_WORDS: Readonly<Record<Kind, string>> = {
  static: 'import',
  type: 'import type',
  dynamic: 'import()',
  worker: 'new URL',
};

function where(file: string, entry: Import): string {
  return `${file}:${entry.line} ${KIND_WORDS[entry.kind]} '${entry.spec}'`;
}

function layeringViolations(): string[] {
  const problems: string[] = [];
  for (const [file, imports] of importsByFile) {
    const from = layerOf(file);
    const layer = LAYERS[from];
    if (!layer) {
      problems.push(`${file}: '${from}' is not in LAYERS (add a line for it)`);
      continue;
    }
    const isTest = TEST_FILE.test(file);
    for (const entry of imports) {
      if (!entry.spec.startsWith('.')) {
        const pkg = packageOf(entry.spec);
        if (layer.noPackages?.test(pkg)) problems.push(`${where(file, entry)}: ${from}/ must not import ${pkg}`);
        else if (!isTest && entry.kind !== 'type' && layer.noValuePackages?.test(pkg))
          problems.push(`${where(file, entry)}: ${from}/ may import ${pkg} with 'import type' only`);
        continue;
      }
      const target = entry.target;
      if (target === null || target === undefined) {
        problems.push(`${where(file, entry)}: no such file`);
        continue;
      }
      if (target.startsWith('../')) {
        if (!isTest) problems.push(`${where(file, entry)}: only tests may import from outside src/`);
        continue;
      }
      if (!isTest && TEST_FILE.test(target))
        problems.push(`${where(file, entry)}: a test file or test utility, imported by app code`);
      const to = layerOf(target);
      if (to === from) continue;
      const targetLayer = LAYERS[to];
      if (!targetLayer) continue; // Reported for the target file itself.
      if (allows(layer.imports, target)) continue;
      if (isTest && allows(layer.testImports, target)) continue;
      if (entry.kind === 'type' && allows(layer.typeImports, target)) continue;
      const rule =
        targetLayer.rank > layer.rank
          ? `upward: ${from} (rank ${layer.rank}) must not import ${to} (rank ${targetLayer.rank})`
          : targetLayer.rank === layer.rank
            ? `sideways: ${from} and ${to} are the same rank (${layer.rank})`
            : allows(layer.typeImports, target)
              ? `${from}/ may import ${to}/ with 'import type' only`
              : `${from}/ may import only ${[...layer.imports, ...(layer.typeImports ?? []).map((t) => `${t} (types)`)].join(', ') || 'itself'}`;
      problems.push(`${where(file, entry)} → ${target}: ${rule}`);
    }
  }
  return problems;
}

/** Every cycle of file imports (type-only ones included), one per strongly connected group, as a → b → a. */
function importCycles(): string[] {
  const edges = new Map(
    files.map((file) => [
      file,
      [
        ...new Set(
          importsByFile
            .get(file)!
            .flatMap((entry) => (entry.target && importsByFile.has(entry.target) ? [entry.target] : [])),
        ),
      ],
    ]),
  );
  // Tarjan's strongly connected components.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const connect = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node)!) {
      if (!index.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      if (group.length > 1 || edges.get(node)!.includes(node)) groups.push(group);
    }
  };
  for (const file of files) if (!index.has(file)) connect(file);
  // One shortest cycle through the group's first file (breadth-first back to it).
  return groups.map((group) => {
    const members = new Set(group);
    const start = [...group].sort()[0];
    const parent = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const node = queue.shift()!;
      for (const next of edges.get(node)!) {
        if (!members.has(next)) continue;
        if (next === start) {
          const path = [start];
          for (let at: string | undefined = node; at !== undefined && at !== start; at = parent.get(at))
            path.splice(1, 0, at);
          const more =
            group.length > path.length
              ? ` (and ${group.length - path.length} more file(s) in the same tangle: ${group
                  .filter((f) => !path.includes(f))
                  .sort()
                  .join(', ')})`
              : '';
          return `${[...path, start].join(' → ')}${more}`;
        }
        if (!parent.has(next)) {
          parent.set(next, node);
          queue.push(next);
        }
      }
    }
    return group.join(' → ');
  });
}

/** What a worker bundle reaches that it must not: value imports only, each with the chain that gets there. */
function bundleViolations(): string[] {
  const problems: string[] = [];
  for (const [entry, forbidden] of Object.entries(WORKER_BUNDLES)) {
    if (!importsByFile.has(entry)) {
      problems.push(`${entry}: listed in WORKER_BUNDLES but not found`);
      continue;
    }
    const parent = new Map<string, string>([[entry, '']]);
    const queue = [entry];
    const chain = (file: string): string => {
      const path: string[] = [];
      for (let at = file; at; at = parent.get(at)!) path.unshift(at);
      return path.join(' → ');
    };
    while (queue.length > 0) {
      const file = queue.shift()!;
      // Type-only imports are erased; a `new URL(…)` worker is a bundle of its own.
      for (const edge of importsByFile.get(file)!.filter((e) => e.kind === 'static' || e.kind === 'dynamic')) {
        if (!edge.spec.startsWith('.')) {
          const pkg = packageOf(edge.spec);
          if (forbidden.includes(pkg)) problems.push(`${entry} reaches ${pkg}: ${chain(file)} → '${edge.spec}'`);
          continue;
        }
        const target = edge.target;
        if (!target || parent.has(target) || !importsByFile.has(target)) continue;
        parent.set(target, file);
        const folder = forbidden.find((f) => f.endsWith('/') && target.startsWith(f));
        if (folder) problems.push(`${entry} reaches ${folder}: ${chain(target)}`);
        queue.push(target);
      }
    }
  }
  // Every worker the app starts must be listed, so that its bundle is checked too.
  for (const [file, imports] of importsByFile) {
    for (const edge of imports) {
      if (
        edge.kind === 'worker' &&
        edge.target &&
        /\.worker\.tsx?$/.test(edge.target) &&
        !(edge.target in WORKER_BUNDLES)
      ) {
        problems.push(`${where(file, edge)}: ${edge.target} is a worker missing from WORKER_BUNDLES`);
      }
    }
  }
  return [...new Set(problems)];
}

describe('layering of src/', () => {
  it('reads every form of import', () => {
    const text = [
      "import a from './a';",
      "import type { B } from './b';",
      "import { type C } from './c';",
      "import { type D, e } from './d';",
      "import './styles.css';",
      "export { f } from './f';",
      "export type { G } from './g';",
      "export * from './h';",
      "const i = () => import('./i');",
      "let j: typeof import('@scope/j') | null = null;",
      "new Worker(new URL('./k.worker.ts', import.meta.url), { type: 'module' });",
      "new URL('./not-a-module', location.href);",
    ].join('\n');
    expect(importsIn(text, 'x.ts').map((entry) => `${entry.line} ${entry.kind} ${entry.spec}`)).toEqual([
      '1 static ./a',
      '2 type ./b',
      '3 type ./c',
      '4 static ./d',
      '5 static ./styles.css',
      '6 static ./f',
      '7 type ./g',
      '8 static ./h',
      '9 dynamic ./i',
      '10 type @scope/j',
      '11 worker ./k.worker.ts',
    ]);
    expect(packageOf('react-dom/client')).toBe('react-dom');
    expect(packageOf('@tensorflow/tfjs-backend-wasm/dist/x.wasm?url')).toBe('@tensorflow/tfjs-backend-wasm');
  });

  it('has a consistent table: a layer imports only lower ranks', () => {
    const problems = Object.entries(LAYERS).flatMap(([name, layer]) =>
      [...layer.imports, ...(layer.typeImports ?? [])]
        .filter((entry) => !(layerOf(entry) in LAYERS) || LAYERS[layerOf(entry)].rank >= layer.rank)
        .map((entry) => `${name} lists ${entry}, which is not a lower layer`),
    );
    expect(problems).toEqual([]);
    expect(files.length).toBeGreaterThan(50);
  });

  it('imports only downward, as LAYERS allows', () => {
    expect(layeringViolations()).toEqual([]);
  });

  it('has no import cycles', () => {
    expect(importCycles()).toEqual([]);
  });

  it('keeps the worker bundles free of what they must not carry', () => {
    expect(bundleViolations()).toEqual([]);
  });
});
