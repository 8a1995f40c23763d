import type { ComponentProps } from 'react';
import { AugmentedSamples } from './training/AugmentedSamples';
import { ModelSummaryTable } from './training/ModelSummaryTable';
import { SettingsForm } from './training/SettingsForm';
import { MODEL_DEFAULT_REASON, modelDescription } from './training/modelText';
import type { TrainingView } from './training/trainingState';

type Props = ComponentProps<typeof SettingsForm> & {
  numClasses: number;
  /** The worker's augmented samples of the loaded dataset; null without a dataset. */
  augmentation: ComponentProps<typeof AugmentedSamples> | null;
  modelSummary: TrainingView['modelSummary'];
};

/** The page's section 3: the chosen model in words, the settings with Train / Stop, augmented samples, the model summary. */
export function ModelSection({ numClasses, augmentation, modelSummary, ...form }: Props) {
  return (
    <section className="panel" aria-labelledby="model-heading">
      <h2 id="model-heading">3. Model and settings</h2>
      <p data-testid="model-description">{modelDescription(form.settings.model, numClasses)}</p>
      <p>{MODEL_DEFAULT_REASON}</p>
      <SettingsForm {...form} />
      {augmentation && <AugmentedSamples {...augmentation} />}
      {modelSummary && <ModelSummaryTable summary={modelSummary.summary} imageSize={modelSummary.imageSize} />}
    </section>
  );
}
