import { describe, expect, it } from 'vitest';
import { storedModelKind, unfinishedModelKind, unfinishedModelText } from './unfinishedModel';

describe('the model an unfinished run comes back with', () => {
  it('is the best epoch so far with early stopping on, and the last finished epoch with it off', () => {
    expect(unfinishedModelKind({ patience: 3 })).toBe('best');
    expect(unfinishedModelKind({ patience: 0 })).toBe('checkpoint');
    expect(unfinishedModelText({ patience: 3 }, { bestEpoch: 2, epochsDone: 5 })).toBe(
      'the best epoch so far (3 of 5)',
    );
    expect(unfinishedModelText({ patience: 0 }, { bestEpoch: 1, epochsDone: 5 })).toBe(
      'the last finished epoch (5; early stopping was off)',
    );
  });

  it('a saved run shows its kept model when it finished, else the unfinished one for its patience', () => {
    expect(storedModelKind({ models: ['checkpoint', 'best', 'model'], settings: { patience: 0 } })).toBe('model');
    expect(storedModelKind({ models: ['checkpoint', 'best'], settings: { patience: 0 } })).toBe('checkpoint');
    expect(storedModelKind({ models: ['checkpoint', 'best'], settings: { patience: 3 } })).toBe('best');
    expect(storedModelKind({ models: [], settings: { patience: 3 } })).toBeNull();
  });
});
