/**
 * Whether a kernels module is safe to run inside tfjs' own heap (csrc/kernels.h says why): it imports
 * nothing but env.memory, and has no data section (which would be written into tfjs' heap when it
 * starts). Null when safe, else what is wrong. Used by the build script and the tests.
 */
export function problemOfKernelsModule(bytes: Uint8Array): string | null {
  const module = new WebAssembly.Module(bytes as BufferSource);
  const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name} (${i.kind})`);
  if (imports.join() !== 'env.memory (memory)') return `it imports ${imports.join(', ')}; only env.memory is allowed`;
  // Sections: an id byte, then the size as unsigned LEB128. 11 is data, 12 data count.
  let at = 8;
  const leb = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (!(byte & 0x80)) return value;
    }
  };
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    if (id === 11 || id === 12) return 'it has a data section, which would be written into tfjs’ heap';
    at += size;
  }
  return null;
}
