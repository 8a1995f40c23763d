/** Runs mutated cases through one target and judges each: in time, no stray exception, every refusal in words. */
import { mulberry32 } from '../../src/core/random';
import { MUTATION_KINDS } from './mutate';
import type { FuzzTarget } from './fuzzTarget';

/** The longest a case may take. */
export const CASE_LIMIT_MS = 5_000;

export interface Failure {
  case: number;
  description: string;
  problem: string;
}

export interface TargetReport {
  name: string;
  cases: number;
  /** Cases the page took (perhaps skipping parts, with a message). */
  accepted: number;
  /** Cases the page refused in words. */
  refused: number;
  failures: Failure[];
  slowestMs: number;
}

/** Phrases of a JavaScript engine's own errors: a message with one is a bug that escaped, not a refusal. */
const ENGINE_ERROR =
  /is not a function|Cannot read propert|Cannot set propert|is not iterable|is not defined|Invalid (typed )?array length|Array buffer allocation failed|Maximum call stack|out of memory|Unexpected token|Unexpected end of JSON|Offset is outside|out of bounds|\bundefined\b|\[object /i;

/** Why `message` is not a sentence a person can act on, or null when it is one. */
export function unactionable(message: string): string | null {
  if (message.trim().length < 20) return `too short to act on: ${JSON.stringify(message)}`;
  if (ENGINE_ERROR.test(message)) return `an engine error, not a refusal: ${JSON.stringify(message.slice(0, 300))}`;
  if (message.length > 2_000) return `a message of ${message.length} characters`;
  return null;
}

function nameSeed(name: string): number {
  let hash = 2166136261;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 16777619);
  return hash >>> 0;
}

export async function fuzzTarget(target: FuzzTarget, cases: number, seed: number): Promise<TargetReport> {
  const prepared = await target.prepare();
  const rng = mulberry32((seed ^ nameSeed(target.name)) >>> 0);
  const report: TargetReport = { name: target.name, cases: 0, accepted: 0, refused: 0, failures: [], slowestMs: 0 };
  for (let i = 0; i < cases; i++) {
    const kind = MUTATION_KINDS[i % MUTATION_KINDS.length];
    const { input, description } = prepared.mutant(kind, rng);
    const fail = (problem: string) => report.failures.push({ case: i, description, problem });
    const started = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), CASE_LIMIT_MS)));
    try {
      const outcome = await Promise.race([prepared.run(input), timeout]);
      if (outcome === 'timeout') fail(`no answer within ${CASE_LIMIT_MS / 1000} s`);
      else {
        report.accepted++;
        for (const message of outcome) {
          const why = unactionable(message);
          if (why) fail(`accepted with a message that is ${why}`);
        }
      }
    } catch (error) {
      report.refused++;
      if (!(error instanceof Error)) fail(`threw a non-Error: ${String(error)}`);
      else {
        const why = unactionable(error.message);
        if (why) fail(`${error.name}: ${why}`);
      }
    } finally {
      clearTimeout(timer);
    }
    const ms = performance.now() - started;
    report.slowestMs = Math.max(report.slowestMs, ms);
    if (ms > CASE_LIMIT_MS) fail(`took ${Math.round(ms)} ms`);
    report.cases++;
  }
  return report;
}
