import { useLayoutEffect, useRef, useState, type ReactNode, type RefObject } from 'react';

/**
 * A table's own sideways scroll (`.table-scroll`): on a narrow window a wide table scrolls inside its section rather
 * than widening the whole page. While it overflows, the wrapper is a region named after the table (`Training history,
 * scrolls sideways`) in the tab order, so a keyboard can scroll it and a screen reader says what it holds (axe's
 * scrollable-region-focusable); while the table fits, it adds no tab stop and no landmark.
 */
export function TableScroll({ label, children }: { label: string; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const overflowing = useOverflowing(ref);
  return (
    <div
      ref={ref}
      className="table-scroll"
      {...(overflowing && { role: 'region', 'aria-label': `${label}, scrolls sideways`, tabIndex: 0 })}
    >
      {children}
    </div>
  );
}

/** Whether the element's content is wider than the element, kept current as either resizes or the content changes. */
function useOverflowing(ref: RefObject<HTMLElement | null>): boolean {
  const [overflowing, setOverflowing] = useState(false);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    const check = () => setOverflowing(element.scrollWidth > element.clientWidth + 1);
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
  return overflowing;
}
