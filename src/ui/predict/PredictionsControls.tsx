import { DisplayWindowControl } from '../common/DisplayWindowControl';
import { RangeField } from '../common/FormFields';
import { saveBlob } from '../runs/downloadModel';
import { predictionsCsv, type Decision, type PredictionRow } from './predictionRows';

interface Props {
  classNames: string[];
  /** The rows shown (filtered and sorted): what the CSV holds. */
  visible: PredictionRow[];
  decision: Decision;
  /** Only the images predicted this class; null: all. */
  onlyClass: number | null;
  onOnlyClass: (classIndex: number | null) => void;
  showHeat: boolean;
  onShowHeat: (show: boolean) => void;
  opacity: number;
  onOpacity: (opacity: number) => void;
}

/** The Predictions table's controls: which predictions to show, the heatmap and its opacity, the display window, the CSV. */
export function PredictionsControls({
  classNames,
  visible,
  decision,
  onlyClass,
  onOnlyClass,
  showHeat,
  onShowHeat,
  opacity,
  onOpacity,
}: Props) {
  return (
    <div className="predict__controls">
      <label>
        Show{' '}
        <select
          value={onlyClass ?? ''}
          onChange={(e) => onOnlyClass(e.target.value === '' ? null : Number(e.target.value))}
        >
          <option value="">all predictions</option>
          {classNames.map((c, i) => (
            <option key={c} value={i}>
              predicted {c}
            </option>
          ))}
        </select>
      </label>{' '}
      <label>
        <input type="checkbox" checked={showHeat} onChange={(e) => onShowHeat(e.target.checked)} /> Show heatmap
      </label>{' '}
      <RangeField label="Heatmap opacity" min={0} max={1} step={0.05} value={opacity} onChange={onOpacity} />{' '}
      <DisplayWindowControl name="Display window: predictions" />{' '}
      <button
        type="button"
        onClick={() =>
          saveBlob(new Blob([predictionsCsv(visible, classNames, decision)], { type: 'text/csv' }), 'predictions.csv')
        }
      >
        Download predictions (CSV)
      </button>
    </div>
  );
}
