import { DatasetError } from './errors';
import { DEFAULT_ARCHIVE_LIMITS, type ArchiveEntry, type ArchiveLimits } from './archive';
import { formatBytes } from '../core/formatUnits';

/*
 * Loose files and dropped folders: the other ways a dataset arrives besides a zip. They come out as
 * the same lazily read ArchiveEntry a zip's entries are, with the same size caps.
 */

/**
 * The zip caps applied to loose files and dropped folders: a file over the per-image cap is skipped
 * as 'too-large' (it would be read whole into memory), and a selection over the total cap is refused.
 */
export function capLooseFiles(entries: ArchiveEntry[], limits: ArchiveLimits = {}): ArchiveEntry[] {
  const { maxEntryBytes, maxTotalBytes } = { ...DEFAULT_ARCHIVE_LIMITS, ...limits };
  let total = 0;
  for (const entry of entries) total += entry.size;
  if (total > maxTotalBytes) {
    throw new DatasetError(
      `These files add up to ${formatBytes(total)}, more than the ${formatBytes(maxTotalBytes)} that can be read here. Choose a smaller part of the dataset.`,
    );
  }
  return entries.map((entry) =>
    entry.size > maxEntryBytes && !entry.skip
      ? {
          ...entry,
          skip: {
            reason: 'too-large',
            detail: `${formatBytes(entry.size)}, over the ${formatBytes(maxEntryBytes)} limit for one image`,
          },
        }
      : entry,
  );
}

/** Loose files dropped or picked (with `webkitdirectory`, `webkitRelativePath` holds the folder path). */
export function listFiles(files: File[]): ArchiveEntry[] {
  return files.map((file) => ({
    path: file.webkitRelativePath || file.name,
    directory: false,
    size: file.size,
    read: () => Promise.resolve(file),
  }));
}

/**
 * The files of a drag-and-drop, folders walked recursively. `dataTransfer.files` flattens a dropped
 * folder into one useless entry, so folders are read through `webkitGetAsEntry`.
 * Call it synchronously inside the drop handler: the items are emptied once the handler returns
 * (the walk itself may run on afterwards).
 */
export function entriesFromDrop(items: ArrayLike<DataTransferItem>): Promise<ArchiveEntry[]> {
  const roots: FileSystemEntry[] = [];
  for (let i = 0; i < items.length; i++) {
    const entry = items[i].kind === 'file' ? items[i].webkitGetAsEntry() : null;
    if (entry) roots.push(entry);
  }
  return walk(roots);
}

async function walk(roots: FileSystemEntry[]): Promise<ArchiveEntry[]> {
  const out: ArchiveEntry[] = [];
  const pending = [...roots];
  while (pending.length > 0) {
    const entry = pending.pop()!;
    if (entry.isDirectory) {
      pending.push(...(await readAllEntries(entry as FileSystemDirectoryEntry)));
    } else if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      out.push({
        path: entry.fullPath.replace(/^\/+/, ''),
        directory: false,
        size: file.size,
        read: () => Promise.resolve(file),
      });
    }
  }
  return out;
}

/** `readEntries` returns at most 100 entries a call (Chrome): call it until it returns none. */
async function readAllEntries(directory: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = directory.createReader();
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}
