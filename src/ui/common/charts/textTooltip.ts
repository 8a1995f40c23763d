/**
 * Chart tooltips as text: vega-tooltip writes its tooltip (and its stylesheet) with innerHTML, which the page's
 * Trusted Types policy forbids. This handler shows the same fields, one `name: value` a line, with textContent,
 * so a class name with markup in it is shown as what it is.
 */

/** vega-tooltip's options that tfjs-vis passes: `sanitize` formats (here: tidies) each value. */
export interface TextTooltipOptions {
  sanitize?: (value: unknown) => string;
}

type TooltipHandler = (handler: unknown, event: MouseEvent, item: unknown, value: unknown) => void;

const TOOLTIP_ID = 'chart-tooltip';
/** Distance of the tooltip from the pointer, in CSS pixels. */
const OFFSET = 12;

function tooltipElement(): HTMLElement {
  const found = document.getElementById(TOOLTIP_ID);
  if (found) return found;
  const element = document.createElement('div');
  element.id = TOOLTIP_ID;
  element.className = 'chart-tooltip';
  element.setAttribute('role', 'tooltip');
  element.hidden = true;
  document.body.append(element);
  return element;
}

function textOf(value: unknown, sanitize: (value: unknown) => string): string {
  if (value === null || typeof value !== 'object') return sanitize(value);
  if (Array.isArray(value)) return value.map((v) => sanitize(v)).join(', ');
  return Object.entries(value as Record<string, unknown>)
    .map(([key, v]) => `${key}: ${v !== null && typeof v === 'object' ? JSON.stringify(v) : sanitize(v)}`)
    .join('\n');
}

/** A vega View tooltip handler that writes text only. */
export function textTooltip(options: TextTooltipOptions = {}): TooltipHandler {
  const sanitize = options.sanitize ?? ((v: unknown) => String(v));
  return (_handler, event, _item, value) => {
    const element = tooltipElement();
    if (value === null || value === undefined || value === '') {
      element.hidden = true;
      return;
    }
    element.textContent = textOf(value, sanitize);
    element.hidden = false;
    const { innerWidth, innerHeight } = window;
    const { width, height } = element.getBoundingClientRect();
    const x = event.clientX + OFFSET + width > innerWidth ? event.clientX - OFFSET - width : event.clientX + OFFSET;
    const y = event.clientY + OFFSET + height > innerHeight ? event.clientY - OFFSET - height : event.clientY + OFFSET;
    element.style.left = `${Math.max(0, x)}px`;
    element.style.top = `${Math.max(0, y)}px`;
  };
}
