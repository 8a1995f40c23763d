/**
 * The entries of what was dropped: a zip's, or loose files' (capped like an archive's).
 */
import { listZip, looksLikeZip, type ArchiveEntry, type ArchiveLimits } from './archive';
import { capLooseFiles, listFiles } from './looseFiles';

/** A zip when the source is one Blob, or one file that is a zip; loose files otherwise. */
export async function listSource(
  source: Blob | File[] | ArchiveEntry[],
  limits: ArchiveLimits | undefined,
  onProgress: (done: number, total: number) => void,
): Promise<ArchiveEntry[]> {
  if (source instanceof Blob) return listZip(source, limits, onProgress);
  if (source.length === 1) {
    const only = source[0];
    const blob = only instanceof Blob ? only : await only.read();
    const name = only instanceof File ? only.name : only instanceof Blob ? '' : only.path;
    if (name.toLowerCase().endsWith('.zip') || (await looksLikeZip(blob))) return listZip(blob, limits, onProgress);
  }
  return capLooseFiles(
    source.map((item) => (item instanceof Blob ? listFiles([item])[0] : item)),
    limits,
  );
}
