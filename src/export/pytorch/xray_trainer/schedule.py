"""The learning rate of each step: the page's schedule (src/model/learningRate.ts) over the run, or over each cycle of
a snapshot ensemble."""

import math


def snapshot_cycles(epochs, snapshots):
    """The epochs [start, end) of each of the snapshot ensemble's cycles, as equal as can be (ensemble-spec.md)."""
    return [(c * epochs // snapshots, (c + 1) * epochs // snapshots) for c in range(snapshots)]


def rate_of_step(settings, cycles, epoch, steps_per_epoch):
    """The learning rate of each of the run's steps (counted from its start) in `epoch`: the run's schedule over all
    its steps; for a snapshot ensemble (more than one cycle), a cosine over the steps of the epoch's cycle."""
    base = settings['learningRate']
    if len(cycles) == 1:
        return lambda step: learning_rate_at(settings['learningRateSchedule'], base, step,
                                             settings['epochs'] * steps_per_epoch)
    start, end = next((start, end) for start, end in cycles if start <= epoch < end)
    steps = (end - start) * steps_per_epoch
    return lambda step: learning_rate_at('cosine', base, step - start * steps_per_epoch, steps)


def learning_rate_at(schedule, base, step, total_steps):
    """As the page (src/model/learningRate.ts): base throughout, or base x (1 + cos(pi step / total)) / 2."""
    if schedule == 'constant' or total_steps <= 0:
        return base
    return base * (1 + math.cos(math.pi * min(max(step / total_steps, 0.0), 1.0))) / 2
