// Wire types of the Heliograph client API (see heliograph/domain/entities.py).

export interface MessageEntity {
  type: string;
  offset: number; // UTF-16 code units, as JavaScript strings count
  length: number;
  url?: string | null;
  language?: string | null;
  user_id?: number | null;
}

export interface Reaction {
  emoji: string;
  count: number;
  user_ids?: number[];
}

export interface ForwardOrigin {
  sender_id: number | null;
  sender_name: string;
  chat_id: number;
  message_id: number;
  date: number;
}

export interface Message {
  id: number;
  chat_id: number;
  sender_id: number | null;
  date: number;
  text: string;
  entities?: MessageEntity[];
  reply_to_message_id?: number | null;
  /** where a forwarded message first came from (kept when forwarded again) */
  forward_origin?: ForwardOrigin | null;
  edit_date?: number | null;
  pinned?: boolean;
  reactions?: Reaction[];
  service?: Record<string, unknown> | null;
  sender_chat_id?: number | null;
  views?: number | null;
  media?: unknown;
  reply_count?: number;
  discussion?: { chat_id: number; message_id: number; comment_count: number } | null;
}

export type ChatKind = 'private' | 'group' | 'channel' | string;

export interface Chat {
  id: number;
  kind: ChatKind;
  title: string;
  peer_user_id: number | null;
  unread_count: number;
  read_inbox_max_id: number;
  read_outbox_max_id: number;
  last_message: Message | null;
  last_activity: number;
  pinned_message_ids?: number[];
  about?: string;
  username?: string | null;
  member_count?: number;
  role?: string;
  pts?: number | null;
  draft?: Draft | null;
  unread_mentions_count?: number;
  linked_chat_id?: number | null;
  /** in the account's archive (pinned chats come from getPinnedChats, in order) */
  archived?: boolean;
  pinned?: boolean;
  /** what the user may do here now (their role, the chat's defaults, their restriction) */
  my_rights?: MemberRights;
  /** restricted: when it ends (0: until lifted) */
  restricted_until?: number;
}

export interface MemberRights {
  send_messages: boolean;
  send_media: boolean;
  send_stickers: boolean;
  send_links: boolean;
  send_polls: boolean;
  invite_users: boolean;
  pin_messages: boolean;
  change_info: boolean;
}

export interface Draft {
  text: string;
  entities?: MessageEntity[];
  reply_to_message_id?: number | null;
  date?: number;
}

export interface User {
  id: number;
  username: string | null;
  display_name: string;
  online?: boolean | null;
  last_seen?: number | null;
}

export interface Account {
  id: number;
  username: string | null;
  display_name: string;
  bio?: string;
  privacy?: { last_seen: 'everybody' | 'contacts' | 'nobody'; private_chats: 'everybody' | 'contacts' };
  photo?: { small_file_id: string; big_file_id: string; date?: number } | null;
}

export interface Authorization {
  token: string;
  session_id: number;
  account: Account;
}

export interface State {
  pts: number;
  date: number;
}

export interface Update {
  type: string;
  pts: number;
  pts_count: number;
  box?: number | null;
  chat_id?: number | null;
  message?: Message | null;
  message_id?: number | null;
  message_ids?: number[];
  pinned?: boolean | null;
  reactions?: Reaction[];
  max_id?: number | null;
  unread_count?: number | null;
  role?: string | null;
  box_pts?: number | null;
  /** comment_count: the post `message_id` now has this many comments */
  comment_count?: number | null;
  [key: string]: unknown;
}

export interface Difference {
  updates: Update[];
  state: State;
  more: boolean;
  too_long: boolean;
}

export interface LiveEvent {
  type: string; // typing | user_status
  chat_id?: number;
  user_id?: number;
  action?: string;
  online?: boolean;
  last_seen?: number;
}

export interface ChatPreview {
  chat_id: number;
  kind: ChatKind;
  title: string;
  about: string;
  username: string | null;
  member_count: number;
  requires_approval?: boolean;
  is_member?: boolean;
  request_pending?: boolean;
}

export interface InviteLink {
  code: string;
  chat_id: number;
}

export interface SentMessage {
  message: Message;
  pts: number | null;
  pts_count: number;
  box?: number | null;
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message || code);
  }
}

/** Errors after which the session token is dead: sign in again. */
export const SESSION_ENDING = new Set(['SESSION_REVOKED', 'AUTH_REQUIRED']);

export function errorFrom(raw: unknown, status = 0): ApiError {
  const e = (raw ?? {}) as Record<string, unknown>;
  const { code, message, ...extra } = e;
  return new ApiError(String(code ?? 'UNKNOWN'), String(message ?? ''), Number(e.status ?? status), extra);
}
