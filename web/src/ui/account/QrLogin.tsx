import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { httpCall } from '../../api/http';
import { ApiError, type Authorization } from '../../api/types';
import { t } from '../../i18n';
import * as S from '../../state';

interface LoginCode {
  code: string;
  secret: string;
  url: string;
  qr_svg: string;
  expires_at: number;
}

const POLL_MS = 1500;

/**
 * Sign in without a password: ask for a login code, show it (the server's QR SVG and the code
 * as text), and poll checkLoginCode until a signed-in device approves it.
 */
export function QrLogin({ onBack }: { onBack: () => void }) {
  const code = useSignal<LoginCode | null>(null);
  const state = useSignal<'loading' | 'waiting' | 'expired' | 'error'>('loading');
  const error = useSignal('');
  const round = useSignal(0);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    state.value = 'loading';
    code.value = null;
    const device = (typeof navigator !== 'undefined' && navigator.userAgent.slice(0, 60)) || 'browser';
    const poll = async (c: LoginCode) => {
      if (!live) return;
      if (Date.now() / 1000 > c.expires_at) {
        state.value = 'expired';
        return;
      }
      try {
        const st = await httpCall<{ approved: boolean; authorization?: Authorization | null }>('checkLoginCode', { code: c.code, secret: c.secret }, null);
        if (!live) return;
        if (st.approved && st.authorization) {
          S.startSession(st.authorization);
          return;
        }
      } catch (e) {
        if (!live) return;
        if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 429) {
          state.value = /EXPIRED|INVALID|NOT_FOUND/.test(e.code) ? 'expired' : 'error';
          error.value = `${e.code}: ${e.message}`;
          return;
        }
      }
      timer = setTimeout(() => void poll(c), POLL_MS);
    };
    httpCall<LoginCode>('requestLoginCode', { device_name: device, client: 'Heliograph Web' }, null)
      .then((c) => {
        if (!live) return;
        code.value = c;
        state.value = 'waiting';
        timer = setTimeout(() => void poll(c), POLL_MS);
      })
      .catch((e) => {
        state.value = 'error';
        error.value = e instanceof ApiError ? `${e.code}: ${e.message}` : t('error');
      });
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [round.value]);

  const c = code.value;
  return (
    <div class="card qr-login" data-testid="qr-login" data-state={state.value}>
      <h1>{t('appName')}</h1>
      <h2>{t('qrSignIn')}</h2>
      {state.value === 'loading' && <p>{t('loading')}</p>}
      {c && state.value === 'waiting' && (
        <>
          {/* the SVG is made by the server (segno) from the code: no user input in it */}
          <div class="qr" data-testid="qr-image" role="img" aria-label={c.url} dangerouslySetInnerHTML={{ __html: c.qr_svg }} />
          <p class="qr-code" dir="ltr">
            <code data-testid="qr-code-text">{c.code}</code>
          </p>
          <p class="muted small">{t('qrHint')}</p>
          <p class="muted small" role="status" aria-live="polite">
            {t('qrWaiting')}
          </p>
        </>
      )}
      {(state.value === 'expired' || state.value === 'error') && (
        <>
          <p class={state.value === 'error' ? 'error' : 'muted'} role="alert">
            {state.value === 'expired' ? t('qrExpired') : error.value}
          </p>
          <button class="primary" data-testid="qr-new-code" onClick={() => (round.value += 1)}>
            {t('qrNew')}
          </button>
        </>
      )}
      <button type="button" class="link" data-testid="qr-back" onClick={onBack}>
        {t('usePassword')}
      </button>
    </div>
  );
}
