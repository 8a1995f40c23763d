/**
 * The PyTorch bundle with the machine's PyTorch (skipped without it; the fixture is pytorchFixture.testutil.ts). A seed
 * ensemble trained by train.py: member k is exactly the plain run of seed + 1009 k, stacked as the page stacks it; what
 * train.py refuses in words.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelMetadata } from '../core/types';
import { oodFeatureLayers } from '../eval/outOfDistribution';
import { checkOodDetector } from '../eval/oodDetectorCheck';
import {
  hasTorch,
  loadZipInTfjs,
  PYTHON,
  readZip,
  refusal,
  rows,
  run,
  TOLERANCE,
  torchPredict,
  type TorchPrediction,
  torchrunTwo,
  useBundle,
} from './pytorchFixture.testutil';
import { PAGE_OOD_LAYERS, layerSizeOf, maxDifference, tfjsOodLayers, tfjsVsTorch } from './pytorchParity.testutil';

describe.skipIf(!hasTorch)('the PyTorch bundle with PyTorch: seed ensembles', () => {
  const bundle = useBundle();

  it('trains a seed ensemble of 2 into one model.zip: member k is the plain run of seed + 1009 k', async () => {
    const common = ['--data', bundle.dataDir, '--epochs', '2', '--patience', '0', '--workers', '0'];
    const out = join(bundle.root, 'out-seeds');
    const log = run(
      PYTHON,
      ['train.py', ...common, '--seed', '5', '--seed-models', '2', '--out', out],
      bundle.bundleDir,
    );
    expect(log).toContain('Seed ensemble: member 1 of 2, seed 5.');
    expect(log).toContain('Seed ensemble: member 2 of 2, seed 1014.');
    expect(log).toContain('Stacked the 2 members into one model');
    // Each member's epochs in its own span of the run's, as the page shows them.
    const history = readFileSync(join(out, 'history.csv'), 'utf8').trim().split('\n').slice(1);
    expect(history.map((line) => line.split(',')[0])).toEqual(['1', '2', '3', '4']);
    const files = await readZip(join(out, 'model.zip'));
    const metadata = JSON.parse(new TextDecoder().decode(files.get('metadata.json'))) as { ensemble?: unknown };
    expect(metadata.ensemble).toEqual({ kind: 'seeds', members: 2 });
    const model = await loadZipInTfjs(files);
    expect(model.layers.at(-1)!.name).toBe('ensemble_average');
    const images = rows.filter((_, i) => i % 3 === 0).map((row) => join(bundle.dataDir, row.path));
    const torch = torchPredict(join(out, 'model.zip'), images) as (TorchPrediction & {
      memberProbabilities: number[];
    })[];
    expect(tfjsVsTorch(model, torch)).toBeLessThan(TOLERANCE);
    model.dispose();
    // Member 0 is the plain run of seed 5, member 1 that of seed 1014: the same weights, so the same probabilities.
    for (const [k, seed] of [
      [0, 5],
      [1, 1014],
    ]) {
      const single = join(bundle.root, `out-seed-${seed}`);
      run(PYTHON, ['train.py', ...common, '--seed', String(seed), '--out', single], bundle.bundleDir);
      const plain = torchPredict(join(single, 'model.zip'), images);
      expect(
        maxDifference(
          plain.map((p) => p.probabilities),
          torch.map((t) => [t.memberProbabilities[k]]),
        ),
      ).toBeLessThan(1e-5);
    }
    const spread = Math.max(...torch.map((t) => Math.abs(t.memberProbabilities[0] - t.memberProbabilities[1])));
    expect(spread).toBeGreaterThan(1e-3);

    // Under torchrun too: each member's own DistributedDataParallel wrapper, the stacked model written by rank 0.
    // With `ood` layers in settings.json: the feature ensemble without the image's detail (OOD_LAYERS alone).
    const layersSettings = join(bundle.root, 'settings-ood-layers.json');
    const bundled = JSON.parse(readFileSync(join(bundle.bundleDir, 'settings.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    writeFileSync(layersSettings, JSON.stringify({ ...bundled, ood: 'layers' }));
    const distributed = join(bundle.root, 'out-seeds-ddp');
    const ddpLog = torchrunTwo([
      '--data',
      bundle.dataDir,
      '--epochs',
      '1',
      '--seed-models',
      '2',
      '--workers',
      '0',
      '--settings',
      layersSettings,
      '--out',
      distributed,
    ]);
    expect(ddpLog).toContain('Stacked the 2 members into one model');
    const ddpFiles = await readZip(join(distributed, 'model.zip'));
    const ddpMetadata = JSON.parse(new TextDecoder().decode(ddpFiles.get('metadata.json'))) as ModelMetadata;
    expect(ddpMetadata).toMatchObject({ ensemble: { kind: 'seeds', members: 2 } });
    const ddpModel = await loadZipInTfjs(ddpFiles);
    const ddpDetector = checkOodDetector(ddpMetadata.outOfDistribution, {
      layerSize: layerSizeOf(ddpModel),
      numClasses: 2,
    });
    expect(oodFeatureLayers(ddpDetector)).toEqual(tfjsOodLayers(ddpModel, PAGE_OOD_LAYERS));
    ddpModel.dispose();
  }, 240_000);

  it('refuses in words a seed ensemble it cannot train', () => {
    const no = join(bundle.root, 'no');
    const both = refusal([
      '--data',
      bundle.dataDir,
      '--seed-models',
      '2',
      '--snapshots',
      '2',
      '--epochs',
      '2',
      '--out',
      no,
    ]);
    expect(both).toContain('seed ensemble of 2 and a snapshot ensemble of 2 cannot be combined');
    expect(refusal(['--data', bundle.dataDir, '--seed-models', '6', '--out', no])).toContain('from 1 to 5 (got 6)');
    expect(existsSync(no)).toBe(false);
  }, 60_000);
});
