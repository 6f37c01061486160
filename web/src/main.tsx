import { render } from 'preact';
import { effect } from '@preact/signals';
import { App } from './ui/App';
import { applyLang, lang } from './i18n';
import './style.css';

effect(() => applyLang(lang.value));
render(<App />, document.getElementById('app')!);

if ('serviceWorker' in navigator && import.meta.env.PROD) {
  window.addEventListener('load', () => void navigator.serviceWorker.register('/sw.js').catch(() => undefined));
}
