import { signal } from '@preact/signals';

export type Lang = 'en' | 'fa' | 'de';
export const LANGS: Lang[] = ['en', 'fa', 'de'];
export const LANG_NAMES: Record<Lang, string> = { en: 'English', fa: 'فارسی', de: 'Deutsch' };
const RTL = new Set<Lang>(['fa']);

const en = {
  appName: 'Heliograph',
  signIn: 'Sign in',
  signUp: 'Sign up',
  haveAccount: 'Have an account? Sign in',
  noAccount: 'New here? Create an account',
  username: 'Username',
  password: 'Password',
  displayName: 'Your name',
  search: 'Search chats',
  newChat: 'New chat',
  newChatHint: '@username',
  open: 'Open',
  newGroup: 'New group or channel',
  groupTitle: 'Title',
  groupMembers: 'Members (comma-separated usernames)',
  kindGroup: 'Group',
  kindChannel: 'Channel',
  create: 'Create',
  cancel: 'Cancel',
  settings: 'Settings',
  language: 'Language',
  signOut: 'Sign out',
  notifications: 'Enable notifications',
  online: 'online',
  connecting: 'Connecting…',
  offline: 'Waiting for network…',
  typing: 'typing…',
  someoneTyping: '{name} is typing…',
  message: 'Message',
  send: 'Send',
  noChats: 'No chats yet. Start one with “New chat”.',
  pickChat: 'Select a chat to start messaging',
  members: '{n} members',
  subscribers: '{n} subscribers',
  inviteLink: 'Invite link',
  copy: 'Copy',
  copied: 'Copied',
  join: 'Join',
  joinChannel: 'Join channel',
  alreadyMember: 'You are already a member',
  openChat: 'Open chat',
  edited: 'edited',
  reply: 'Reply',
  edit: 'Edit',
  deleteForMe: 'Delete for me',
  deleteForAll: 'Delete for everyone',
  pin: 'Pin',
  unpin: 'Unpin',
  react: 'React',
  pinned: 'Pinned message',
  today: 'Today',
  yesterday: 'Yesterday',
  views: '{n} views',
  sent: 'Sent',
  read: 'Read',
  back: 'Back',
  savedMessages: 'Saved Messages',
  lastSeen: 'last seen {time}',
  editing: 'Editing',
  replyingTo: 'Replying to',
  loading: 'Loading…',
  error: 'Something went wrong',
  photo: 'Media',
  you: 'You',
  close: 'Close',
};
export type Key = keyof typeof en;

const fa: Record<Key, string> = {
  appName: 'هلیوگراف',
  signIn: 'ورود',
  signUp: 'ثبت‌نام',
  haveAccount: 'حساب دارید؟ وارد شوید',
  noAccount: 'تازه‌وارد هستید؟ حساب بسازید',
  username: 'نام کاربری',
  password: 'گذرواژه',
  displayName: 'نام شما',
  search: 'جستجوی گفتگوها',
  newChat: 'گفتگوی تازه',
  newChatHint: '@نام‌کاربری',
  open: 'باز کردن',
  newGroup: 'گروه یا کانال تازه',
  groupTitle: 'عنوان',
  groupMembers: 'اعضا (نام‌های کاربری، جدا با ویرگول)',
  kindGroup: 'گروه',
  kindChannel: 'کانال',
  create: 'ساختن',
  cancel: 'انصراف',
  settings: 'تنظیمات',
  language: 'زبان',
  signOut: 'خروج',
  notifications: 'فعال کردن اعلان‌ها',
  online: 'آنلاین',
  connecting: 'در حال اتصال…',
  offline: 'در انتظار شبکه…',
  typing: 'در حال نوشتن…',
  someoneTyping: '{name} در حال نوشتن است…',
  message: 'پیام',
  send: 'ارسال',
  noChats: 'هنوز گفتگویی نیست. با «گفتگوی تازه» شروع کنید.',
  pickChat: 'یک گفتگو را برای شروع انتخاب کنید',
  members: '{n} عضو',
  subscribers: '{n} مشترک',
  inviteLink: 'پیوند دعوت',
  copy: 'رونوشت',
  copied: 'رونوشت شد',
  join: 'پیوستن',
  joinChannel: 'پیوستن به کانال',
  alreadyMember: 'شما عضو هستید',
  openChat: 'باز کردن گفتگو',
  edited: 'ویرایش‌شده',
  reply: 'پاسخ',
  edit: 'ویرایش',
  deleteForMe: 'حذف برای من',
  deleteForAll: 'حذف برای همه',
  pin: 'سنجاق',
  unpin: 'برداشتن سنجاق',
  react: 'واکنش',
  pinned: 'پیام سنجاق‌شده',
  today: 'امروز',
  yesterday: 'دیروز',
  views: '{n} بازدید',
  sent: 'ارسال شد',
  read: 'خوانده شد',
  back: 'بازگشت',
  savedMessages: 'پیام‌های ذخیره‌شده',
  lastSeen: 'آخرین بازدید {time}',
  editing: 'در حال ویرایش',
  replyingTo: 'پاسخ به',
  loading: 'در حال بارگذاری…',
  error: 'خطایی رخ داد',
  photo: 'رسانه',
  you: 'شما',
  close: 'بستن',
};

