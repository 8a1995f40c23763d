import { useLayoutEffect, useRef, useState, type CSSProperties, type ReactNode, type RefObject } from 'react';

/**
 * A table's own sideways scroll (`.table-scroll`): on a narrow window a wide table scrolls inside its section rather
 * than widening the whole page. While it overflows, the wrapper is a group named after the table (`Training history,
 * scrolls sideways`) in the tab order, so a keyboard can scroll it and a screen reader says what it holds (axe's
 * scrollable-region-focusable); its caption keeps to the visible width and stays in view as the table scrolls
 * (`--table-scroll-width`, page.css). A group, not a region: on a phone every table would otherwise be a landmark, and
 * a section's name (`6. Predict`) no longer the only region name that contains `Predict`. While the table fits, the
 * wrapper has no role, no name and no tab stop.
 */
export function TableScroll({ label, children }: { label: string; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const visibleWidth = useOverflowingWidth(ref);
  return (
    <div
      ref={ref}
      className="table-scroll"
      {...(visibleWidth !== null && {
        role: 'group',
        'aria-label': `${label}, scrolls sideways`,
        tabIndex: 0,
        style: { '--table-scroll-width': `${visibleWidth}px` } as CSSProperties,
      })}
    >
      {children}
    </div>
  );
}

/**
 * The element's visible width while its content is wider than it, else null; kept current as either resizes or the
 * content changes.
 */
function useOverflowingWidth(ref: RefObject<HTMLElement | null>): number | null {
  const [width, setWidth] = useState<number | null>(null);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    const check = () => setWidth(element.scrollWidth > element.clientWidth + 1 ? element.clientWidth : null);
    const resized = new ResizeObserver(check);
    const observeAll = () => {
      resized.disconnect();
      resized.observe(element);
      for (const child of Array.from(element.children)) resized.observe(child);
      check();
    };
    // A child swapped for another (a table that appears or is keyed anew) is observed in its turn.
    const swapped = new MutationObserver(observeAll);
    swapped.observe(element, { childList: true });
    observeAll();
    return () => {
      resized.disconnect();
      swapped.disconnect();
    };
  }, [ref]);
  return width;
}
