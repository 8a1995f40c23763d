import { ScrollingTable } from '../common/ScrollingTable';
/** A confusion-matrix cell, [true class, predicted class]. */
export type Cell = [number, number];

interface Props {
  matrix: number[][];
  classNames: string[];
  selected: Cell | null;
  /** A click on a cell shows its images in the gallery; a second click on it goes back to the misclassified ones. */
  onSelect: (cell: Cell | null) => void;
}

/** The `Confusion matrix` table; each count is a button that shows that cell's images. */
export function ConfusionTable({ matrix, classNames, selected, onSelect }: Props) {
  return (
    <ScrollingTable label="Confusion matrix" className="confusion">
      <caption>Confusion matrix (rows: true class, columns: predicted). Click a count to see those images.</caption>
      <thead>
        <tr>
          <th scope="col">true \ predicted</th>
          {classNames.map((c) => (
            <th scope="col" key={c}>
              {c}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {matrix.map((row, i) => (
          <tr key={classNames[i]}>
            <th scope="row">{classNames[i]}</th>
            {row.map((n, j) => {
              const pressed = selected !== null && selected[0] === i && selected[1] === j;
              return (
                <td key={j} className={i === j ? 'confusion__hit' : n > 0 ? 'confusion__miss' : ''}>
                  <button
                    type="button"
                    className="confusion__cell"
                    aria-label={`${classNames[i]} as ${classNames[j]}: ${n} images`}
                    aria-pressed={pressed}
                    onClick={() => onSelect(pressed ? null : [i, j])}
                  >
                    {n}
                  </button>
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </ScrollingTable>
  );
}