const de: Record<Key, string> = {
  appName: 'Heliograph',
  signIn: 'Anmelden',
  signUp: 'Registrieren',
  haveAccount: 'Schon ein Konto? Anmelden',
  noAccount: 'Neu hier? Konto erstellen',
  username: 'Benutzername',
  password: 'Passwort',
  displayName: 'Dein Name',
  search: 'Chats durchsuchen',
  newChat: 'Neuer Chat',
  newChatHint: '@benutzername',
  open: 'Öffnen',
  newGroup: 'Neue Gruppe oder neuer Kanal',
  groupTitle: 'Titel',
  groupMembers: 'Mitglieder (Benutzernamen, durch Kommas getrennt)',
  kindGroup: 'Gruppe',
  kindChannel: 'Kanal',
  create: 'Erstellen',
  cancel: 'Abbrechen',
  settings: 'Einstellungen',
  language: 'Sprache',
  signOut: 'Abmelden',
  notifications: 'Benachrichtigungen aktivieren',
  online: 'online',
  connecting: 'Verbinde…',
  offline: 'Warte auf Netzwerk…',
  typing: 'schreibt…',
  someoneTyping: '{name} schreibt…',
  message: 'Nachricht',
  send: 'Senden',
  noChats: 'Noch keine Chats. Beginne einen mit „Neuer Chat“.',
  pickChat: 'Wähle einen Chat aus',
  members: '{n} Mitglieder',
  subscribers: '{n} Abonnenten',
  inviteLink: 'Einladungslink',
  copy: 'Kopieren',
  copied: 'Kopiert',
  join: 'Beitreten',
  joinChannel: 'Kanal beitreten',
  alreadyMember: 'Du bist bereits Mitglied',
  openChat: 'Chat öffnen',
  edited: 'bearbeitet',
  reply: 'Antworten',
  edit: 'Bearbeiten',
  deleteForMe: 'Für mich löschen',
  deleteForAll: 'Für alle löschen',
  pin: 'Anheften',
  unpin: 'Loslösen',
  react: 'Reagieren',
  pinned: 'Angeheftete Nachricht',
  today: 'Heute',
  yesterday: 'Gestern',
  views: '{n} Aufrufe',
  sent: 'Gesendet',
  read: 'Gelesen',
  back: 'Zurück',
  savedMessages: 'Gespeicherte Nachrichten',
  lastSeen: 'zuletzt online {time}',
  editing: 'Bearbeiten',
  replyingTo: 'Antwort an',
  loading: 'Lädt…',
  error: 'Etwas ist schiefgelaufen',
  photo: 'Medien',
  you: 'Du',
  close: 'Schließen',
};

export const DICTS: Record<Lang, Record<Key, string>> = { en, fa, de };
const STORE_KEY = 'heliograph.lang';

export function detectLang(stored: string | null, navLangs: readonly string[]): Lang {
  if (stored && (LANGS as string[]).includes(stored)) return stored as Lang;
  for (const l of navLangs) {
    const base = l.toLowerCase().split('-')[0];
    if ((LANGS as string[]).includes(base)) return base as Lang;
  }
  return 'en';
}

function initial(): Lang {
  if (typeof navigator === 'undefined') return 'en';
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(STORE_KEY);
  } catch {
    /* private mode */
  }
  return detectLang(stored, navigator.languages?.length ? navigator.languages : [navigator.language]);
}

export const lang = signal<Lang>(initial());

export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const s = DICTS[lang.value][key] ?? en[key];
  return s.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
}

export function isRtl(l: Lang = lang.value): boolean {
  return RTL.has(l);
}

export function applyLang(l: Lang): void {
  if (typeof document !== 'undefined') {
    document.documentElement.lang = l;
    document.documentElement.dir = isRtl(l) ? 'rtl' : 'ltr';
  }
}

export function setLang(l: Lang): void {
  lang.value = l;
  try {
    localStorage.setItem(STORE_KEY, l);
  } catch {
    /* ignore */
  }
  applyLang(l);
}

export function fmtNumber(n: number): string {
  return new Intl.NumberFormat(lang.value).format(n);
}

export function fmtTime(unix: number): string {
  return new Intl.DateTimeFormat(lang.value, { hour: '2-digit', minute: '2-digit' }).format(unix * 1000);
}

export function fmtDay(unix: number, now = Date.now()): string {
  const d = new Date(unix * 1000);
  const today = new Date(now);
  const startOf = (x: Date) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const diff = Math.round((startOf(today) - startOf(d)) / 86400000);
  if (diff === 0) return t('today');
  if (diff === 1) return t('yesterday');
  return new Intl.DateTimeFormat(lang.value, { day: 'numeric', month: 'long', year: d.getFullYear() === today.getFullYear() ? undefined : 'numeric' }).format(d);
}
