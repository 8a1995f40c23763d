// Vite's `?url` imports (the DICOM codecs' .wasm files) for `npm run fuzz` under tsx in Node: each resolves to a
// module whose default export is the file's path, as Vite's would be its URL. Registered with `--import`.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (!specifier.endsWith('?url')) return next(specifier, context);
  const { url } = await next(specifier.slice(0, -4), context);
  return { url: 'data:text/javascript,export default ' + encodeURIComponent(JSON.stringify(url)), shortCircuit: true };
}`),
);
