import { describe, expect, it } from 'vitest';
import { ERR_INVALID_CRC32, ERR_LOCAL_FILE_HEADER_NOT_FOUND } from '@zip.js/zip.js';
import { ENTRY_PROBLEMS } from './zipErrors';
import { entryReadProblem } from './zipJsErrors';

describe('entryReadProblem', () => {
  it("says what zip.js' codes mean in the sentences the decode workers use", () => {
    expect(entryReadProblem(new Error(ERR_INVALID_CRC32))).toBe(ENTRY_PROBLEMS.damagedData);
    expect(entryReadProblem(new Error(ERR_LOCAL_FILE_HEADER_NOT_FOUND))).toBe(ENTRY_PROBLEMS.damagedArchive);
    expect(entryReadProblem(new Error('Something else'))).toBe('Something else.');
  });
});
