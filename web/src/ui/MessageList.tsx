import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';

export interface Row {
  key: string;
  render: () => ComponentChildren;
}

const ESTIMATE = 56;
const OVERSCAN = 8;

/**
 * A windowed list: only the rows in and near the viewport are in the DOM; the rest are two
 * spacers whose heights come from measured (or estimated) row heights. Sticks to the bottom
 * when already there (unless `follow` is false: the rows are a window of older history, to
 * which newer rows are appended as the user scrolls down), keeps the view still when older
 * rows are prepended, and calls `onNearTop` and `onNearBottom` to load more.
 */
export function VirtualList(props: {
  rows: Row[];
  onNearTop?: () => void;
  onNearBottom?: () => void;
  follow?: boolean;
  scrollToKey?: string | null;
  class?: string;
}) {
  const { rows } = props;
  const box = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string, number>());
  const [, setTick] = useState(0);
  const [scroll, setScroll] = useState({ top: 0, height: 800 });
  const atBottom = useRef(true);
  const firstKey = useRef<string | null>(null);
  const prevHeight = useRef(0);
  const prevTop = useRef(0);

  const h = (k: string) => heights.current.get(k) ?? ESTIMATE;
  const offsets = new Array<number>(rows.length + 1);
  offsets[0] = 0;
  for (let i = 0; i < rows.length; i++) offsets[i + 1] = offsets[i] + h(rows[i].key);
  const total = offsets[rows.length];

  let start = 0;
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid + 1] < scroll.top) lo = mid + 1;
    else hi = mid;
  }
  start = Math.max(0, lo - OVERSCAN);
  let end = lo;
  while (end < rows.length && offsets[end] < scroll.top + scroll.height) end++;
  end = Math.min(rows.length, end + OVERSCAN);

  // measure what was rendered; re-render when an estimate was wrong
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    let changed = false;
    el.querySelectorAll<HTMLElement>('[data-row]').forEach((node) => {
      const k = node.dataset.row!;
      const real = node.offsetHeight;
      if (real && heights.current.get(k) !== real) {
        heights.current.set(k, real);
        changed = true;
      }
    });
    const newFirst = rows[0]?.key ?? null;
    if (firstKey.current && newFirst !== firstKey.current && prevHeight.current) {
      // rows were prepended: keep what the user looks at in place
      el.scrollTop = el.scrollHeight - prevHeight.current + prevTop.current;
    } else if (atBottom.current && props.follow !== false) {
      el.scrollTop = el.scrollHeight;
    }
    firstKey.current = newFirst;
    prevHeight.current = el.scrollHeight;
    prevTop.current = el.scrollTop;
    if (changed) setTick((x) => x + 1);
  });

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setScroll({ top: el.scrollTop, height: el.clientHeight }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useLayoutEffect(() => {
    const el = box.current;
    const k = props.scrollToKey;
    if (!el || !k) return;
    const i = rows.findIndex((r) => r.key === k);
    if (i >= 0) {
      atBottom.current = false;
      el.scrollTop = Math.max(0, offsets[i] - el.clientHeight / 3);
      setScroll({ top: el.scrollTop, height: el.clientHeight });
    }
  }, [props.scrollToKey]);

  const onScroll = () => {
    const el = box.current!;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    prevHeight.current = el.scrollHeight;
    prevTop.current = el.scrollTop;
    setScroll({ top: el.scrollTop, height: el.clientHeight });
    if (el.scrollTop < 300) props.onNearTop?.();
    if (el.scrollHeight - el.scrollTop - el.clientHeight < 300) props.onNearBottom?.();
  };

  return (
    <div ref={box} class={props.class} onScroll={onScroll} role="log" aria-live="polite">
      <div style={{ height: offsets[start] + 'px' }} />
      {rows.slice(start, end).map((r) => (
        <div key={r.key} data-row={r.key}>
          {r.render()}
        </div>
      ))}
      <div style={{ height: total - offsets[end] + 'px' }} />
    </div>
  );
}
