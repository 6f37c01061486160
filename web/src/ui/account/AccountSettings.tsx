import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { ApiError, type Account } from '../../api/types';
import { fmtDay, fmtTime, t } from '../../i18n';
import { fileUrl, upload } from '../../media/files';
import * as S from '../../state';

interface Session {
  id: number;
  device_name: string;
  client: string;
  ip: string;
  created_at: number;
  last_active_at: number;
  current: boolean;
}

const NOTIFY_KEY = 'heliograph.notify';
export function notificationsEnabled(): boolean {
  try {
    return localStorage.getItem(NOTIFY_KEY) !== 'off';
  } catch {
    return true;
  }
}

function errText(e: unknown): string {
  return e instanceof ApiError ? `${e.code}: ${e.message}` : t('error');
}

/** A form section with its own busy/error/done state. */
function useAction() {
  const busy = useSignal(false);
  const error = useSignal('');
  const done = useSignal('');
  const run = async (f: () => Promise<unknown>, ok = t('saved')) => {
    busy.value = true;
    error.value = '';
    done.value = '';
    try {
      await f();
      done.value = ok;
    } catch (e) {
      error.value = errText(e);
    } finally {
      busy.value = false;
    }
  };
  return { busy, error, done, run };
}

function Status({ a, testid }: { a: ReturnType<typeof useAction>; testid?: string }) {
  if (a.error.value) return <p class="error small" role="alert">{a.error.value}</p>;
  if (a.done.value) return <p class="muted small" role="status" data-testid={testid}>{a.done.value}</p>;
  return null;
}

function Section(props: { title: string; id: string; children: ComponentChildren }) {
  return (
    <section class="settings-section" data-testid={`settings-${props.id}`} aria-labelledby={`st-${props.id}`}>
      <h3 id={`st-${props.id}`}>{props.title}</h3>
      {props.children}
    </section>
  );
}

/** Everything in Settings: profile, photo, username, privacy, password, language, notifications, logins. */
export function AccountSettings({ language }: { language: ComponentChildren }) {
  const acct = useSignal<Account | null>(S.me.value);
  useEffect(() => {
    S.call<Account>('getMe')
      .then((a) => {
        acct.value = a;
        S.setAccount(a);
      })
      .catch(() => undefined);
  }, []);
  const a = acct.value;
  if (!a) return null;
  const set = (next: Account) => {
    acct.value = next;
    S.setAccount(next);
  };
  return (
    <div class="settings" data-testid="settings-panel">
      <ProfileSection acct={a} onSaved={set} />
      <PrivacySection acct={a} onSaved={set} />
      <Section title={t('language')} id="language">
        {language}
        <NotifyToggle />
      </Section>
      <ApproveSection />
      <SessionsSection />
      <PasswordSection />
    </div>
  );
}

function Avatar({ acct }: { acct: Account }) {
  const url = useSignal<string | null>(null);
  const id = acct.photo?.small_file_id;
  useEffect(() => {
    url.value = null;
    if (id) fileUrl(id).then((u) => (url.value = u)).catch(() => undefined);
  }, [id]);
  return (
    <div class="avatar big" aria-hidden="true" data-testid="profile-photo" data-has-photo={id ? '1' : undefined}>
      {url.value ? <img src={url.value} alt="" /> : acct.display_name.slice(0, 1).toUpperCase()}
    </div>
  );
}

