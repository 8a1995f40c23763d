/** Entries read by slicing the archive (the decode workers' way in): exact bytes, caps and damaged streams. */
import { describe, expect, it } from 'vitest';
import { listZip } from './archive';
import { EntryTooLargeError } from './zipErrors';
import { readEntryRef } from './zipEntryBytes';
import { buildRawZip } from './rawZip.testutil';
import { blobOf, bytes, makeZip } from './archiveFixtures.testutil';

describe("entries read by slicing (the decode workers' way in)", () => {
  it('gives stored and deflated entries a location, and reads exactly the bytes zip.js reads', async () => {
    const stored = bytes(5000, 3);
    const deflated = new Uint8Array(5000).fill(9);
    const zip = await makeZip({ 'train/a/stored.jpg': stored }, { level: 0 });
    const both = await makeZip({ 'train/a/stored.jpg': stored, 'train/a/deflated.png': deflated }, { level: 6 });
    const [entry] = await listZip(blobOf(zip));
    expect(entry.zip).toMatchObject({ size: 5000, path: 'train/a/stored.jpg' });
    expect(await readEntryRef(entry.zip!)).toEqual(stored);
    expect(new Uint8Array(await (await entry.read()).arrayBuffer())).toEqual(stored);
    const listed = await listZip(blobOf(both));
    const deflatedEntry = listed.find((e) => e.path.endsWith('deflated.png'))!;
    expect(deflatedEntry.zip).toMatchObject({ method: 8, size: 5000 });
    expect(deflatedEntry.zip!.compressedSize).toBeLessThan(100);
    expect(await readEntryRef(deflatedEntry.zip!)).toEqual(deflated);
    expect(new Uint8Array(await (await deflatedEntry.read()).arrayBuffer())).toEqual(deflated);
  });

  it('stops inflating an entry that inflates to more than it declares', async () => {
    const zip = buildRawZip([
      { name: 'train/a/liar.png', content: new Uint8Array(64 * 1024), deflate: true, declaredSize: 1000 },
    ]);
    const [entry] = await listZip(blobOf(zip));
    await expect(readEntryRef(entry.zip!)).rejects.toThrow(/inflates to more than the 1000 bytes its header declares/);
    await expect(readEntryRef(entry.zip!)).rejects.toBeInstanceOf(EntryTooLargeError);
  });

  it('says a corrupt deflate stream is damaged', async () => {
    const content = bytes(5000, 11);
    const zip = buildRawZip([{ name: 'train/a/x.png', content, deflate: true }]);
    const [entry] = await listZip(blobOf(zip));
    const damagedZip = zip.slice();
    // Garbage in the middle of the compressed data.
    damagedZip.fill(0xff, entry.zip!.offset + 60, entry.zip!.offset + 90);
    await expect(readEntryRef({ ...entry.zip!, archive: blobOf(damagedZip) })).rejects.toThrow(/its data is damaged/);
  });

  it('reads Zip64 stored entries by slicing too', async () => {
    const data = bytes(3000, 5);
    const [entry] = await listZip(blobOf(await makeZip({ 'train/a/x.jpg': data }, { level: 0, zip64: true })));
    expect(await readEntryRef(entry.zip!)).toEqual(data);
  });

  it('says so when the local header is not where the table of contents points', async () => {
    const data = bytes(3000);
    const [entry] = await listZip(blobOf(await makeZip({ 'train/a/x.jpg': data }, { level: 0 })));
    await expect(readEntryRef({ ...entry.zip!, offset: entry.zip!.offset + 1 })).rejects.toThrow(
      /archive is damaged or incomplete/,
    );
  });

  it('refuses a stored entry over the per-image cap', async () => {
    const [entry] = await listZip(blobOf(await makeZip({ 'train/a/x.jpg': bytes(3000) }, { level: 0 })));
    await expect(readEntryRef({ ...entry.zip!, maxEntryBytes: 1000 })).rejects.toBeInstanceOf(EntryTooLargeError);
  });
});
