import { Component, h, type FunctionComponent } from 'preact';

/**
 * A component that renders again only when `same(previous props, next props)` says its props
 * changed (what preact/compat's memo does, without pulling in compat, which changes how
 * Preact treats every element). Signals a wrapped component reads still re-render it.
 */
export function memo<P extends object>(render: FunctionComponent<P>, same: (a: P, b: P) => boolean): FunctionComponent<P> {
  class Memo extends Component<P> {
    shouldComponentUpdate(next: P) {
      return !same(this.props, next);
    }
    render(props: P) {
      return h(render as FunctionComponent<object>, props);
    }
  }
  (Memo as unknown as { displayName: string }).displayName = `Memo(${render.name || 'Component'})`;
  return Memo as unknown as FunctionComponent<P>;
}