function ProfileSection({ acct, onSaved }: { acct: Account; onSaved: (a: Account) => void }) {
  const act = useAction();
  const uact = useAction();
  const pact = useAction();
  const file = useRef<HTMLInputElement>(null);
  const saveProfile = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    void act.run(async () =>
      onSaved(await S.call<Account>('updateProfile', { display_name: String(f.get('display_name') ?? '').trim(), bio: String(f.get('bio') ?? '') })),
    );
  };
  const saveUsername = (e: Event) => {
    e.preventDefault();
    const name = String(new FormData(e.target as HTMLFormElement).get('username') ?? '').trim().replace(/^@/, '');
    void uact.run(async () => onSaved(await S.call<Account>('setUsername', { username: name || null })));
  };
  const setPhoto = (blob: File | null) =>
    void pact.run(async () => {
      const photo = blob ? await S.call<Account['photo']>('setProfilePhoto', { file_id: (await upload(blob, blob.name)).id }) : await S.call('setProfilePhoto', { file_id: null });
      onSaved({ ...acct, photo: (photo as Account['photo']) ?? null });
    });
  return (
    <Section title={t('profile')} id="profile">
      <div class="row">
        <Avatar acct={acct} />
        <input
          ref={file}
          type="file"
          accept="image/jpeg,image/png,image/webp"
          hidden
          data-testid="profile-photo-input"
          onChange={(e) => {
            const el = e.target as HTMLInputElement;
            if (el.files?.[0]) setPhoto(el.files[0]);
            el.value = '';
          }}
        />
        <button type="button" data-testid="profile-photo-button" disabled={pact.busy.value} onClick={() => file.current?.click()}>
          {t('changePhoto')}
        </button>
        {acct.photo && (
          <button type="button" class="link" data-testid="profile-photo-remove" onClick={() => setPhoto(null)}>
            {t('removePhoto')}
          </button>
        )}
      </div>
      <Status a={pact} />
      <form onSubmit={saveProfile} key={`p${acct.display_name}|${acct.bio}`}>
        <label>
          {t('displayName')}
          <input name="display_name" data-testid="profile-name" defaultValue={acct.display_name} required maxLength={64} dir="auto" />
        </label>
        <label>
          {t('bio')}
          <textarea name="bio" data-testid="profile-bio" defaultValue={acct.bio ?? ''} maxLength={140} rows={2} dir="auto" />
        </label>
        <button type="submit" class="primary" data-testid="profile-save" disabled={act.busy.value}>
          {t('save')}
        </button>
        <Status a={act} testid="profile-saved" />
      </form>
      <form onSubmit={saveUsername} key={`u${acct.username}`}>
        <label>
          {t('username')}
          <input name="username" data-testid="profile-username" defaultValue={acct.username ?? ''} maxLength={32} dir="ltr" />
        </label>
        <button type="submit" data-testid="profile-username-save" disabled={uact.busy.value}>
          {t('save')}
        </button>
        <Status a={uact} testid="profile-username-saved" />
      </form>
    </Section>
  );
}

function PrivacySection({ acct, onSaved }: { acct: Account; onSaved: (a: Account) => void }) {
  const act = useAction();
  const p = acct.privacy ?? { last_seen: 'everybody', private_chats: 'everybody' };
  const change = (field: 'last_seen' | 'private_chats') => (e: Event) =>
    void act.run(async () => onSaved(await S.call<Account>('setPrivacy', { [field]: (e.target as HTMLSelectElement).value })));
  return (
    <Section title={t('privacy')} id="privacy">
      <label>
        {t('lastSeenWho')}
        <select data-testid="privacy-last-seen" value={p.last_seen} onChange={change('last_seen')}>
          <option value="everybody">{t('everybody')}</option>
          <option value="contacts">{t('contacts')}</option>
          <option value="nobody">{t('nobody')}</option>
        </select>
      </label>
      <label>
        {t('privateChatsWho')}
        <select data-testid="privacy-private-chats" value={p.private_chats} onChange={change('private_chats')}>
          <option value="everybody">{t('everybody')}</option>
          <option value="contacts">{t('contacts')}</option>
        </select>
      </label>
      <Status a={act} testid="privacy-saved" />
    </Section>
  );
}

function NotifyToggle() {
  const on = useSignal(notificationsEnabled());
  return (
    <label class="check">
      <input
        type="checkbox"
        data-testid="notifications-toggle"
        checked={on.value}
        onChange={(e) => {
          on.value = (e.target as HTMLInputElement).checked;
          try {
            localStorage.setItem(NOTIFY_KEY, on.value ? 'on' : 'off');
          } catch {
            /* ignore */
          }
          if (on.value) S.askNotificationPermission();
        }}
      />
      {t('notificationsToggle')}
    </label>
  );
}

/** The code in a scanned QR (heliograph://login?code=…) or typed in. */
export function codeFrom(raw: string): string {
  const m = raw.match(/[?&]code=([A-Za-z0-9-]+)/);
  return (m ? m[1] : raw).trim();
}

