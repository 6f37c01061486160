import { useLayoutEffect, useRef } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { useReturnFocus, useWindowKeys } from './focus';

/** A modal dialog: Escape or a click outside closes it; focus starts on its first control
 * and goes back to what opened it. */
export function Modal(props: { title: string; onClose: () => void; children: ComponentChildren; testid?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useReturnFocus(ref);
  useWindowKeys((e) => e.key === 'Escape' && props.onClose());
  useLayoutEffect(() => {
    ref.current?.querySelector<HTMLElement>('input,select,button')?.focus();
  }, []);
  return (
    <div class="overlay" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="card modal" role="dialog" aria-modal="true" aria-label={props.title} ref={ref} data-testid={props.testid}>
        <h2>{props.title}</h2>
        {props.children}
      </div>
    </div>
  );
}
