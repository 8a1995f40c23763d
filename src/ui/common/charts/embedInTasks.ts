import { parse, View, type Spec } from 'vega';
import { expressionInterpreter } from 'vega-interpreter';
import { compile, type TopLevelSpec } from 'vega-lite';
import { nextTask } from '../../../core/timeSlicer';
import { textTooltip, type TextTooltipOptions } from './textTooltip';
import { chartLogger } from './chartLogger';

/** The options of vega-embed's `embed` that tfjs-vis and our charts pass. */
export interface EmbedOptions {
  /** vega-embed's export menu; never drawn here (tfjs-vis and our charts turn it off). */
  actions?: boolean;
  mode?: 'vega-lite';
  /** vega-embed's stylesheet for its menu; there is no menu, so nothing to style. */
  defaultStyle?: boolean;
  renderer?: 'canvas' | 'svg';
  /** vega-embed's tooltip; shown as text (textTooltip.ts), not vega-tooltip's HTML. */
  tooltip?: boolean | TextTooltipOptions;
}

export interface EmbedResult {
  view: View;
  spec: TopLevelSpec;
  vgSpec: Spec;
  finalize: () => void;
}

/**
 * vega-embed's `embed` for vega-lite specs, in four tasks instead of one (issue 12: no main-thread task over 50 ms).
 * vega-embed compiles the vega-lite spec, parses the vega spec, builds the view and runs its dataflow (the first
 * render) all in one task: 40-60 ms for a chart's first draw on a 2-core machine, over the page's 50 ms budget, with
 * no option to break it. These are the same library calls with the page's thread given back between them. tfjs-vis's
 * render functions reach it too: the app's build resolves their `vega-embed` import here (vite.config.ts).
 */
export async function embedInTasks(
  element: HTMLElement,
  spec: TopLevelSpec,
  options: EmbedOptions = {},
): Promise<EmbedResult> {
  if (options.mode !== undefined && options.mode !== 'vega-lite')
    throw new Error(`embedInTasks draws vega-lite specs, not ${String(options.mode)}`);
  const vgSpec = compile(spec).spec;
  await nextTask();
  // Expressions kept as syntax trees and interpreted, never compiled with Function: the page's policy has no
  // 'unsafe-eval' (vite.config.ts).
  const runtime = parse(vgSpec, {}, { ast: true });
  await nextTask();
  const view = new View(runtime, {
    logger: chartLogger(),
    renderer: options.renderer ?? 'canvas',
    expr: expressionInterpreter,
  });
  if (options.tooltip !== false)
    view.tooltip(textTooltip(options.tooltip === true || options.tooltip === undefined ? {} : options.tooltip));
  element.classList.add('vega-embed');
  element.replaceChildren();
  view.initialize(element);
  await nextTask();
  await view.runAsync();
  return { view, spec, vgSpec, finalize: () => view.finalize() };
}

export default embedInTasks;
