import type { BinaryMetrics } from '../../eval/metrics';
import type { SplitReport } from '../../eval/report';
import { fmt, fmtInterval } from './formatFigures';
import { ScrollingTable } from '../common/ScrollingTable';

interface Props {
  /** The figures at the slider's threshold. */
  metrics: BinaryMetrics;
  /** Accuracy as the page decides (the most probable class for more than two). */
  accuracy: number;
  loss: number;
  count: number;
  splitName: string;
  positiveName: string;
  /** The worker's report of the shown split (its intervals); null while it is on its way. */
  shown: SplitReport | null;
  /** Whether the slider is at the reported threshold: the intervals hold there only (AUC's always). */
  atOperatingPoint: boolean;
  thresholdText: string;
}

/** The `Test metrics` table: each figure at the current threshold, with its 95% interval at the reported threshold. */
export function MetricsTable({
  metrics,
  accuracy,
  loss,
  count,
  splitName,
  positiveName,
  shown,
  atOperatingPoint,
  thresholdText,
}: Props) {
  const interval = (name: keyof SplitReport['intervals']) =>
    shown && (atOperatingPoint || name === 'auc') ? shown.intervals[name] : null;
  return (
    <ScrollingTable label="Test metrics" className="metrics">
      <caption>
        On the {splitName} split ({count} images), positive class {positiveName}, threshold {thresholdText}
        {shown ? `; 95% intervals in brackets (bootstrap over ${shown.units} ${shown.unit})` : ''}
      </caption>
      <tbody>
        <Row name="Accuracy" value={accuracy} interval={interval('accuracy')} />
        <Row name="AUC" value={metrics.auc} interval={interval('auc')} />
        <Row name="Sensitivity" value={metrics.sensitivity} interval={interval('sensitivity')} />
        <Row name="Specificity" value={metrics.specificity} interval={interval('specificity')} />
        <Row name="Precision" value={metrics.precision} interval={interval('precision')} />
        <Row name="F1" value={metrics.f1} />
        <Row name="Loss" value={loss} />
      </tbody>
    </ScrollingTable>
  );
}

function Row({ name, value, interval }: { name: string; value: number; interval?: [number, number] | null }) {
  return (
    <tr>
      <th scope="row">{name}</th>
      <td data-low={interval?.[0]} data-high={interval?.[1]}>
        {fmt(value)}
        {fmtInterval(interval)}
      </td>
    </tr>
  );
}
