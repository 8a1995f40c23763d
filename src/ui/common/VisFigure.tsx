import { useEffect, useId, useRef, type ReactNode } from 'react';

interface Props {
  /** Accessible name of the figure, also shown as its caption. */
  label: string;
  /** Draws into the element (tfjs-vis render functions take any element). */
  draw: (element: HTMLElement) => Promise<void> | void;
  /** Redraw when this changes. */
  version: unknown;
  className?: string;
  /** Notes under the chart; they should give its numbers in text or a table, for readers who cannot see it. */
  children?: ReactNode;
  /** Extra attributes tests read (e.g. data-points). */
  data?: Record<string, string | number>;
}

/** A tfjs-vis chart in a captioned figure, redrawn when `version` changes. */
export function VisFigure({ label, draw, version, className, children, data }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const drawRef = useRef(draw);
  drawRef.current = draw;
  const labelRef = useRef(label);
  labelRef.current = label;
  const notesId = useId();
  const hasNotes = Boolean(children);

  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    let current = true;
    // One chart a task: the Results section mounts several charts at once, and drawn in one task they
    // held the page's thread for over 150 ms.
    const cancel = scheduleDraw(async () => {
      if (!current) return;
      try {
        await drawRef.current(element);
        // vega-embed makes the chart's element a `graphics-document` named "Vega visualization": name it after
        // the figure, and point it at the numbers written beside it.
        nameChart(element, `${labelRef.current}: chart`, hasNotes ? notesId : null);
      } catch (error) {
        // A chart that cannot be drawn says so instead of failing silently.
        element.textContent = `This chart could not be drawn: ${error instanceof Error ? error.message : String(error)}`;
      }
    });
    return () => {
      current = false;
      cancel();
    };
  }, [version, hasNotes, notesId]);

  const dataAttributes = Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [`data-${k}`, String(v)]));
  return (
    <figure aria-label={label} className={className ?? 'chart'} {...dataAttributes}>
      <figcaption>{label}</figcaption>
      <div ref={ref} className="chart__area" />
      {hasNotes && <div id={notesId}>{children}</div>}
    </figure>
  );
}

/** Names a drawn chart's element (vega sets `role=graphics-document` on it) and ties it to its numbers. */
export function nameChart(element: HTMLElement, name: string, describedBy: string | null): void {
  if (element.getAttribute('role') === null) element.setAttribute('role', 'img');
  element.setAttribute('aria-label', name);
  if (describedBy) element.setAttribute('aria-describedby', describedBy);
  else element.removeAttribute('aria-describedby');
}

/** Charts waiting to be drawn, one a macrotask, in the order they asked. */
const drawQueue: (() => Promise<void>)[] = [];
let draining = false;

function scheduleDraw(draw: () => Promise<void>): () => void {
  drawQueue.push(draw);
  if (!draining) {
    draining = true;
    setTimeout(drainOne, 0);
  }
  return () => {
    const at = drawQueue.indexOf(draw);
    if (at >= 0) drawQueue.splice(at, 1);
  };
}

function drainOne(): void {
  const next = drawQueue.shift();
  if (!next) {
    draining = false;
    return;
  }
  // A chart whose drawing never settles must not hold up the others.
  const settled = Promise.race([next(), new Promise<void>((resolve) => setTimeout(resolve, 2000))]);
  void settled.finally(() => setTimeout(drainOne, 0));
}
