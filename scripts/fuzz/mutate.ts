/**
 * Mutations of a seed: bit flips, truncations, and a length field (one the seed's format knows the place of) set
 * to 0, to its maximum, or to a lie (a little more or less, or a random value).
 */

/** A length or count field of a seed: `width` bytes at `offset`. */
export interface Field {
  offset: number;
  width: 1 | 2 | 4;
  littleEndian: boolean;
}

export interface Seed {
  label: string;
  bytes: Uint8Array;
  fields: Field[];
}

export type MutationKind = 'bit flips' | 'truncation' | 'field 0' | 'field max' | 'field lie';
export const MUTATION_KINDS: readonly MutationKind[] = ['bit flips', 'truncation', 'field 0', 'field max', 'field lie'];

export interface Mutant {
  bytes: Uint8Array;
  /** What was done, to find the case again. */
  description: string;
}

export function mutate(seed: Seed, kind: MutationKind, rng: () => number): Mutant {
  const bytes = seed.bytes.slice();
  const pick = (n: number) => Math.floor(rng() * n);
  if (kind === 'truncation' || bytes.length === 0) {
    const length = pick(bytes.length);
    return {
      bytes: bytes.subarray(0, length),
      description: `${seed.label}: truncated to ${length} of ${seed.bytes.length} bytes`,
    };
  }
  if (kind === 'bit flips' || seed.fields.length === 0) {
    const flips = 1 + pick(8);
    const at: number[] = [];
    for (let i = 0; i < flips; i++) {
      const bit = pick(bytes.length * 8);
      bytes[bit >> 3] ^= 1 << (bit & 7);
      at.push(bit);
    }
    return { bytes, description: `${seed.label}: bits ${at.join(', ')} flipped` };
  }
  const field = seed.fields[pick(seed.fields.length)];
  if (field.offset + field.width > bytes.length) return { bytes, description: `${seed.label}: unchanged` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const max = 2 ** (8 * field.width) - 1;
  const old = read(view, field);
  const value = kind === 'field 0' ? 0 : kind === 'field max' ? max : lie(old, max, rng);
  write(view, field, value);
  return {
    bytes,
    description: `${seed.label}: ${field.width}-byte field at ${field.offset} set from ${old} to ${value}`,
  };
}

/** A believable wrong value: off by a little, doubled, halved, or anything. */
function lie(old: number, max: number, rng: () => number): number {
  const choices = [
    old + 1,
    old - 1,
    old + 1 + Math.floor(rng() * 64),
    old * 2,
    Math.floor(old / 2),
    Math.floor(rng() * (max + 1)),
  ];
  const value = choices[Math.floor(rng() * choices.length)];
  return Math.max(0, Math.min(max, value === old ? old + 1 : value));
}

function read(view: DataView, f: Field): number {
  if (f.width === 1) return view.getUint8(f.offset);
  return f.width === 2 ? view.getUint16(f.offset, f.littleEndian) : view.getUint32(f.offset, f.littleEndian);
}

function write(view: DataView, f: Field, value: number): void {
  if (f.width === 1) view.setUint8(f.offset, value);
  else if (f.width === 2) view.setUint16(f.offset, value, f.littleEndian);
  else view.setUint32(f.offset, value, f.littleEndian);
}

/** Fields of text (JSON): every number in it, as a place to write 0, a maximum or a lie. */
export function numberFields(text: string): { start: number; end: number }[] {
  return [...text.matchAll(/-?\d+(\.\d+)?([eE][+-]?\d+)?/g)].map((m) => ({
    start: m.index,
    end: m.index + m[0].length,
  }));
}

/** A mutant of JSON text: a number replaced by 0, a maximum or a lie; else the byte mutations. */
export function mutateJson(label: string, text: string, kind: MutationKind, rng: () => number): Mutant {
  const numbers = numberFields(text);
  if (!kind.startsWith('field') || numbers.length === 0)
    return mutate({ label, bytes: new TextEncoder().encode(text), fields: [] }, kind, rng);
  const { start, end } = numbers[Math.floor(rng() * numbers.length)];
  const old = Number(text.slice(start, end));
  const value =
    kind === 'field 0'
      ? '0'
      : kind === 'field max'
        ? ['4294967295', '1e308', '9007199254740993', '-1'][Math.floor(rng() * 4)]
        : String(lie(Math.abs(Math.round(old)), 2 ** 32 - 1, rng));
  return {
    bytes: new TextEncoder().encode(text.slice(0, start) + value + text.slice(end)),
    description: `${label}: number at ${start} set from ${old} to ${value}`,
  };
}
