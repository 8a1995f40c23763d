/**
 * The PyTorch bundle's README.md (pytorchBundle.ts): what the files are, the dataset's splits, the page's settings
 * as train.py will use them, and how to run it on one machine or a cluster.
 */
import { SPLIT_NAMES, type ManifestRow, type Settings } from '../core/types';

/** "train 4,695 images (NORMAL 1,207, PNEUMONIA 3,488; 2,570 patients)", a line a split. */
function splitLines(classNames: readonly string[], rows: readonly ManifestRow[]): string[] {
  const count = (n: number) => n.toLocaleString('en-US');
  return SPLIT_NAMES.flatMap((split) => {
    const ofSplit = rows.filter((row) => row.split === split);
    if (ofSplit.length === 0) return [`- ${split}: none`];
    const perClass = classNames.map(
      (name) => `${name} ${count(ofSplit.filter((row) => row.className === name).length)}`,
    );
    const groups = new Set(ofSplit.flatMap((row) => (row.group === null ? [] : [row.group])));
    const patients = groups.size > 0 ? `; ${count(groups.size)} patient${groups.size === 1 ? '' : 's'}` : '';
    return [
      `- ${split}: ${count(ofSplit.length)} image${ofSplit.length === 1 ? '' : 's'} (${perClass.join(', ')}${patients})`,
    ];
  });
}

