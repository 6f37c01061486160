import { useEffect, useRef } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { useReturnFocus } from './focus';

/** A modal dialog: Escape or a click outside closes it; focus starts on its first control
 * and goes back to what opened it. */
export function Modal(props: { title: string; onClose: () => void; children: ComponentChildren; testid?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const close = useRef(props.onClose);
  close.current = props.onClose;
  useReturnFocus(ref);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && close.current();
    window.addEventListener('keydown', onKey);
    ref.current?.querySelector<HTMLElement>('input,select,button')?.focus();
    return () => window.removeEventListener('keydown', onKey);
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
