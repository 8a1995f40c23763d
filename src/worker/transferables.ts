/**
 * Which buffers of a page <-> training-worker message are transferred rather than copied: pixels, weights, scores
 * and maps, each once (a buffer listed twice makes postMessage throw).
 */
import type { OodJudgement, TestResult } from '../core/types';
import type { FromTrainer, ToTrainer } from './protocol';

/** The buffers a message should transfer rather than copy. */
export function trainerTransferables(message: ToTrainer | FromTrainer): Transferable[] {
  if ('request' in message) {
    const request = message.request;
    if (request.type === 'predict') return unique([request.pixels.buffer]);
    if (request.type !== 'setData') return [];
    const { train, validation, test } = request.splits;
    return unique(
      [train, validation, test].flatMap((s) =>
        s ? [s.pixels.buffer, s.labels.buffer, ...(s.groups ? [s.groups.buffer] : [])] : [],
      ),
    );
  }
  switch (message.type) {
    case 'progress':
      return message.progress.type === 'checkpoint'
        ? unique([
            message.progress.files.weights,
            ...(message.progress.snapshots ? [message.progress.snapshots.weights] : []),
          ])
        : [];
    case 'error':
      return [];
    case 'reply': {
      const reply = message.reply;
      if (reply.type === 'train')
        return unique([
          ...(reply.test ? testResultBuffers(reply.test) : []),
          ...(reply.model ? [reply.model.weights] : []),
        ]);
      if (reply.type === 'evaluateModel') return testResultBuffers(reply.test);
      if (reply.type === 'predict')
        return unique([
          reply.scores.buffer,
          reply.maps.buffer,
          reply.mapClasses.buffer,
          ...(reply.ood ? judgementBuffers(reply.ood) : []),
        ]);
      if (reply.type === 'exportModel')
        return unique([reply.weights, ...(reply.converted ? [reply.converted.buffer] : [])]);
      if (reply.type === 'previewAugmentation') return unique([reply.pixels.buffer]);
      if (reply.type === 'shiftCheck')
        return unique([
          reply.check.labels.buffer,
          ...reply.check.shifts.flatMap((s) => [s.scores.buffer, ...(s.unlike ? [s.unlike.buffer] : [])]),
        ]);
      if (reply.type === 'evaluatedImages') return unique([reply.pixels.buffer, reply.indices.buffer]);
      return [];
    }
  }
}

function testResultBuffers(result: TestResult): ArrayBufferLike[] {
  return [
    result.scores.buffer,
    result.labels.buffer,
    result.gallery.indices.buffer,
    result.gallery.pixels.buffer,
    ...(result.ood ? judgementBuffers(result.ood) : []),
  ];
}

function judgementBuffers(ood: OodJudgement): ArrayBufferLike[] {
  return [
    ood.distances.buffer,
    ...(ood.parts ? [ood.parts.buffer] : []),
    ...(ood.detailRatio ? [ood.detailRatio.buffer] : []),
  ];
}

function unique(buffers: (ArrayBufferLike | Transferable)[]): Transferable[] {
  return [...new Set(buffers)].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer && b.byteLength > 0);
}