function augmentationText(settings: Settings): string {
  const a = settings.augmentation;
  const parts = [
    a.rotation > 0 ? `rotation ±${a.rotation}°` : '',
    a.zoom > 0 ? `zoom ±${a.zoom}` : '',
    a.shift > 0 ? `shift ±${a.shift}` : '',
    a.shear > 0 ? `shear ±${a.shear}°` : '',
    a.brightness > 0 ? `brightness ±${a.brightness}` : '',
    a.horizontalFlip ? 'horizontal flip' : '',
    a.contrast > 0 ? `contrast ±${a.contrast}` : '',
    a.gamma > 0 ? `gamma ${a.gamma}` : '',
    a.blur > 0 ? `blur sigma ${a.blur} px` : '',
    a.noise > 0 ? `noise up to ${a.noise}` : '',
    a.crop > 0 ? `half the images cropped to ${Math.round((1 - a.crop) * 100)}–100% of the side` : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/** The training-recipe variants that are on (label smoothing, mixup, weight decay, ensembles), as the README's words. */
function recipeText(settings: Settings): string {
  const parts = [
    settings.labelSmoothing > 0 ? `label smoothing ${settings.labelSmoothing}` : '',
    settings.mixup > 0 ? `mixup alpha ${settings.mixup}` : '',
    settings.weightDecay > 0 ? `decoupled weight decay ${settings.weightDecay}` : '',
    (settings.snapshots ?? 1) > 1 ? `a snapshot ensemble of ${settings.snapshots} members` : '',
    (settings.seedModels ?? 1) > 1 ? `a seed ensemble of ${settings.seedModels} members` : '',
  ].filter(Boolean);
  return parts.length > 0 ? `${parts.join(', ')}, ` : '';
}

/** The members of the snapshot ensemble the settings ask for; 1 (a single model) when they name none. */
export function snapshotsOf(settings: Settings): number {
  const value = (settings as unknown as Record<string, unknown>).snapshots;
  return typeof value === 'number' && Number.isInteger(value) && value > 1 ? value : 1;
}

export function bundleReadme(settings: Settings, classNames: readonly string[], rows: readonly ManifestRow[]): string {
  const example = rows[0].path;
  const top = example.includes('/') ? example.slice(0, example.indexOf('/')) : null;
  const hasTest = rows.some((row) => row.split === 'test');
  const snapshots = snapshotsOf(settings);
  const ensembleSetting = snapshots > 1 ? `, a snapshot ensemble of ${snapshots} (\`--snapshots\`, below)` : '';
  const thisExport = snapshots === 1 ? 'this export: 1, a single model' : `this export: ${snapshots}`;
  return `# Training the X-ray trainer's model with PyTorch

This bundle trains the page's network on your whole dataset outside the browser, on one machine or many, and gives
back a \`model.zip\` that the page's **Load model** takes (as it takes the page's own download).

| file | what it is |
| --- | --- |
| \`manifest.csv\` | every image the page used: \`path\` inside your dataset, \`split\` (train, validation, test), \`class\`, patient \`group\` (empty when the file name names none). The splits are the page's, patient-grouped: the run uses exactly them. |
| \`train.py\` | the training script: plain PyTorch (1.13 or 2.x). \`python train.py --help\` lists its options. |
| \`xray_trainer/\` | the modules \`train.py\` runs, one job each (the network, the model format, images, augmentation, loss, metrics, the out-of-distribution detector, training, ...): keep the folder beside \`train.py\`. |
| \`settings.json\` | the page's settings when you exported, and \`classNames\` (the model's output order). The script reads them; its options override them. |
| \`README.md\` | this file. |

What the manifest holds (${rows.length.toLocaleString('en-US')} images, classes ${classNames.join(', ')}):

${splitLines(classNames, rows).join('\n')}

Settings: model \`${settings.model}\` at ${settings.imageSize} px, ${settings.epochs} epochs, batch ${settings.batchSize}, learning rate
${settings.learningRate} (${settings.learningRateSchedule ?? 'constant'}), seed ${settings.seed}, class weights \`${settings.classWeighting}\`, patience ${settings.patience}, augmentation ${augmentationText(settings)},
intensity normalisation \`${settings.intensityNormalisation ?? 'none'}\`, ${recipeText(settings)}threshold rule \`${settings.thresholdRule}\`${ensembleSetting}.

## Set up

Python 3.8 or later with PyTorch, numpy and Pillow (Pillow reads the images):

\`\`\`sh
pip install torch numpy pillow
\`\`\`

Put the dataset where the script can read it, unpacked: \`--data DIR\` is the folder the manifest's paths start from.
The first path is \`${example}\`, so \`DIR/${example}\` must exist${top ? ` (unzip the archive you gave the page into DIR, so that \`DIR/${top}\` is its top folder)` : ''}.
Keep the files together (\`xray_trainer/\` too): the script finds \`manifest.csv\` and \`settings.json\` beside itself
(\`--manifest\`, \`--settings\` point elsewhere).

## Run on one machine

\`\`\`sh
python train.py --data DIR --out run1                              # one process: the first GPU, else the CPU
torchrun --nproc_per_node=4 train.py --data DIR --out run1         # 4 processes (e.g. 4 GPUs), DistributedDataParallel
OMP_NUM_THREADS=8 torchrun --nproc_per_node=4 train.py --data DIR --out run1   # CPUs only: 4 processes x 8 threads
\`\`\`

Each process trains on its share of every epoch's shuffle (backend \`nccl\` on GPUs, \`gloo\` on CPUs) and the
gradients are averaged at each step. **\`--batch\` is per process**: 4 processes at batch ${settings.batchSize} make steps of
${(settings.batchSize * 4).toLocaleString('en-US')} images. The page's recipe is one process at batch ${settings.batchSize}; to keep its step size on N processes, give
\`--batch\` ${settings.batchSize} / N (or raise \`--lr\` with the batch, at your own judgement). Decoding runs in \`--workers\` processes
beside each training process.

## Run on many machines

Start the same command on every machine (each needs the dataset at the same \`--data\` path, and the bundle):

\`\`\`sh
torchrun --nnodes=2 --nproc_per_node=4 --rdzv_id=xray1 --rdzv_backend=c10d --rdzv_endpoint=HOST:29500 \\
  train.py --data DIR --out run1
\`\`\`

\`HOST\` is one of the machines (any port that is free there). Under Slurm, for example:

\`\`\`sh
srun --nodes=2 --ntasks-per-node=1 torchrun --nnodes=2 --nproc_per_node=4 --rdzv_id=$SLURM_JOB_ID \\
  --rdzv_backend=c10d --rdzv_endpoint=$(scontrol show hostnames $SLURM_JOB_NODELIST | head -n1):29500 \\
  train.py --data DIR --out run1
\`\`\`

Only the process of rank 0 writes \`--out\`, on whichever machine it runs: use a shared folder, or look on each.

## What comes back

In \`--out\` (default \`out\`), written by rank 0:

- \`model.zip\`: \`model.json\` + \`weights.bin\` (TensorFlow.js layers format, the page's network and weight names) and
  \`metadata.json\` (classes, image size, preprocessing, the decision threshold). Bring it back to the page with
  **Load model**.
- \`history.csv\`: one row an epoch (loss, accuracy, validation loss and accuracy, lowest validation loss so far,
  seconds, images/s).
- \`metrics.json\`: validation figures${hasTest ? ' and test figures' : ''} at the decision threshold (\`thresholdRule\`, chosen on validation only).
  ${hasTest ? "Test figures come only from the manifest's test rows; `test_predictions.csv` has each test image's probabilities." : 'The manifest has no test rows, so there are no test figures.'}

Unlike the training data: after training, train.py fits the page's feature-ensemble detector on the training
images' features of the layers in its \`OOD_LAYERS\` (each \`max_pooling2d_i\` map averaged over rows and columns, and
\`dense_1\`) and, last, of the pseudo-layer \`image\` (\`detail-octaves\`: the input's fine detail at four scales, the
log of its mean absolute Laplacian at full size and after each of three 2x2 averages, 4 numbers an image): a
Gaussian a class with one shared, Ledoit-Wolf-shrunk covariance on each layer, each image's squared Mahalanobis
distance to the nearest class mean divided by the layer's median on validation and summed over layers; the cut is
validation's 95th percentile, so about 5% of validation is flagged. \`ood\` in \`settings.json\` (the page's
**Unlike-training detector**; this export: ${settings.ood ?? 'detail'}) chooses the members: \`detail\` (the default,
as above), \`layers\` (the same without \`image\`) or \`last\` (\`dense_1\` alone). It keeps the detector in
\`metadata.json\` (\`outOfDistribution\`). \`metrics.json\` counts the flagged images of each split,
\`test_predictions.csv\` gives each one's score (\`ood_distance\`) and \`unlike_training_data\`, and \`--predict\` gives \`oodDistance\` and
\`unlikeTrainingData\`. For a flagged image they also give the page's reason (the member its score owes most to):
\`--predict\`'s \`unlikeWhy\` (\`kind\` \`detail\` with \`ratio\`, the image's detail over the training films', or \`layer\`
with \`layer\` and \`early\`; \`share\`), the CSV's \`unlike_mostly\` (\`less-detail\`, \`more-detail\`,
\`early-layers:NAME\` or \`later-layers:NAME\`), and with the detail member every image's \`detail_ratio\`. With
\`--epochs 0\` the model's own detector (the page's) judges; a model saved before the
feature ensemble judges with \`dense_1\` alone, as it did then.

Keep training a model (the page's download or a \`model.zip\` from here), or only evaluate it:

\`\`\`sh
python train.py --data DIR --init model.zip --epochs 5 --out run2
python train.py --data DIR --init model.zip --epochs 0 --out eval1   # evaluate only (nothing is trained or written but the figures)
python train.py --predict model.zip --images a.jpeg b.png            # probabilities of single images, as JSON
\`\`\`

## A snapshot ensemble (\`--snapshots\`)

\`\`\`sh
python train.py --data DIR --snapshots 3 --epochs 12 --out run3   # 3 members from one run of 12 epochs
\`\`\`

\`--snapshots N\` (2 to 5; \`snapshots\` in \`settings.json\`, the page's **Snapshot ensemble**; ${thisExport})
trains one run whose epochs are split into N cycles as equal as can be (12 epochs, 3 members: epochs 1-4, 5-8, 9-12).
Each cycle's learning rate starts at \`--lr\` and falls on a cosine over that cycle's steps, whatever \`--schedule\`
says (the restarts are what make the snapshots differ); RMSprop's state carries on. At the end of each cycle all the
weights (BatchNormalization's running statistics too) are kept. Early stopping is off: every cycle is needed.
Two classes only, and at least N epochs; the script refuses anything else and says why.

\`model.zip\` holds the N snapshots as ONE model the page loads like any other: every layer N times as wide, member k
in its own block of channels and units (zeros elsewhere), N sigmoid outputs and a last fixed layer
\`ensemble_average\` that averages them, so the model's probability is exactly the mean of the members'. Its threshold,
figures and out-of-distribution statistics (every layer N times as wide; \`image\`'s 4 numbers as they are, from
the one input) are the ensemble's. \`metadata.json\` says \`"ensemble": {"kind": "snapshot", "members": N}\`; \`--predict\` also prints each member's probability
(\`memberProbabilities\`: where they disagree, the model is unsure).

Cost: training is one run's (the same epochs and steps as a single model); scoring and predicting do N models'
arithmetic. The ensemble is for predicting and evaluating: \`--init\` refuses to train it further (\`--epochs 0\`
evaluates it).

## A seed ensemble (\`--seed-models\`)

\`\`\`sh
python train.py --data DIR --seed-models 3 --out seeds3   # 3 whole runs, member k from seed + 1009 k
\`\`\`

\`--seed-models N\` (2 to 5; \`seedModels\` in \`settings.json\`, the page's **Seed ensemble**; this export:
${settings.seedModels ?? 1}) trains N whole runs one after another, each as a single model would train (its epochs,
schedule, early stopping with its best epoch restored), member k initialised, shuffled and augmented from seed
\`--seed\` + 1009 k (k = 0 is the plain run's seed). They are stacked into ONE model exactly as the snapshot ensemble's
members are (above); \`metadata.json\` says \`"ensemble": {"kind": "seeds", "members": N}\`; \`history.csv\` numbers
member k's epochs from k x epochs + 1, as the page does. Two classes only, not together with \`--snapshots\`, not
with \`--init\`; the script refuses those and says why. Cost: about N times one model's training.

## As on the page, and where not

The same network layer for layer (\`tutorial\`: four blocks of Conv2D 2x2 + ReLU + MaxPooling 2x2, Dense 64, Dropout
0.5, sigmoid or softmax; \`batchnorm\`: BatchNormalization before each ReLU, running-statistics momentum 0.9), weights
converted 1:1 both ways; with intensity normalisation \`per-image\` (\`--norm\`), the page's first layer too
(\`PerImageStandardization\`: each image minus its mean, divided by max(its standard deviation, 1 / sqrt(pixels))).
The same preprocessing: EXIF orientation, grey = 0.299 R + 0.587 G + 0.114 B, squashed to
${settings.imageSize} x ${settings.imageSize} without keeping the aspect ratio, values / 255. The same class weights (\`balanced\`: total / (classes x
class images)), loss (class-weighted cross-entropy, probabilities clipped to 1e-7), optimizer (TensorFlow.js'
RMSprop: rho 0.9, epsilon 1e-7 under the square root), augmentation (the page's affine draws, edges repeating the
nearest pixel), early stopping on validation loss with the best epoch's weights restored, and threshold rules.

Not bit for bit: the resize (Pillow's antialiased bicubic here, the browser's own 'high quality' one on the page) can
give slightly different pixels when an image is shrunk; the random draws (initial weights, shuffles, dropout, augmentation) are PyTorch's; with several processes a
few images repeat in an epoch so that every process has as many, and BatchNormalization sees each process's batch.

If \`torchrun\` stops at once with \`AttributeError: 'NoneType' object has no attribute 'get'\` (PyTorch 1.13 on Python
3.11), add \`--redirects 1 --tee 1\` after \`torchrun\`, or use PyTorch 2.
`;
}
