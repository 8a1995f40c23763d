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

  it('Resume: a seed-ensemble run cut short goes on in its member; one whose last member stopped early is done', () => {
    // 3 members of 4 epochs: the run's 12; cut short in the second member.
    const history = { ...run.history, epochs: 12, epochsDone: 6 };
    const settings = { ...run.settings, seedModels: 3, epochs: 4 };
    const interrupted = { ...run, status: 'training', history, settings } as SavedRun;
    expect(resumeProblem(interrupted, view, true, false) ?? '').not.toMatch(/ensemble|trained further/);
    expect(snapshotResumeText(interrupted)).toMatch(
      /in the member it was in \(4 epochs a member; More epochs is not used/,
    );
    // Its last member stopped early at the run's epoch 11 of 12: the stacked model is done all the same.
    const ensemble = { kind: 'seeds', members: 3, predictTimeRatio: 3, trainingTimeRatio: 2.7 } as const;
    const done = { ...run, history: { ...history, epochsDone: 11 }, settings, ensemble } as SavedRun;
    expect(resumeProblem(done, view, true, false)).toMatch(/seed ensemble: it cannot be trained further/);
  });

  it('Evaluate: no data, another size, other classes; else nothing in the way', () => {
    expect(evaluateProblem(run, null, 64, true)).toMatch(/Load a dataset/);
    expect(evaluateProblem(run, view, 150, true)).toMatch(/takes 150 px/);
    expect(evaluateProblem(run, { ...view, classNames: ['x', 'y'] }, 64, true)).toMatch(/not the model's/);
    expect(evaluateProblem(run, view, 64, true)).toBeNull();
  });
});
