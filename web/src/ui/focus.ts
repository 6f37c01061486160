import type { RefObject } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';

/**
 * For a dialog or panel: while it is open it remembers what had focus when it opened, and
 * when it closes gives focus back to that (if focus was inside it, or lost), so a keyboard
 * user goes on where they were. (Layout effects: the cleanup runs while the dialog is still
 * in the document, before its DOM goes.)
 */
export function useReturnFocus(box: RefObject<HTMLElement | null>) {
  useLayoutEffect(() => {
    const opener = document.activeElement;
    return () => {
      const now = document.activeElement;
      const lost = !now || now === document.body || !!box.current?.contains(now);
      if (lost && opener instanceof HTMLElement && opener !== document.body && opener.isConnected) opener.focus();
    };
  }, []);
}

/**
 * Listens for keys on the whole window while the component is mounted, always calling the
 * latest `onKey`. A layout effect: the listener is in place as soon as the component is in the
 * document, so an Escape pressed right after a panel appears is not lost (a passive effect
 * waits for the next frame).
 */
export function useWindowKeys(onKey: (e: KeyboardEvent) => void) {
  const latest = useRef(onKey);
  latest.current = onKey;
  useLayoutEffect(() => {
    const listener = (e: KeyboardEvent) => latest.current(e);
    window.addEventListener('keydown', listener);
    return () => window.removeEventListener('keydown', listener);
  }, []);
}
