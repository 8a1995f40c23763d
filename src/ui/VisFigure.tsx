import { useEffect, useRef, type ReactNode } from 'react';

interface Props {
  /** Accessible name of the figure, also shown as its caption. */
  label: string;
  /** Draws into the element (tfjs-vis render functions take any element). */
  draw: (element: HTMLElement) => Promise<void> | void;
  /** Redraw when this changes. */
  version: unknown;
  className?: string;
  children?: ReactNode;
  /** Extra attributes tests read (e.g. data-points). */
  data?: Record<string, string | number>;
}

/** A tfjs-vis chart in a captioned figure, redrawn when `version` changes. */
export function VisFigure({ label, draw, version, className, children, data }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const drawRef = useRef(draw);
  drawRef.current = draw;

  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    // A chart that cannot be drawn says so instead of failing silently.
    Promise.resolve()
      .then(() => drawRef.current(element))
      .catch((error: unknown) => {
        element.textContent = `This chart could not be drawn: ${error instanceof Error ? error.message : String(error)}`;
      });
  }, [version]);

  const dataAttributes = Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [`data-${k}`, String(v)]));
  return (
    <figure aria-label={label} className={className ?? 'chart'} {...dataAttributes}>
      <figcaption>{label}</figcaption>
      <div ref={ref} className="chart__area" />
      {children}
    </figure>
  );
}
