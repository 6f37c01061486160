import { batch, computed, signal } from '@preact/signals';
import { httpCall, wsUrl } from './api/http';
import { ApiError, SESSION_ENDING, type Account, type Authorization, type Chat, type LiveEvent, type Message, type Update, type User } from './api/types';
import { LiveConnection, NotConnected, type ConnState, type SocketLike } from './sync/live';
import { fmtDay, fmtTime, t } from './i18n';
import { mentionsMe } from './chat/emoji';
import { legacyKey, loadLegacy } from './chat/prefs';

const SESSION_KEY = 'heliograph.session';
const CHATS_KEY = 'heliograph.chats';

interface Session {
  token: string;
  account: Account;
}

function load<T>(key: string): T | null {
  try {
    const raw = localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

export const session = signal<Session | null>(load<Session>(SESSION_KEY));
export const connState = signal<ConnState>('connecting');
export const chats = signal<Map<number, Chat>>(new Map());
/** the account's pinned chats, first shown first (kept on the server) */
export const pinnedChatIds = signal<number[]>([]);
export const users = signal<Map<number, User>>(new Map());
export const histories = signal<Map<number, Message[]>>(new Map());
export const historyComplete = signal<Set<number>>(new Set());
/** chats whose loaded history is a window around an older message (loadAround) that does
 * not reach the newest message yet: scrolling down loads newer pages until it joins */
export const historyDetached = signal<Set<number>>(new Set());
/** chat id → (user id → expiry ms) */
export const typing = signal<Map<number, Map<number, number>>>(new Map());
export const currentChatId = signal<number | null>(null);
export const searchQuery = signal('');

export const me = computed(() => session.value?.account ?? null);

export const chatList = computed(() => {
  const q = searchQuery.value.trim().toLowerCase();
  return [...chats.value.values()]
    .filter((c) => !q || c.title.toLowerCase().includes(q) || (c.username ?? '').toLowerCase().includes(q))
    .sort((a, b) => b.last_activity - a.last_activity || b.id - a.id);
});

export const totalUnread = computed(() => [...chats.value.values()].reduce((n, c) => n + (c.unread_count || 0), 0));

let live: LiveConnection | null = null;

// --- calls ----------------------------------------------------------------------------------

export async function call<T = unknown>(method: string, params: object = {}): Promise<T> {
  try {
    if (live?.authenticated) {
      try {
        return await live.call<T>(method, params);
      } catch (e) {
        if (!(e instanceof NotConnected)) throw e;
      }
    }
    return await httpCall<T>(method, params, session.value?.token ?? null);
  } catch (e) {
    if (e instanceof ApiError && SESSION_ENDING.has(e.code) && session.value) signOutLocal();
    throw e;
  }
}

// --- session --------------------------------------------------------------------------------

export async function signIn(username: string, password: string): Promise<void> {
  const auth = await httpCall<Authorization>('signIn', { username, password, device_name: deviceName(), client: 'Heliograph Web' }, null);
  startSession(auth);
}

export async function signUp(username: string, password: string, displayName: string): Promise<void> {
  const auth = await httpCall<Authorization>(
    'signUp',
    { username, password, display_name: displayName, device_name: deviceName(), client: 'Heliograph Web' },
    null,
  );
  startSession(auth);
}

function deviceName(): string {
  return (typeof navigator !== 'undefined' && navigator.userAgent.slice(0, 60)) || 'browser';
}

export function startSession(auth: Authorization) {
  const s = { token: auth.token, account: auth.account };
  localStorage.setItem(SESSION_KEY, JSON.stringify(s));
  session.value = s;
  connect();
}

/** The account changed (profile, username, privacy): keep the session's copy current. */
export function setAccount(account: Account) {
  const s = session.value;
  if (!s || s.account.id !== account.id) return;
  const next = { ...s, account: { ...s.account, ...account } };
  localStorage.setItem(SESSION_KEY, JSON.stringify(next));
  session.value = next;
}

export async function signOut(): Promise<void> {
  try {
    await call('signOut');
  } catch {
    /* ended anyway */
  }
  signOutLocal();
}

function signOutLocal() {
  void live?.close();
  live = null;
  localStorage.removeItem(SESSION_KEY);
  localStorage.removeItem(CHATS_KEY);
  batch(() => {
    session.value = null;
    chats.value = new Map();
    pinnedChatIds.value = [];
    histories.value = new Map();
    historyComplete.value = new Set();
    historyDetached.value = new Set();
    currentChatId.value = null;
  });
}

// --- the live connection --------------------------------------------------------------------

export function connect(socket: (url: string) => SocketLike = (url) => new WebSocket(url) as unknown as SocketLike) {
  const s = session.value;
  if (!s || live) return;
  const cached = load<{ chats: Chat[]; users: User[]; pinned?: number[] }>(CHATS_KEY);
  if (cached && chats.value.size === 0) {
    chats.value = new Map(cached.chats.map((c) => [c.id, c]));
    users.value = new Map(cached.users.map((u) => [u.id, u]));
    pinnedChatIds.value = cached.pinned ?? [];
  }
  live = new LiveConnection({
    url: wsUrl(),
    token: s.token,
    socket,
    onUpdate: applyUpdate,
    onEvent: applyEvent,
    onStatus: (st) => (connState.value = st),
    onEnded: () => signOutLocal(),
    onReady: async (_ready, first) => {
      if (first) await reloadAll();
    },
  });
  live.start();
  if (typeof window !== 'undefined') {
    window.addEventListener('online', () => live?.kick());
    window.addEventListener('offline', () => live?.drop());
  }
}

async function reloadAll(): Promise<void> {
  const [recent, pinned] = await Promise.all([call<Chat[]>('getChats', { limit: 100 }), call<Chat[]>('getPinnedChats')]);
  // a pinned chat is shown however long ago its last message was
  const list = [...recent, ...pinned.filter((p) => !recent.some((c) => c.id === p.id))];
  batch(() => {
    chats.value = new Map(list.map((c) => [c.id, c]));
    pinnedChatIds.value = pinned.map((c) => c.id);
  });
  for (const c of list) if (c.pts != null) live?.follow(c.id, c.pts);
  await ensureUsers(list.flatMap((c) => [c.peer_user_id, c.last_message?.sender_id]));
  const open = currentChatId.value;
  if (open) void loadHistory(open, true);
  persist();
  void moveLegacyPrefs();
}

/** Pins and archive an earlier version kept in this browser go to the server, once. */
async function moveLegacyPrefs(): Promise<void> {
  const id = me.value?.id;
  const legacy = id ? loadLegacy(globalThis.localStorage, id) : null;
  if (!id || !legacy) return;
  try {
    for (const chatId of legacy.archived) if (chats.value.has(chatId)) await call('archiveChat', { chat_id: chatId });
    // pinning puts a chat first: pin the last one first to keep the order
    for (const chatId of [...legacy.pinned].reverse()) if (chats.value.has(chatId)) await call('pinChat', { chat_id: chatId });
    localStorage.removeItem(legacyKey(id));
  } catch {
    /* tried again on the next start */
  }
}

/** Pin a chat first in the list, or unpin it; every device, this one too, follows through
 * the update. False when the server refused (offline, or too many pinned). */
export async function pinChat(chatId: number, pinned: boolean): Promise<boolean> {
  return call('pinChat', { chat_id: chatId, pinned }).then(() => true, () => false);
}

/** Move a chat into the archive or out of it (archiving unpins). */
export async function archiveChat(chatId: number, archived: boolean): Promise<boolean> {
  return call('archiveChat', { chat_id: chatId, archived }).then(() => true, () => false);
}

let persistTimer: ReturnType<typeof setTimeout> | undefined;
function persist() {
  clearTimeout(persistTimer);
  persistTimer = setTimeout(() => {
    try {
      const list = [...chats.value.values()];
      const ids = new Set(list.map((c) => c.peer_user_id).filter(Boolean));
      const known = [...users.value.values()].filter((u) => ids.has(u.id));
      localStorage.setItem(CHATS_KEY, JSON.stringify({ chats: list, users: known, pinned: pinnedChatIds.value }));
    } catch {
      /* quota */
    }
  }, 300);
}

const usersLoading = new Set<number>();
export async function ensureUsers(ids: (number | null | undefined)[]): Promise<void> {
  const missing = [...new Set(ids.filter((id): id is number => !!id && id > 0))].filter((id) => !users.value.has(id) && !usersLoading.has(id));
  if (!missing.length) return;
  missing.forEach((id) => usersLoading.add(id));
  try {
    for (let i = 0; i < missing.length; i += 100) {
      const got = await call<User[]>('getUsers', { user_ids: missing.slice(i, i + 100) });
      const next = new Map(users.value);
      for (const u of got) next.set(u.id, u);
      users.value = next;
    }
  } catch {
    /* shown without names */
  } finally {
    missing.forEach((id) => usersLoading.delete(id));
  }
}

// --- chats and history ----------------------------------------------------------------------

export function putChat(chat: Chat) {
  const next = new Map(chats.value);
  next.set(chat.id, chat);
  chats.value = next;
  if (chat.pts != null) live?.follow(chat.id, chat.pts);
  persist();
}

/** chat id → how many times updates changed it here (see refreshChat) */
const patches = new Map<number, number>();

export function patchChat(id: number, patch: (c: Chat) => Partial<Chat> | null) {
  const c = chats.value.get(id);
  if (!c) return;
  const p = patch(c);
  if (!p) return;
  patches.set(id, (patches.get(id) ?? 0) + 1);
  const next = new Map(chats.value);
  next.set(id, { ...c, ...p });
  chats.value = next;
  persist();
}

/** chat id → whether it was asked for again while being read (then it is read once more:
 * an update that came meanwhile, as being muted and then unmuted, is never missed) */
const refreshing = new Map<number, boolean>();
export async function refreshChat(id: number): Promise<void> {
  if (refreshing.has(id)) {
    refreshing.set(id, true);
    return;
  }
  refreshing.set(id, false);
  try {
    // An update applied while the chat was being read may be newer than what was read (a
    // message that came meanwhile): then the read is stale, and is done again.
    let chat: Chat;
    let tries = 0;
    do {
      const seen = patches.get(id) ?? 0;
      chat = await call<Chat>('getChat', { chat_id: id });
      if ((patches.get(id) ?? 0) === seen) break;
    } while (++tries < 5);
    putChat(chat);
    void ensureUsers([chat.peer_user_id, chat.last_message?.sender_id]);
  } catch (e) {
    if (e instanceof ApiError && e.status >= 400 && e.status < 500) removeChat(id);
  } finally {
    const again = refreshing.get(id);
    refreshing.delete(id);
    if (again) void refreshChat(id);
  }
}

/** Why the user may not write in a chat, or null when they may (a chat read before the
 * server said its rights: judged by the role, as then). */
export function sendBlockedReason(chat: Chat): string | null {
  const rights = chat.my_rights;
  if (!rights) return chat.kind === 'channel' && chat.role !== 'owner' && chat.role !== 'admin' ? t('cantSend') : null;
  if (rights.send_messages) return null;
  if (chat.role === 'restricted') {
    const until = chat.restricted_until ?? 0;
    return until ? t('mutedUntil', { time: `${fmtDay(until)} ${fmtTime(until)}` }) : t('mutedNotice');
  }
  return t('cantSend');
}

function removeChat(id: number) {
  if (!chats.value.has(id)) return;
  const next = new Map(chats.value);
  next.delete(id);
  chats.value = next;
  if (currentChatId.value === id) currentChatId.value = null;
  persist();
}

function setHistory(chatId: number, msgs: Message[]) {
  const next = new Map(histories.value);
  next.set(chatId, msgs);
  histories.value = next;
}

/** Messages that arrived live past the end of a detached window (or while one loads): they
 * join the history when it reaches the newest message. chat id → (message id → message). */
const pendingNew = new Map<number, Map<number, Message>>();

function setDetached(chatId: number, detached: boolean) {
  if (historyDetached.value.has(chatId) === detached) return;
  const next = new Set(historyDetached.value);
  if (detached) next.add(chatId);
  else next.delete(chatId);
  historyDetached.value = next;
}

/** Merge messages into a chat's loaded history, by id (idempotent). `onlyIfLoaded`: they
 * came live (sent, received): a chat not loaded is left alone, and a detached window takes
 * only those within it, keeping the rest until it joins the live end (no gap in between). */
export function mergeMessages(chatId: number, incoming: Message[], onlyIfLoaded = false) {
  const cur = histories.value.get(chatId);
  if (!cur && onlyIfLoaded) return;
  if (onlyIfLoaded) {
    const last = cur?.[cur.length - 1]?.id ?? 0;
    const pending = pendingNew.get(chatId);
    if (pending) for (const m of incoming) if (m.id > last) pending.set(m.id, m);
    if (historyDetached.value.has(chatId)) incoming = incoming.filter((m) => m.id <= last);
    if (!incoming.length) return;
  }
  const byId = new Map((cur ?? []).map((m) => [m.id, m]));
  for (const m of incoming) byId.set(m.id, m);
  setHistory(chatId, [...byId.values()].sort((a, b) => a.id - b.id));
}

/** Put changed messages (edits) in place of the loaded ones; others are not loaded here. */
function replaceMessages(chatId: number, changed: Message[]) {
  const byId = new Map(changed.map((m) => [m.id, m]));
  const pending = pendingNew.get(chatId);
  if (pending) for (const m of changed) if (pending.has(m.id)) pending.set(m.id, m);
  const cur = histories.value.get(chatId);
  if (cur?.some((m) => byId.has(m.id))) setHistory(chatId, cur.map((m) => byId.get(m.id) ?? m));
}

/** The window has reached the newest message: what came meanwhile follows it. */
function joinLive(chatId: number) {
  const pending = pendingNew.get(chatId);
  pendingNew.delete(chatId);
  setDetached(chatId, false);
  const cur = histories.value.get(chatId) ?? [];
  const last = cur[cur.length - 1]?.id ?? 0;
  const later = [...(pending?.values() ?? [])].filter((m) => m.id > last);
  if (later.length) mergeMessages(chatId, later);
}

const loadingOlder = new Set<number>();
export async function loadHistory(chatId: number, fresh = false): Promise<void> {
  const msgs = await call<Message[]>('getHistory', { chat_id: chatId, limit: 50 });
  if (fresh || historyDetached.value.has(chatId)) {
    batch(() => {
      pendingNew.delete(chatId);
      setDetached(chatId, false);
      setHistory(chatId, msgs);
      const done = new Set(historyComplete.value);
      done.delete(chatId);
      historyComplete.value = done;
    });
  } else mergeMessages(chatId, msgs);
  if (msgs.length < 50) historyComplete.value = new Set(historyComplete.value).add(chatId);
  void ensureUsers(msgs.map((m) => m.sender_id));
  void countViews(chatId, msgs);
}

export async function loadOlder(chatId: number): Promise<boolean> {
  const cur = histories.value.get(chatId);
  if (!cur?.length || loadingOlder.has(chatId) || historyComplete.value.has(chatId)) return false;
  loadingOlder.add(chatId);
  try {
    const msgs = await call<Message[]>('getHistory', { chat_id: chatId, offset_id: cur[0].id, limit: 50 });
    if (msgs.length < 50) historyComplete.value = new Set(historyComplete.value).add(chatId);
    mergeMessages(chatId, msgs);
    void ensureUsers(msgs.map((m) => m.sender_id));
    void countViews(chatId, msgs);
    return msgs.length > 0;
  } finally {
    loadingOlder.delete(chatId);
  }
}

const AROUND = 50;
const loadingNewer = new Set<number>();

/** Load the messages around one not loaded (a search result, a reply, a pin far back) in
 * place of the chat's history. Unless that window reaches the newest message, the history
 * is detached: newer pages (loadNewer) follow as the user scrolls down, until it joins. */
export async function loadAround(chatId: number, messageId: number): Promise<void> {
  pendingNew.set(chatId, pendingNew.get(chatId) ?? new Map()); // what arrives meanwhile
  let msgs: Message[];
  try {
    msgs = await call<Message[]>('getHistory', { chat_id: chatId, around_id: messageId, limit: AROUND });
  } catch (e) {
    if (!historyDetached.value.has(chatId)) pendingNew.delete(chatId);
    throw e;
  }
  // the server takes up to half at or before the message, the rest after it, and more of
  // one side where the other runs out: fewer after it than it could take means the end
  const upTo = msgs.filter((m) => m.id <= messageId).length;
  const after = msgs.length - upTo;
  const newest = chats.value.get(chatId)?.last_message?.id ?? 0;
  const reachesEnd = after < AROUND - Math.min(upTo, Math.ceil(AROUND / 2)) || (msgs.length > 0 && msgs[msgs.length - 1].id >= newest);
  batch(() => {
    setHistory(chatId, msgs);
    const done = new Set(historyComplete.value);
    done.delete(chatId);
    historyComplete.value = done;
    setDetached(chatId, true);
    if (reachesEnd) joinLive(chatId);
  });
  void ensureUsers(msgs.map((m) => m.sender_id));
  void countViews(chatId, msgs);
}

/** The next newer page of a detached history; joins the live end with a short page. */
export async function loadNewer(chatId: number): Promise<boolean> {
  const cur = histories.value.get(chatId);
  if (!cur?.length || !historyDetached.value.has(chatId) || loadingNewer.has(chatId)) return false;
  loadingNewer.add(chatId);
  try {
    const msgs = await call<Message[]>('getHistory', { chat_id: chatId, offset_id: cur[cur.length - 1].id, direction: 'newer', limit: 50 });
    if (!historyDetached.value.has(chatId)) return false; // reloaded meanwhile
    batch(() => {
      mergeMessages(chatId, msgs);
      if (msgs.length < 50) joinLive(chatId);
    });
    void ensureUsers(msgs.map((m) => m.sender_id));
    void countViews(chatId, msgs);
    return msgs.length > 0;
  } finally {
    loadingNewer.delete(chatId);
  }
}

/** Back to the newest messages (the history is loaded again unless it is there). */
export async function loadLatest(chatId: number): Promise<void> {
  if (historyDetached.value.has(chatId)) await loadHistory(chatId, true);
}

async function countViews(chatId: number, msgs: Message[]) {
  const chat = chats.value.get(chatId);
  if (chat?.kind !== 'channel' || !msgs.length) return;
  try {
    const ids = msgs.map((m) => m.id);
    const res = await call<{ views: number[] }>('viewMessages', { chat_id: chatId, message_ids: ids });
    const views = res.views ?? [];
    const cur = histories.value.get(chatId) ?? [];
    const byId = new Map(ids.map((id, i) => [id, views[i]]));
    setHistory(chatId, cur.map((m) => (byId.has(m.id) ? { ...m, views: byId.get(m.id) } : m)));
  } catch {
    /* counters are best-effort */
  }
}

if (typeof window !== 'undefined')
  window.addEventListener('popstate', (e) => {
    const chat = (e.state as { chat?: number } | null)?.chat;
    currentChatId.value = chat != null && chats.value.has(chat) ? chat : null;
  });

/** Opening a chat is a step the browser's Back (a phone's back gesture) undoes. */
export async function openChat(chatId: number | null) {
  const was = currentChatId.value;
  currentChatId.value = chatId;
  if (typeof history !== 'undefined') {
    if (chatId != null) (was == null ? history.pushState : history.replaceState).call(history, { chat: chatId }, '');
    else if (was != null && (history.state as { chat?: number } | null)?.chat != null) history.back();
  }
  if (chatId == null) return;
  if (!histories.value.has(chatId)) await loadHistory(chatId, true).catch(() => undefined);
  markRead(chatId);
}

export function markRead(chatId: number) {
  if (historyDetached.value.has(chatId)) return; // reading an older window: not caught up
  const chat = chats.value.get(chatId);
  const msgs = histories.value.get(chatId);
  const last = msgs?.[msgs.length - 1]?.id ?? chat?.last_message?.id;
  if (!chat || !last || (chat.unread_count === 0 && chat.read_inbox_max_id >= last)) return;
  if (typeof document !== 'undefined' && document.hidden) return;
  patchChat(chatId, () => ({ unread_count: 0, unread_mentions_count: 0, read_inbox_max_id: Math.max(chat.read_inbox_max_id, last) }));
  call('readHistory', { chat_id: chatId, max_id: last }).catch(() => undefined);
}

export function randomId(): number {
  return Math.floor(Math.random() * 2 ** 52) + 1;
}

export async function sendMessage(chatId: number, text: string, entities: unknown[], replyTo?: number | null) {
  const params: Record<string, unknown> = { chat_id: chatId, text, random_id: randomId() };
  if (entities.length) params.entities = entities;
  if (replyTo) params.reply_to_message_id = replyTo;
  const sent = await call<{ message: Message }>('sendMessage', params);
  onNewMessage(sent.message, false);
  return sent.message;
}

/** Forward messages to another chat; the copies (with their `forward_origin`) show at once. */
export async function forwardMessages(fromChatId: number, messageIds: number[], toChatId: number): Promise<Message[]> {
  const sent = await call<{ message: Message }[]>('forwardMessages', { from_chat_id: fromChatId, message_ids: messageIds, to_chat_id: toChatId });
  for (const s of sent) onNewMessage(s.message, false);
  return sent.map((s) => s.message);
}

/** Leave a group or channel; it goes from the list at once (the update follows on other devices). */
export async function leaveChat(chatId: number): Promise<void> {
  await call('leaveChat', { chat_id: chatId });
  removeChat(chatId);
}

/** Delete a group or channel for everyone (its owner); the others learn it by a `chat_info` update. */
export async function deleteChat(chatId: number): Promise<void> {
  await call('deleteChat', { chat_id: chatId });
  removeChat(chatId);
}

/** Link a discussion group to a channel (null unlinks). Every device, of every member of both
 * chats, hears of it by a `chat_info` update with `linked_chat_id`; this one reads it at once. */
export async function linkDiscussionGroup(channelId: number, groupId: number | null): Promise<void> {
  await call('linkDiscussionGroup', { channel_id: channelId, group_id: groupId });
  await refreshChat(channelId);
}

// --- applying updates -----------------------------------------------------------------------

function onNewMessage(m: Message, notify: boolean) {
  mergeMessages(m.chat_id, [m], true);
  const chat = chats.value.get(m.chat_id);
  if (!chat) {
    void refreshChat(m.chat_id);
    return;
  }
  const mine = m.sender_id === me.value?.id;
  // sent from here while reading an older window: go to the newest messages, with it
  if (!notify && historyDetached.value.has(m.chat_id)) void loadHistory(m.chat_id, true);
  const isNew = !chat.last_message || m.id > chat.last_message.id;
  const viewing = currentChatId.value === m.chat_id && typeof document !== 'undefined' && !document.hidden;
  patchChat(m.chat_id, (c) => ({
    last_message: isNew ? m : c.last_message,
    last_activity: Math.max(c.last_activity, m.date),
    unread_count: !mine && isNew && m.id > c.read_inbox_max_id && !viewing ? c.unread_count + 1 : c.unread_count,
    unread_mentions_count:
      !mine && isNew && !viewing && mentionsMe(m.text, m.entities, me.value) ? (c.unread_mentions_count ?? 0) + 1 : c.unread_mentions_count,
    draft: mine ? null : c.draft,
  }));
  void ensureUsers([m.sender_id]);
  // a message clears the sender's typing
  if (m.sender_id) stopTyping(m.chat_id, m.sender_id);
  if (viewing && !mine) markRead(m.chat_id);
  if (notify && !mine && isNew) notifyMessage(chat, m);
}

/** Fields of a `chat_info` update that are the Chat's own, taken as they come. */
const CHAT_INFO_FIELDS: string[] = ['title', 'about', 'username', 'linked_chat_id', 'slow_mode_seconds', 'signatures'];
const UPDATE_FIELDS = new Set(['type', 'pts', 'pts_count', 'chat_id', 'box']);

export function applyUpdate(u: Update): void {
  const chatId = u.chat_id ?? u.message?.chat_id ?? null;
  switch (u.type) {
    case 'new_message':
      if (u.message) onNewMessage(u.message, true);
      break;
    case 'edit_message':
      if (u.message) {
        replaceMessages(u.message.chat_id, [u.message]);
        patchChat(u.message.chat_id, (c) => (c.last_message?.id === u.message!.id ? { last_message: u.message! } : null));
      }
      break;
    case 'delete_messages': {
      if (chatId == null) break;
      const gone = new Set(u.message_ids ?? []);
      const pending = pendingNew.get(chatId);
      if (pending) gone.forEach((id) => pending.delete(id));
      const cur = histories.value.get(chatId);
      if (cur) setHistory(chatId, cur.filter((m) => !gone.has(m.id)));
      const chat = chats.value.get(chatId);
      if (chat?.last_message && gone.has(chat.last_message.id)) void refreshChat(chatId);
      break;
    }
    case 'pinned_messages': {
      if (chatId == null) break;
      const ids = new Set(u.message_ids ?? []);
      const cur = histories.value.get(chatId);
      if (cur) setHistory(chatId, cur.map((m) => (ids.has(m.id) ? { ...m, pinned: !!u.pinned } : m)));
      patchChat(chatId, (c) => {
        const set = new Set(c.pinned_message_ids ?? []);
        ids.forEach((id) => (u.pinned ? set.add(id) : set.delete(id)));
        return { pinned_message_ids: [...set].sort((a, b) => a - b) };
      });
      break;
    }
    case 'message_reactions': {
      if (chatId == null || u.message_id == null) break;
      const cur = histories.value.get(chatId);
      if (cur) setHistory(chatId, cur.map((m) => (m.id === u.message_id ? { ...m, reactions: u.reactions ?? [] } : m)));
      break;
    }
    case 'read_inbox':
      if (chatId != null)
        patchChat(chatId, (c) => ({ read_inbox_max_id: Math.max(c.read_inbox_max_id, u.max_id ?? 0), unread_count: u.unread_count ?? c.unread_count }));
      break;
    case 'draft':
      if (chatId != null) patchChat(chatId, () => ({ draft: (u.draft as Chat['draft']) ?? null }));
      break;
    case 'pinned_chats': {
      const ids = (u.chat_ids as number[] | undefined) ?? [];
      pinnedChatIds.value = ids;
      for (const id of ids) if (!chats.value.has(id)) void refreshChat(id);
      persist();
      break;
    }
    case 'chat_archived':
      if (chatId != null) patchChat(chatId, () => ({ archived: !!u.archived }));
      break;
    case 'chat_info': {
      if (chatId == null) break;
      if (u.deleted) {
        removeChat(chatId);
        break;
      }
      if (!chats.value.has(chatId)) break;
      // only the fields that changed are present: take them as they are
      const patch: Record<string, unknown> = {};
      for (const k of CHAT_INFO_FIELDS) if (k in u) patch[k] = u[k];
      patchChat(chatId, () => patch as Partial<Chat>);
      // the caller's own rights follow the default rights; the rest is read again whole
      if (Object.keys(u).some((k) => !CHAT_INFO_FIELDS.includes(k) && !UPDATE_FIELDS.has(k))) void refreshChat(chatId);
      break;
    }
    case 'comment_count': {
      if (chatId == null || u.message_id == null) break;
      const n = Number(u.comment_count ?? 0);
      const counted = (m: Message): Message => (m.id === u.message_id && m.discussion ? { ...m, discussion: { ...m.discussion, comment_count: n } } : m);
      const cur = histories.value.get(chatId);
      if (cur?.some((m) => m.id === u.message_id)) setHistory(chatId, cur.map(counted));
      patchChat(chatId, (c) => (c.last_message?.id === u.message_id ? { last_message: counted(c.last_message!) } : null));
      break;
    }
    case 'mention':
      break; // counted on new_message (getChat has the server's count)
    case 'read_outbox':
      if (chatId != null) patchChat(chatId, (c) => ({ read_outbox_max_id: Math.max(c.read_outbox_max_id, u.max_id ?? 0) }));
      break;
    case 'chat_membership':
      if (chatId == null) break;
      if (u.role === 'left' || u.role === 'banned') removeChat(chatId);
      else void refreshChat(chatId);
      break;
    case 'too_long':
      if (u.box) {
        void refreshChat(u.box);
        if (histories.value.has(u.box)) void loadHistory(u.box, true);
      } else {
        histories.value = new Map();
        void reloadAll();
      }
      break;
    default:
      if (chatId != null && chats.value.has(chatId)) void refreshChat(chatId);
  }
}

export function applyEvent(e: LiveEvent): void {
  if (e.type === 'typing' && e.chat_id && e.user_id) {
    if (e.user_id === me.value?.id) return;
    if (e.action === 'cancel') stopTyping(e.chat_id, e.user_id);
    else {
      const next = new Map(typing.value);
      const inChat = new Map(next.get(e.chat_id) ?? []);
      inChat.set(e.user_id, Date.now() + 6000);
      next.set(e.chat_id, inChat);
      typing.value = next;
      void ensureUsers([e.user_id]);
      setTimeout(sweepTyping, 6100);
    }
  } else if (e.type === 'user_status' && e.user_id) {
    const u = users.value.get(e.user_id);
    if (u) {
      const next = new Map(users.value);
      next.set(e.user_id, { ...u, online: e.online ?? u.online, last_seen: e.last_seen ?? u.last_seen });
      users.value = next;
    }
  }
}

function stopTyping(chatId: number, userId: number) {
  const inChat = typing.value.get(chatId);
  if (!inChat?.has(userId)) return;
  const next = new Map(typing.value);
  const copy = new Map(inChat);
  copy.delete(userId);
  next.set(chatId, copy);
  typing.value = next;
}

function sweepTyping() {
  const now = Date.now();
  let changed = false;
  const next = new Map<number, Map<number, number>>();
  for (const [chatId, m] of typing.value) {
    const kept = new Map([...m].filter(([, exp]) => exp > now));
    if (kept.size !== m.size) changed = true;
    next.set(chatId, kept);
  }
  if (changed) typing.value = next;
}

let lastTypingSent = 0;
export function userIsTyping(chatId: number) {
  const now = Date.now();
  if (now - lastTypingSent < 4000) return;
  lastTypingSent = now;
  call('setTyping', { chat_id: chatId, action: 'typing' }).catch(() => undefined);
}
export function userStoppedTyping(chatId: number) {
  if (!lastTypingSent) return;
  lastTypingSent = 0;
  call('setTyping', { chat_id: chatId, action: 'cancel' }).catch(() => undefined);
}

// --- notifications --------------------------------------------------------------------------

export function askNotificationPermission() {
  if (typeof Notification !== 'undefined' && Notification.permission === 'default') void Notification.requestPermission();
}

function notifyMessage(chat: Chat, m: Message) {
  if (typeof document === 'undefined' || !document.hidden) return;
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  if (localStorage.getItem('heliograph.notify') === 'off') return; // Settings → notifications
  try {
    const n = new Notification(chat.title, { body: m.text || t('photo'), tag: `chat-${chat.id}` });
    n.onclick = () => {
      window.focus();
      void openChat(chat.id);
      n.close();
    };
  } catch {
    /* some browsers need a service worker for this */
  }
}

export function userName(id: number | null | undefined): string {
  if (!id) return '';
  if (id === me.value?.id) return t('you');
  return users.value.get(id)?.display_name ?? `#${id}`;
}
