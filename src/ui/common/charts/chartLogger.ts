import { logger, Warn, type LoggerInterface } from 'vega';

/** vega's warning for a scale whose data is empty: `Infinite extent for field "x": [Infinity, -Infinity]`. */
const EMPTY_SCALE = /^Infinite extent for field /;

/**
 * vega's console logger at its usual level (warnings and errors), less the warning for a scale over no data. The page
 * draws charts before their data arrives (the live curves before the first batch, their best-epoch rule before a best
 * epoch): that is the expected state of a chart, not a fault, and it printed dozens of warnings a run. Every other
 * warning and every error still reaches the console.
 */
export function chartLogger(): LoggerInterface {
  const base = logger(Warn);
  const warn = base.warn.bind(base);
  base.warn = (...args: readonly unknown[]) => {
    if (typeof args[0] === 'string' && EMPTY_SCALE.test(args[0])) return base;
    return warn(...args);
  };
  return base;
}
