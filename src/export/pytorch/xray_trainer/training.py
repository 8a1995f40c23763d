"""Training: one epoch of optimizer steps, and a whole run (one model, a snapshot ensemble's cycles, or a seed
ensemble's members one after another) with early stopping as the page's; results.py scores and writes what it kept."""

import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn

from .augmentation import (ACQUISITION_DRAWS_PER_IMAGE, ACQUISITION_KEYS, DRAWS_PER_IMAGE, FRAMING_DRAWS_PER_IMAGE,
                           acquisition_batch, augment_batch, is_augmenting)
from .distributed import Runtime, synced_state
from .ensemble import stack_members
from .evaluation import evaluate
from .images import ImageFiles, to_input
from .loss import class_weights, per_image_cross_entropy, regularised_batch, soft_cross_entropy
from .metrics import predicted_classes, score_metrics
from .model_zip import load_app_model
from .network import AppCnn
from .optimizer import TfjsRMSprop, decay_kernels
from .results import finish_run
from .schedule import rate_of_step, snapshot_cycles
from .settings import SPLITS, check_files, check_snapshots, read_manifest, run_settings


def single_model_of(settings, size, num_classes, state):
    member = AppCnn(settings['model'], size, num_classes, settings['intensityNormalisation'])
    member.load_state_dict(state)
    member.eval()
    return member


def train_epoch(trainer, loader, optimizer, runtime, class_weight, aug, augment_random, rate_of_step=None, first_step=0,
                recipe=None):
    """One pass over this process's share of the train split, one optimizer step a batch. Returns the epoch's loss
    and accuracy as Keras reports them (the mean over all processes' images of each batch's figure) and the images.
    `rate_of_step(step)` (the run's step count, from `first_step`) sets the learning rate before each step. `recipe`:
    the page's labelSmoothing, mixup and weightDecay (0 = off)."""
    recipe = recipe or {}
    soft = recipe.get('labelSmoothing', 0) > 0 or recipe.get('mixup', 0) > 0
    trainer.train()
    # Summed on the device: reading a number back after every batch would stall a GPU.
    loss_sum = torch.zeros((), dtype=torch.float64, device=runtime.device)
    right = torch.zeros((), dtype=torch.float64, device=runtime.device)
    seen = 0
    for index, (pixels, labels, _) in enumerate(loader):
        if rate_of_step is not None:
            for group in optimizer.param_groups:
                group['lr'] = rate_of_step(first_step + index)
        x = to_input(pixels, runtime.device)
        labels = labels.to(runtime.device)
        if aug is not None:
            draws = torch.rand(len(labels), DRAWS_PER_IMAGE, generator=augment_random)
            framing = (torch.rand(len(labels), FRAMING_DRAWS_PER_IMAGE, generator=augment_random)
                       if aug.get('crop', 0) > 0 else None)
            x = augment_batch(x, aug, draws, framing)
            if any(aug.get(key, 0) for key in ACQUISITION_KEYS):
                draws = torch.rand(len(labels), ACQUISITION_DRAWS_PER_IMAGE, generator=augment_random)
                x = acquisition_batch(x, aug, draws)
        if soft:
            x, targets, weights = regularised_batch(x, labels, len(class_weight), class_weight, recipe, augment_random)
        probabilities = trainer(x)
        # Keras' reduction with class weights: the mean over the batch of weight x loss (not divided by the weights).
        if soft:
            loss = (soft_cross_entropy(probabilities, targets) * weights).mean()
        else:
            loss = (per_image_cross_entropy(probabilities, labels, len(class_weight)) * class_weight[labels]).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        decay_kernels(trainer, optimizer.param_groups[0]['lr'], recipe.get('weightDecay', 0))
        loss_sum += loss.detach().double() * len(labels)
        right += (predicted_classes(probabilities.detach()) == labels).sum().double()
        seen += len(labels)
    loss_sum, right, seen = runtime.sum([loss_sum.item(), right.item(), float(seen)])
    return loss_sum / seen, right / seen, seen


