import type { multiClassMetrics } from '../../eval/metrics';
import { fmt } from './formatFigures';
import { ScrollingTable } from '../common/ScrollingTable';

/** With more than two classes: precision, recall and F1 of each class (the most probable class predicted), and their macro average. */
export function PerClassMetrics({
  multi,
  classNames,
  count,
}: {
  multi: ReturnType<typeof multiClassMetrics>;
  classNames: string[];
  /** The evaluated images. */
  count: number;
}) {
  return (
    <ScrollingTable label="Per-class metrics">
      <caption>Per class (most probable class predicted)</caption>
      <thead>
        <tr>
          <th scope="col">class</th>
          <th scope="col">precision</th>
          <th scope="col">recall</th>
          <th scope="col">F1</th>
          <th scope="col">images</th>
        </tr>
      </thead>
      <tbody>
        {multi.perClass.map((c, i) => (
          <tr key={classNames[i]}>
            <th scope="row">{classNames[i]}</th>
            <td>{fmt(c.precision)}</td>
            <td>{fmt(c.recall)}</td>
            <td>{fmt(c.f1)}</td>
            <td>{c.support}</td>
          </tr>
        ))}
        <tr>
          <th scope="row">macro average</th>
          <td>{fmt(multi.macro.precision)}</td>
          <td>{fmt(multi.macro.recall)}</td>
          <td>{fmt(multi.macro.f1)}</td>
          <td>{count}</td>
        </tr>
      </tbody>
    </ScrollingTable>
  );
}
