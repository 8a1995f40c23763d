import { memo } from 'react';
import type { ModelSummary } from '../../core/types';
import { ScrollingTable } from '../common/ScrollingTable';

const format = (n: number) => n.toLocaleString('en-US');

/** Layers, output shapes and parameter counts, as Keras's model.summary(). */
export const ModelSummaryTable = memo(function ModelSummaryTable({
  summary,
  imageSize,
}: {
  summary: ModelSummary;
  imageSize: number;
}) {
  return (
    <ScrollingTable label="Model summary" className="model-summary">
      <caption>
        Model at {imageSize} × {imageSize} × 1: <span data-testid="total-params">{format(summary.totalParams)}</span>{' '}
        parameters ({format(summary.trainableParams)} trainable)
      </caption>
      <thead>
        <tr>
          <th scope="col">Layer (type)</th>
          <th scope="col">Output shape</th>
          <th scope="col">Param #</th>
        </tr>
      </thead>
      <tbody>
        {summary.layers.map((layer) => (
          <tr key={layer.name}>
            <td>
              {layer.name} ({layer.className})
            </td>
            <td>
              <code>{layer.outputShape}</code>
            </td>
            <td>{format(layer.params)}</td>
          </tr>
        ))}
      </tbody>
    </ScrollingTable>
  );
});
