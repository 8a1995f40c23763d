/**
 * What a fuzz target is (FUZZ_TARGETS in targets.ts lists them; run.ts drives them): a parser of the page's, with the
 * seeds its mutated cases are made from.
 */
import type { MutationKind } from './mutate';

export interface FuzzCase {
  input: unknown;
  description: string;
}

/** A parser under fuzzing, once its seeds are made. */
export interface PreparedTarget {
  mutant(kind: MutationKind, rng: () => number): FuzzCase;
  /** Runs the page's code on a case; resolves the messages the page would show (skips, warnings), or throws a refusal. */
  run(input: unknown): Promise<string[]>;
}

export interface FuzzTarget {
  name: string;
  prepare(): Promise<PreparedTarget>;
}

/** One of the seeds, drawn with `rng`. */
export const pickSeed = <T>(seeds: T[], rng: () => number): T => seeds[Math.floor(rng() * seeds.length)];
