import { useLayoutEffect, useRef, useState, type CSSProperties, type ReactNode, type RefObject } from 'react';

/**
 * A table named `label` (its accessible name) in a box of its own that scrolls sideways (`.table-scroll`): on a narrow
 * window a wide table scrolls inside its section rather than widening the whole page. While it overflows, the box is
 * a group named after the table (`Training history, scrolls sideways`) in the tab order, so a keyboard can scroll it
 * and a screen reader says what it holds (axe's scrollable-region-focusable); the caption keeps to the visible width
 * and stays in view as the table scrolls (`--table-scroll-width`, page.css). A group, not a region: on a phone every
 * table would otherwise be a landmark, and a section's name (`6. Predict`) no longer the only region name that
 * contains `Predict`. While the table fits, the box has no role, no name and no tab stop.
 */
export function ScrollingTable({
  label,
  className,
  children,
}: {
  label: string;
  className?: string;
  /** The table's caption, head and body. */
  children: ReactNode;
}) {
  const box = useRef<HTMLDivElement>(null);
  const table = useRef<HTMLTableElement>(null);
  const visibleWidth = useOverflowingWidth(box, table);
  return (
    <div
      ref={box}
      className="table-scroll"
      {...(visibleWidth !== null && {
        role: 'group',
        'aria-label': `${label}, scrolls sideways`,
        tabIndex: 0,
        style: { '--table-scroll-width': `${visibleWidth}px` } as CSSProperties,
      })}
    >
      <table ref={table} aria-label={label} className={className}>
        {children}
      </table>
    </div>
  );
}

/** The box's visible width while its table is wider than it, else null; kept current as either resizes. */
function useOverflowingWidth(box: RefObject<HTMLElement | null>, table: RefObject<HTMLElement | null>): number | null {
  const [width, setWidth] = useState<number | null>(null);
  useLayoutEffect(() => {
    const element = box.current;
    if (!element || !table.current) return;
    const check = () => setWidth(element.scrollWidth > element.clientWidth + 1 ? element.clientWidth : null);
    const resized = new ResizeObserver(check);
    resized.observe(element);
    resized.observe(table.current);
    check();
    return () => resized.disconnect();
  }, [box, table]);
  return width;
}
