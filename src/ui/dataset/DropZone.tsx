import { useState, type ChangeEvent, type DragEvent } from 'react';
import type { ArchiveEntry } from '../../data/archive';
import { entriesFromDrop } from '../../data/looseFiles';

interface Props {
  disabled: boolean;
  onFiles: (files: File[]) => void;
  /** A dropped folder, already walked into its files. */
  onFolder: (name: string, entries: Promise<ArchiveEntry[]>) => void;
  onDemo: () => void;
  /** A labels table picked (CSV or TSV). */
  onLabels: (file: File) => void;
  /** The labels file in use, if any. */
  labelsName: string | null;
  onClearLabels: () => void;
}

/** The dataset input: a zip (or several image files) dropped or picked, or the synthetic demo set. */
export function DropZone({ disabled, onFiles, onFolder, onDemo, onLabels, labelsName, onClearLabels }: Props) {
  const [over, setOver] = useState(false);

  const onPicked = (event: ChangeEvent<HTMLInputElement>) => {
    const files = [...(event.target.files ?? [])];
    // Cleared so that picking the same file again loads it again.
    event.target.value = '';
    if (files.length > 0) onFiles(files);
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    if (disabled) return;
    // Folders must be read from the drop's items, synchronously inside the event.
    const items = event.dataTransfer.items;
    const folder =
      items.length > 0
        ? [...items].map((item) => item.webkitGetAsEntry?.()).find((entry) => entry?.isDirectory)
        : undefined;
    if (folder) {
      onFolder(folder.name, entriesFromDrop(items));
      return;
    }
    const files = [...event.dataTransfer.files];
    if (files.length > 0) onFiles(files);
  };

  return (
    <section className="panel" aria-labelledby="data-heading">
      <h2 id="data-heading">1. Data</h2>
      <div
        className={`dropzone${over ? ' dropzone--over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <label className="dropzone__label">
          <span>
            Drop a <strong>.zip</strong> or a <strong>folder</strong> of labelled images here, or <u>choose a zip</u>.
            <br />
            <small>
              Folders name the classes: <code>chest_xray/train/NORMAL/*.jpeg</code>,{' '}
              <code>chest_xray/test/PNEUMONIA/*.jpeg</code>… Nothing leaves this tab.
            </small>
          </span>
          <input
            type="file"
            aria-label="Dataset"
            accept=".zip,application/zip,image/*"
            multiple
            disabled={disabled}
            onChange={onPicked}
          />
        </label>
        <label className="dropzone__folder">
          or choose a folder:{' '}
          <input
            type="file"
            aria-label="Dataset folder"
            // @ts-expect-error: webkitdirectory is not in React's types, but every current browser supports it.
            webkitdirectory=""
            disabled={disabled}
            onChange={onPicked}
          />
        </label>
      </div>
      <p className="labels-file">
        <label>
          Labels in a table instead of folders (CSV or TSV with columns <code>path</code> or <code>file</code>,{' '}
          <code>label</code>, and optionally <code>patient</code> and <code>split</code>):{' '}
          <input
            type="file"
            aria-label="Labels file"
            accept=".csv,.tsv,.txt,text/csv,text/tab-separated-values,text/plain"
            disabled={disabled}
            onChange={(event) => {
              const file = event.target.files?.[0];
              event.target.value = '';
              if (file) onLabels(file);
            }}
          />
        </label>{' '}
        {labelsName && (
          <span data-testid="labels-file">
            Using <code>{labelsName}</code>: it labels the files it names; others are left out.{' '}
            <button type="button" onClick={onClearLabels} disabled={disabled}>
              Stop using the labels file
            </button>
          </span>
        )}
      </p>
      <p>
        No dataset at hand?{' '}
        <button type="button" onClick={onDemo} disabled={disabled}>
          Try demo dataset
        </button>{' '}
        <small>(synthetic two-class X-ray-like images, made in your browser)</small>
      </p>
    </section>
  );
}
