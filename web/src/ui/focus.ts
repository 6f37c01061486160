import type { RefObject } from 'preact';
import { useLayoutEffect } from 'preact/hooks';

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
