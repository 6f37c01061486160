import { signal } from '@preact/signals';
import type { ComponentType } from 'preact';

/** A component loaded with a dynamic import the first time it renders (a separate chunk). */
export function lazy<P extends object>(load: () => Promise<{ default: ComponentType<P> }>): ComponentType<P> {
  const loaded = signal<ComponentType<P> | null>(null);
  let started = false;
  return (props: P) => {
    const C = loaded.value;
    if (!C) {
      if (!started) {
        started = true;
        load().then((m) => (loaded.value = m.default)).catch(() => (started = false));
      }
      return null;
    }
    return <C {...props} />;
  };
}
