import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../core/settings';
import type { SavedRun } from '../../storage/runsDb';
import type { DatasetView } from '../dataset/useDataset';
import { evaluateProblem, resumeProblem, snapshotResumeText } from './runHints';

const run = {
  status: 'done',
  models: ['checkpoint', 'model'],
  datasetName: 'chest_xray.zip',
  classNames: ['NORMAL', 'PNEUMONIA'],
  settings: { ...DEFAULT_SETTINGS, imageSize: 64 },
} as unknown as SavedRun;
const view = { size: 64, classNames: ['NORMAL', 'PNEUMONIA'] } as unknown as DatasetView;

describe('why Resume and Evaluate wait', () => {
  it('Resume: busy, no run, no checkpoint, no data in the worker, other classes', () => {
    expect(resumeProblem(run, view, true, true)).toMatch(/Wait/);
    expect(resumeProblem(null, view, true, false)).toMatch(/Train a model/);
    expect(resumeProblem({ ...run, models: ['model'] }, view, true, false)).toMatch(/no finished epoch/);
    expect(resumeProblem(run, view, false, false)).toMatch(/Load the run's dataset \(chest_xray\.zip\)/);
    expect(resumeProblem(run, { ...view, classNames: ['a', 'b'] }, true, false)).toMatch(/classes are not the run's/);
  });

  it('Resume: a snapshot-ensemble run cut short resumes; a finished ensemble is refused in words', () => {
    const history = { ...run.history, epochs: 3, epochsDone: 2 };
    const interrupted = {
      ...run,
      status: 'training',
      history,
      settings: { ...run.settings, snapshots: 3 },
    } as SavedRun;
    expect(resumeProblem(interrupted, view, true, false) ?? '').not.toMatch(/snapshot|trained further/);
    const ensemble = { kind: 'snapshot', members: 2, predictTimeRatio: 3 } as const;
    const finished = { ...run, history: { ...history, epochsDone: 3 }, ensemble } as SavedRun;
    expect(resumeProblem(finished, view, true, false)).toMatch(/snapshot ensemble: it cannot be trained further/);
    expect(resumeProblem(run, view, true, false) ?? '').not.toMatch(/snapshot ensemble/);
    expect(snapshotResumeText(interrupted)).toMatch(/to its 3 planned epochs \(More epochs is not used\)/);
    expect(snapshotResumeText(finished)).toBeNull();
  });

  it('Evaluate: no data, another size, other classes; else nothing in the way', () => {
    expect(evaluateProblem(run, null, 64, true)).toMatch(/Load a dataset/);
    expect(evaluateProblem(run, view, 150, true)).toMatch(/takes 150 px/);
    expect(evaluateProblem(run, { ...view, classNames: ['x', 'y'] }, 64, true)).toMatch(/not the model's/);
    expect(evaluateProblem(run, view, 64, true)).toBeNull();
  });
});
