import { useState } from 'react';
import { FORMAT_HINT, FORMAT_TEXT, MODEL_FORMATS, type ModelFormat } from './downloads';

interface Props {
  canDownload: boolean;
  downloading: boolean;
  onDownload: (format: ModelFormat) => void;
  canLoad: boolean;
  onLoad: (files: File[]) => void;
  /** Why the model cannot be evaluated on the loaded dataset now; null when it can. */
  evaluateHint: string | null;
  showEvaluate: boolean;
  onEvaluate: () => void;
  /** Whether the run has a finished epoch to continue from (else Resume is not offered at all). */
  showResume: boolean;
  /** Why the run cannot be resumed now; null when it can. */
  resumeHint: string | null;
  /** What Resume does, when it is not the usual (a snapshot-ensemble run cut short). */
  resumeText?: string | null;
  onResume: (moreEpochs: number) => void;
}

/** What a person can do with the model the page holds: download it, load another, evaluate it, train it further. */
export function ModelActions(props: Props) {
  const [moreEpochs, setMoreEpochs] = useState(5);
  const [format, setFormat] = useState<ModelFormat>('tfjs');
  const validMore = Number.isInteger(moreEpochs) && moreEpochs >= 1 && moreEpochs <= 500;
  return (
    <div className="model-actions">
      <p>
        <label>
          Model format{' '}
          <select value={format} onChange={(e) => setFormat(e.target.value as ModelFormat)}>
            {MODEL_FORMATS.map((f) => (
              <option key={f} value={f}>
                {FORMAT_TEXT[f]}
              </option>
            ))}
          </select>
        </label>{' '}
        <button
          type="button"
          onClick={() => props.onDownload(format)}
          disabled={!props.canDownload || props.downloading}
        >
          Download model
        </button>{' '}
        <small>{props.downloading ? 'Preparing the file…' : FORMAT_HINT[format]}</small>
      </p>
      <p>
        <label>
          Model file{' '}
          <input
            type="file"
            multiple
            accept=".zip,.json,.bin,application/zip,application/json"
            disabled={!props.canLoad}
            onChange={(e) => {
              props.onLoad(Array.from(e.target.files ?? []));
              e.target.value = '';
            }}
          />
        </label>{' '}
        <small>
          Load model: a zip from Download model (or from the PyTorch bundle), or its model.json, weights.bin and
          metadata.json together.
        </small>
      </p>
      {props.showEvaluate && (
        <p>
          <button
            type="button"
            onClick={props.onEvaluate}
            disabled={props.evaluateHint !== null}
            title={props.evaluateHint ?? undefined}
          >
            Evaluate on the loaded dataset
          </button>{' '}
          <small>
            {props.evaluateHint ?? 'Scores this model on the dataset’s validation and test images, without training.'}
          </small>
        </p>
      )}
      {props.showResume && (
        <p>
          <label>
            More epochs{' '}
            <input
              type="number"
              min={1}
              max={500}
              step={1}
              value={moreEpochs}
              onChange={(e) => setMoreEpochs(Number(e.target.value))}
            />
          </label>{' '}
          <button
            type="button"
            onClick={() => props.onResume(moreEpochs)}
            disabled={props.resumeHint !== null || !validMore}
            title={props.resumeHint ?? undefined}
          >
            Resume training
          </button>{' '}
          <small>
            {props.resumeHint ??
              props.resumeText ??
              'Continues this run from its last finished epoch, with its optimizer state; the curves go on.'}
          </small>
        </p>
      )}
    </div>
  );
}