def train(args):
    runtime = Runtime(args.device)
    settings = run_settings(args)
    started = time.time()
    finished = False
    try:
        init_model, init_metadata = (load_app_model(args.init) if args.init else (None, {}))
        rows, class_names = read_manifest(args.manifest, settings.get('classNames') or init_metadata.get('classNames'))
        if init_model is not None:
            if init_metadata.get('classNames') and init_metadata['classNames'] != class_names:
                raise SystemExit(f'--init was trained on classes {init_metadata["classNames"]}, the manifest has {class_names}.')
            if args.size is not None and args.size != init_model.image_size:
                raise SystemExit(f'--size {args.size} differs from --init\'s {init_model.image_size} px.')
            settings['model'], settings['imageSize'] = init_model.model_name, init_model.image_size
            settings['intensityNormalisation'] = init_model.intensity_normalisation
        size, num_classes = settings['imageSize'], len(class_names)
        init_members = init_model.members if init_model is not None else 1
        check_snapshots(settings, num_classes, init_members)
        if settings['seedModels'] > 1 and settings['epochs'] > 0 and init_model is not None:
            raise SystemExit('A seed ensemble starts each member from its own seed: train it without --init.')
        # Cycles and snapshots only when training: --epochs 0 evaluates the model as it is.
        snapshots = settings['snapshots'] if settings['epochs'] > 0 else 1
        split_rows = {name: [row for row in rows if row['split'] == name] for name in SPLITS}
        check_files(args.data, rows)
        workers = args.workers if args.workers is not None else max(0, min(4, (os.cpu_count() or 1) // runtime.local_world - 1))

        # A seed ensemble (the page's Seed ensemble): whole runs one after another, member k initialised, shuffled
        # and augmented from seed + 1009 k, each with its own epochs and early stopping; stacked as the snapshots are.
        seed_models = settings['seedModels'] if settings['epochs'] > 0 else 1
        history, member_states = [], []
        for member in range(seed_models):
            seed = settings['seed'] + 1009 * member
            if seed_models > 1:
                runtime.log(f'Seed ensemble: member {member + 1} of {seed_models}, seed {seed}.')
            torch.manual_seed(seed)  # The same initial weights in every process.
            model = AppCnn(settings['model'], size, num_classes, settings['intensityNormalisation'], init_members)
            if init_model is not None:
                if init_model.num_classes != num_classes:
                    raise SystemExit(f'--init has {init_model.num_classes} outputs, the manifest {num_classes} classes.')
                model.load_state_dict(init_model.state_dict())
            model.to(runtime.device)
            # Dropout and augmentation draw differently in each process (each sees other images anyway).
            torch.manual_seed(seed * 1000003 + runtime.rank)
            augment_random = torch.Generator().manual_seed(seed * 7919 + 17 + runtime.rank)
            trainer = model
            if runtime.distributed:
                # Averages the gradients of the processes at each step; its forward also hands every process rank 0's
                # BatchNorm running statistics.
                trainer = nn.parallel.DistributedDataParallel(
                    model, device_ids=[runtime.device.index] if runtime.device.type == 'cuda' else None)
            optimizer = TfjsRMSprop(model.parameters(), lr=settings['learningRate'])

            counts = [sum(1 for row in split_rows['train'] if row['label'] == c) for c in range(num_classes)]
            weights = class_weights(counts, settings['classWeighting'])
            weight_of = torch.tensor(weights, dtype=torch.float32, device=runtime.device)
            aug = settings.get('augmentation') or {}
            augmenting = is_augmenting(aug)
            runtime.log(f'{len(rows)} images: ' + ', '.join(f'{name} {len(split_rows[name])}' for name in SPLITS)
                        + f'; classes {", ".join(class_names)}; model {settings["model"]} at {size} px'
                        + f', intensity normalisation {settings["intensityNormalisation"]}'
                        + (f' (from {args.init})' if args.init else ''))
            runtime.log(f'{runtime.world} process(es) on {runtime.device.type}; batch {settings["batchSize"]} a process '
                        f'(global {settings["batchSize"] * runtime.world}); learning rate {settings["learningRate"]} ({settings["learningRateSchedule"]}); '
                        f'class weights ' + (', '.join(f'{n} {w:.2f}' for n, w in zip(class_names, weights))
                                             if settings['classWeighting'] != 'none' else 'none')
                        + f'; augmentation {json.dumps(aug) if augmenting else "off"}; patience {settings["patience"]}')
            cycles = snapshot_cycles(settings['epochs'], snapshots)
            if snapshots > 1:
                runtime.log(f'Snapshot ensemble of {snapshots}: cycles of epochs '
                            + ', '.join(f'{start + 1}-{end}' for start, end in cycles)
                            + '; the learning rate restarts at its base each cycle and falls on a cosine whatever the '
                              'schedule; a snapshot at each cycle\'s end; no early stopping (every cycle is needed).')

            # Each process takes its share of a fresh shuffle each epoch; the shares are made equal by repeating a few
            # images (so every process runs as many steps), and the last batch keeps the remainder, as Keras'.
            train_set = ImageFiles(args.data, split_rows['train'], size)
            sampler = torch.utils.data.distributed.DistributedSampler(
                train_set, num_replicas=runtime.world, rank=runtime.rank, shuffle=True, seed=seed, drop_last=False)
            loader = torch.utils.data.DataLoader(train_set,
                                                 batch_size=settings['batchSize'], sampler=sampler, num_workers=workers,
                                                 pin_memory=runtime.device.type == 'cuda', drop_last=False,
                                                 persistent_workers=workers > 0)
            if settings['epochs'] > 0 and not split_rows['train']:
                raise SystemExit('The manifest has no train rows.')
            if not split_rows['validation']:
                runtime.log('No validation rows: no early stopping, the last epoch\'s weights are kept.')

            best_loss, best_epoch, best_state, epochs_done, stopped_early = math.inf, -1, None, 0, False
            patience = settings['patience'] if snapshots == 1 else 0
            snapshot_states = []
            for epoch in range(settings['epochs']):
                epoch_started = time.time()
                sampler.set_epoch(epoch)
                loss, accuracy, seen = train_epoch(
                    trainer, loader, optimizer, runtime, weight_of, aug if augmenting else None, augment_random,
                    rate_of_step(settings, cycles, epoch, len(loader)), epoch * len(loader),
                    {key: settings.get(key, 0) for key in ('labelSmoothing', 'mixup', 'weightDecay')})
                train_seconds = time.time() - epoch_started
                val_scores = evaluate(model, split_rows['validation'], args.data, size, settings['batchSize'], runtime, workers)
                val_loss, val_accuracy = score_metrics(val_scores, np.array([r['label'] for r in split_rows['validation']]), num_classes)
                epochs_done = epoch + 1
                # Early stopping as the page (Keras' EarlyStopping(val_loss, patience, restore_best_weights=True)).
                improved = val_loss < best_loss
                if improved:
                    best_loss, best_epoch = val_loss, epoch
                    if patience > 0:
                        best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                seconds = time.time() - epoch_started
                history.append({'epoch': member * settings['epochs'] + epochs_done, 'loss': loss, 'accuracy': accuracy,
                                'val_loss': val_loss, 'val_accuracy': val_accuracy, 'best_val_loss': best_loss,
                                'seconds': seconds, 'images_per_second': seen / train_seconds})
                runtime.log(f'epoch {epochs_done}/{settings["epochs"]}: loss {loss:.4f}, accuracy '
                            f'{accuracy:.4f}, validation loss {val_loss:.4f}, validation accuracy {val_accuracy:.4f}'
                            f'{" (best)" if improved else ""}; {seconds:.1f} s, training {seen / train_seconds:.0f} images/s')
                if snapshots > 1 and any(end == epochs_done for _, end in cycles):
                    snapshot_states.append(synced_state(model, runtime))
                    runtime.log(f'snapshot {len(snapshot_states)}/{snapshots} taken (end of epoch {epochs_done})')
                if patience > 0 and not improved and epoch - best_epoch >= patience and epoch < settings['epochs'] - 1:
                    stopped_early = True
                    break

            restored = best_state is not None
            if restored:
                model.load_state_dict(best_state)
            if seed_models > 1:
                member_states.append(synced_state(model, runtime))
        if seed_models > 1:
            model = stack_members([single_model_of(settings, size, num_classes, state) for state in member_states])
            model.to(runtime.device)
            runtime.log(f'Stacked the {seed_models} members into one model: the mean of their probabilities.')
        if snapshots > 1:
            # Every process stacks the same snapshots (rank 0's), to score its share; only rank 0 writes.
            model = stack_members([single_model_of(settings, size, num_classes, state) for state in snapshot_states])
            model.to(runtime.device)
            runtime.log(f'Stacked the {snapshots} snapshots into one model: the mean of their probabilities.')
        if settings['epochs'] > 0:
            runtime.log(('Stopped early after' if stopped_early else 'Trained all') + f' {epochs_done} epoch(s)'
                        + (f'; weights of epoch {best_epoch + 1} restored (lowest validation loss).' if restored else '.'))
        # As the page: the epochs the kept weights had, up to the best epoch when it was restored.
        trained_epochs = (best_epoch + 1 if restored else epochs_done) + int(init_metadata.get('trainedEpochs') or 0)

        finish_run(args, settings, runtime, model, split_rows, class_names, init_metadata, workers, history,
                   trained_epochs, seed_models, started)
        finished = True
    finally:
        runtime.close(finished)
