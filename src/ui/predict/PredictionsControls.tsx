import { DisplayWindowControl } from '../common/DisplayWindowControl';
import { RangeField } from '../common/FormFields';
import { saveBlob } from '../runs/downloadModel';
import { ALL_ROWS, predictionsCsv, type Decision, type PredictionRow, type RowFilter } from './predictionRows';

interface Props {
  classNames: string[];
  /** The rows shown (filtered and sorted): what the CSV holds. */
  visible: PredictionRow[];
  decision: Decision;
  /** Whether the model judged the images (like or unlike its training data): the filter offers those then. */
  judged: boolean;
  filter: RowFilter;
  onFilter: (filter: RowFilter) => void;
  showHeat: boolean;
  onShowHeat: (show: boolean) => void;
  opacity: number;
  onOpacity: (opacity: number) => void;
}

const filterValue = (filter: RowFilter) => (filter.only === 'class' ? `class-${filter.classIndex}` : filter.only);

function filterOf(value: string): RowFilter {
  if (value === 'unlike' || value === 'like') return { only: value };
  const classIndex = /^class-(\d+)$/.exec(value);
  return classIndex ? { only: 'class', classIndex: Number(classIndex[1]) } : ALL_ROWS;
}

/** The Predictions table's controls: which predictions to show, the heatmap and its opacity, the display window, the CSV. */
export function PredictionsControls({
  classNames,
  visible,
  decision,
  judged,
  filter,
  onFilter,
  showHeat,
  onShowHeat,
  opacity,
  onOpacity,
}: Props) {
  return (
    <div className="predict__controls">
      <label>
        Show{' '}
        <select value={filterValue(filter)} onChange={(e) => onFilter(filterOf(e.target.value))}>
          <option value="all">all predictions</option>
          {classNames.map((c, i) => (
            <option key={c} value={`class-${i}`}>
              predicted {c}
            </option>
          ))}
          {judged && <option value="unlike">unlike the training data</option>}
          {judged && <option value="like">like the training data</option>}
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