function ApproveSection() {
  const act = useAction();
  const code = useSignal('');
  const scanning = useSignal(false);
  const approve = (raw: string) => {
    let device = '';
    void act
      .run(async () => {
        const r = await S.call<{ device_name: string; client: string }>('approveLoginCode', { code: codeFrom(raw) });
        device = `${r.device_name} (${r.client})`;
        code.value = '';
      })
      .then(() => {
        if (!act.error.value) act.done.value = t('approvedDevice', { device });
      });
  };
  const canScan = typeof window !== 'undefined' && 'BarcodeDetector' in window && !!navigator.mediaDevices?.getUserMedia;
  return (
    <Section title={t('approveLogin')} id="approve">
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          approve(code.value);
        }}
      >
        <input
          data-testid="approve-code-input"
          aria-label={t('loginCode')}
          placeholder={t('loginCode')}
          dir="ltr"
          value={code.value}
          onInput={(e) => (code.value = (e.target as HTMLInputElement).value)}
          required
        />
        <button type="submit" class="primary" data-testid="approve-code-submit" disabled={act.busy.value}>
          {t('approve')}
        </button>
        {canScan && (
          <button type="button" data-testid="approve-scan" onClick={() => (scanning.value = !scanning.value)}>
            {t('scan')}
          </button>
        )}
      </form>
      {scanning.value && <Scanner onCode={(c) => ((scanning.value = false), approve(c))} />}
      <Status a={act} testid="approve-done" />
    </Section>
  );
}

/** Camera + BarcodeDetector (where the browser has it). */
function Scanner({ onCode }: { onCode: (raw: string) => void }) {
  const video = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    let stream: MediaStream | null = null;
    let live = true;
    const Detector = (window as unknown as { BarcodeDetector: new (o: object) => { detect: (v: HTMLVideoElement) => Promise<{ rawValue: string }[]> } }).BarcodeDetector;
    const det = new Detector({ formats: ['qr_code'] });
    const tick = async () => {
      if (!live || !video.current) return;
      try {
        const found = await det.detect(video.current);
        if (found[0]?.rawValue) return onCode(found[0].rawValue);
      } catch {
        /* not ready */
      }
      setTimeout(() => void tick(), 300);
    };
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: 'environment' } })
      .then((s) => {
        stream = s;
        if (video.current) {
          video.current.srcObject = s;
          void video.current.play();
          void tick();
        }
      })
      .catch(() => undefined);
    return () => {
      live = false;
      stream?.getTracks().forEach((tr) => tr.stop());
    };
  }, []);
  return <video ref={video} class="scanner" muted playsInline />;
}

function SessionsSection() {
  const list = useSignal<Session[] | null>(null);
  const act = useAction();
  const load = () =>
    S.call<Session[]>('getSessions')
      .then((l) => (list.value = l))
      .catch((e) => (act.error.value = errText(e)));
  useEffect(() => void load(), []);
  const end = (id: number) => void act.run(() => S.call('endSession', { session_id: id }).then(load), '');
  const others = () => void act.run(() => S.call('endOtherSessions').then(load), '');
  const sessions = list.value ?? [];
  return (
    <Section title={t('sessions')} id="sessions">
      <ul class="sessions" data-testid="sessions-list">
        {sessions.map((s) => (
          <li key={s.id} data-testid="session-item" data-session-id={s.id} data-current={s.current ? '1' : undefined}>
            <div>
              <bdi>{s.device_name}</bdi> <span class="muted small">{s.client}</span>
              <div class="muted small">
                {s.current ? t('thisDevice') : `${s.ip} · ${fmtDay(s.last_active_at)} ${fmtTime(s.last_active_at)}`}
              </div>
            </div>
            {!s.current && (
              <button class="danger" data-testid="session-end" onClick={() => end(s.id)} disabled={act.busy.value}>
                {t('endSession')}
              </button>
            )}
          </li>
        ))}
      </ul>
      {sessions.filter((s) => !s.current).length > 1 && (
        <button class="danger" data-testid="sessions-end-others" onClick={others}>
          {t('endOthers')}
        </button>
      )}
      <Status a={act} />
    </Section>
  );
}

function PasswordSection() {
  const act = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const f = new FormData(form);
    void act.run(async () => {
      await S.call('changePassword', { old_password: String(f.get('old')), new_password: String(f.get('new')), end_other_sessions: f.get('others') === 'on' });
      form.reset();
    }, t('passwordChanged'));
  };
  return (
    <Section title={t('changePassword')} id="password">
      <form onSubmit={submit}>
        <input type="password" name="old" data-testid="password-old" autocomplete="current-password" placeholder={t('oldPassword')} aria-label={t('oldPassword')} required />
        <input type="password" name="new" data-testid="password-new" autocomplete="new-password" placeholder={t('newPassword')} aria-label={t('newPassword')} required minLength={8} />
        <label class="check">
          <input type="checkbox" name="others" data-testid="password-end-others" />
          {t('endOthers')}
        </label>
        <button type="submit" data-testid="password-submit" disabled={act.busy.value}>
          {t('changePassword')}
        </button>
        <Status a={act} testid="password-changed" />
      </form>
    </Section>
  );
}
