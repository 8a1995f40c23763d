/**
 * How src/layering.test.ts reads src/: every .ts/.tsx file, parsed with the TypeScript compiler, and its imports
 * (`import`, `import type`, `export … from`, `import()`, `import('x').T` in types, and worker entries
 * `new URL('./x.worker.ts', import.meta.url)`), resolved as Vite resolves them.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The src/ folder, which this file is at the root of. */
export const SRC = dirname(fileURLToPath(import.meta.url));

export type Kind = 'static' | 'type' | 'dynamic' | 'worker';

export interface Import {
  /** The specifier as written. */
  spec: string;
  kind: Kind;
  line: number;
  /** For a relative specifier: the file, relative to src/ ('../scripts/x.ts' when outside), or null when nothing is there. */
  target?: string | null;
}

export function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return sourceFiles(path);
      return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
    })
    .sort();
}

export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Resolves as Vite does here: the exact name, else with .ts/.tsx, else a folder's index. */
export function resolveRelative(fromFile: string, spec: string): string | null {
  const base = resolve(dirname(fromFile), spec.replace(/[?#].*$/, ''));
  const found = ['', '.ts', '.tsx', '/index.ts', '/index.tsx'].map((suffix) => base + suffix).find(isFile);
  return found ? relative(SRC, found).split(sep).join('/') : null;
}

export function stringArgument(node: ts.Node | undefined): string | null {
  return node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : null;
}

/** The imports written in a file's text, unresolved. */
export function importsIn(text: string, file: string): Import[] {
  const source = ts.createSourceFile(
    file,
    text,
    ts.ScriptTarget.Latest,
    true,
    file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS,
  );
  const found: Import[] = [];
  const add = (spec: string | null, kind: Kind, node: ts.Node) => {
    if (spec !== null)
      found.push({ spec, kind, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1 });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named =
        clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      // `import { type A } from 'x'` is erased as a whole (no verbatimModuleSyntax here).
      const typeOnly =
        !!clause &&
        (clause.isTypeOnly || (!clause.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(stringArgument(node.moduleSpecifier), typeOnly ? 'type' : 'static', node);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      const typeOnly = node.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly));
      add(stringArgument(node.moduleSpecifier), typeOnly ? 'type' : 'static', node);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(stringArgument(node.moduleReference.expression), node.isTypeOnly ? 'type' : 'static', node);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(stringArgument(node.arguments[0]), 'dynamic', node);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(stringArgument(node.argument.literal), 'type', node);
    } else if (
      ts.isNewExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'URL' &&
      node.arguments?.length === 2 &&
      node.arguments[1].getText(source) === 'import.meta.url'
    ) {
      add(stringArgument(node.arguments[0]), 'worker', node);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

export function importsOf(file: string): Import[] {
  const found = importsIn(readFileSync(file, 'utf8'), file);
  for (const entry of found) if (entry.spec.startsWith('.')) entry.target = resolveRelative(file, entry.spec);
  return found;
}

/** The layer of a path relative to src/: its first folder, or the file itself at the root. */
export function layerOf(path: string): string {
  return path.split('/')[0];
}

export function packageOf(spec: string): string {
  const parts = spec.replace(/[?#].*$/, '').split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}
