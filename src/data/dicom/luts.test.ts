import { describe, expect, it } from 'vitest';
import { decodeDicom } from './decodeDicom';
import { writeDicom, type DicomSpec } from './dicomFiles.testutil';
import { windowed } from './pixels';

/** 16 stored values, 0..3000. */
const values = Array.from({ length: 16 }, (_, i) => i * 200);
const base: DicomSpec = { width: 4, height: 4, values, bitsStored: 12 };

/** A LUT item as dcmjs writes it: descriptor [entries, first value mapped, bits], 16-bit entries. */
function lutItem(first: number, data: number[], bits = 16, signed = false) {
  return {
    LUTDescriptor: [data.length, first, bits],
    LUTData: [Uint16Array.from(data).buffer],
    _vrMap: { LUTDescriptor: signed ? 'SS' : 'US', LUTData: 'OW' },
  };
}

async function greyOf(spec: DicomSpec) {
  return [...(await decodeDicom(await writeDicom(spec), spec.width)).pixels];
}

describe('Modality LUT Sequence', () => {
  // A table that maps stored values 1000..2999 to 0..1999 squared down: not what slope and intercept could do.
  const table = Array.from({ length: 2000 }, (_, i) => Math.round((i * i) / 2000));
  const modality = (v: number) => table[Math.min(1999, Math.max(0, v - 1000))];

  it('maps stored values through its table instead of rescale slope and intercept, then the window', async () => {
    const spec: DicomSpec = {
      ...base,
      slope: 5,
      intercept: -3000,
      windowCenter: 1000,
      windowWidth: 2000,
      extra: { ModalityLUTSequence: [{ ...lutItem(1000, table), ModalityLUTType: 'US' }] },
    };
    const expected = values.map((v) =>
      Math.round(Math.min(255, Math.max(0, windowed(modality(v), 1000, 2000, 'LINEAR')))),
    );
    expect(await greyOf(spec)).toEqual(expected);
  });

  it('without a window, spans the range of its output', async () => {
    const spec: DicomSpec = { ...base, extra: { ModalityLUTSequence: [lutItem(1000, table)] } };
    const out = values.map(modality);
    const low = Math.min(...out);
    const high = Math.max(...out);
    expect(await greyOf(spec)).toEqual(out.map((v) => Math.round(((v - low) / (high - low)) * 255)));
  });

  it('reads a signed first value for signed images', async () => {
    const signedValues = values.map((v) => v - 1500);
    const spec: DicomSpec = {
      ...base,
      values: signedValues,
      signed: true,
      windowCenter: 1000,
      windowWidth: 2000,
      extra: { ModalityLUTSequence: [lutItem(-500, table, 16, true)] },
    };
    const expected = signedValues.map((v) =>
      Math.round(
        Math.min(255, Math.max(0, windowed(table[Math.min(1999, Math.max(0, v + 500))], 1000, 2000, 'LINEAR'))),
      ),
    );
    expect(await greyOf(spec)).toEqual(expected);
  });

  it('is left out when its table is shorter than its descriptor says: slope and intercept apply', async () => {
    const broken = { ...lutItem(0, table.slice(0, 10)), LUTDescriptor: [2000, 0, 16] };
    const withBroken = { ...base, slope: 2, intercept: 10, extra: { ModalityLUTSequence: [broken] } };
    expect(await greyOf(withBroken)).toEqual(await greyOf({ ...base, slope: 2, intercept: 10 }));
  });
});

describe('VOI LUT Sequence', () => {
  it('takes the first VOI LUT over the window, after rescale', async () => {
    // 8-bit entries over modality values -1000..1999: a staircase.
    const table = Array.from({ length: 3000 }, (_, i) => Math.floor(i / 12) & 0xff);
    const spec: DicomSpec = {
      ...base,
      slope: 1,
      intercept: -1000,
      windowCenter: 0,
      windowWidth: 10,
      extra: { VOILUTSequence: [lutItem(-1000, table, 8, true), lutItem(0, [0, 0], 8)] },
    };
    const expected = values.map((v) => {
      const at = Math.min(2999, Math.max(0, v - 1000 + 1000));
      return Math.round((table[at] * 255) / 255);
    });
    expect(await greyOf(spec)).toEqual(expected);
  });

  it('is inverted for MONOCHROME1', async () => {
    const table = Array.from({ length: 4096 }, (_, i) => i);
    const spec: DicomSpec = { ...base, photometric: 'MONOCHROME1', extra: { VOILUTSequence: [lutItem(0, table, 12)] } };
    expect(await greyOf(spec)).toEqual(values.map((v) => 255 - Math.round((v * 255) / 4095)));
  });
});
