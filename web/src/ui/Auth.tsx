import { useSignal } from '@preact/signals';
import { t } from '../i18n';
import * as S from '../state';
import { QrLogin } from './account/QrLogin';
import { errText } from './errors';
import { LanguageSelect } from './LanguageSelect';

/** The sign-in / sign-up screen (or sign-in with a QR code approved on another device). */
export function Auth() {
  const mode = useSignal<'in' | 'up' | 'qr'>('in');
  const error = useSignal('');
  const busy = useSignal(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const get = (k: string) => String(f.get(k) ?? '');
    busy.value = true;
    error.value = '';
    try {
      if (mode.value === 'in') await S.signIn(get('username'), get('password'));
      else await S.signUp(get('username'), get('password'), get('name'));
    } catch (err) {
      error.value = errText(err);
    } finally {
      busy.value = false;
    }
  };
  const p = mode.value === 'in' ? 'signin' : 'signup';
  if (mode.value === 'qr')
    return (
      <main class="auth">
        <QrLogin onBack={() => (mode.value = 'in')} />
      </main>
    );
  return (
    <main class="auth">
      <form onSubmit={submit} class="card" key={mode.value}>
        <h1>{t('appName')}</h1>
        <h2>{mode.value === 'in' ? t('signIn') : t('signUp')}</h2>
        <label>
          {t('username')}
          <input name="username" data-testid={`${p}-username`} autocomplete="username" required autoFocus />
        </label>
        <label>
          {t('password')}
          <input name="password" type="password" data-testid={`${p}-password`} autocomplete={mode.value === 'in' ? 'current-password' : 'new-password'} required />
        </label>
        {mode.value === 'up' && (
          <label>
            {t('displayName')}
            <input name="name" data-testid="signup-name" required maxLength={64} />
          </label>
        )}
        {error.value && <p class="error" role="alert">{error.value}</p>}
        <button type="submit" class="primary" data-testid={`${p}-submit`} disabled={busy.value}>
          {mode.value === 'in' ? t('signIn') : t('signUp')}
        </button>
        <button type="button" class="link" data-testid="auth-switch" onClick={() => (mode.value = mode.value === 'in' ? 'up' : 'in')}>
          {mode.value === 'in' ? t('noAccount') : t('haveAccount')}
        </button>
        <button type="button" class="link" data-testid="qr-login-button" onClick={() => (mode.value = 'qr')}>
          {t('qrSignIn')}
        </button>
        <LanguageSelect />
      </form>
    </main>
  );
}
