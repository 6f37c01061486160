import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { ApiError, type Chat } from '../../api/types';
import { fmtNumber, t, type Key } from '../../i18n';
import * as S from '../../state';
import { useReturnFocus, useWindowKeys } from '../focus';
import { DiscussionLink } from './DiscussionLink';
import { LeaveChat } from './LeaveChat';

export interface AdminRights {
  change_info: boolean;
  delete_messages: boolean;
  ban_users: boolean;
  invite_users: boolean;
  pin_messages: boolean;
  manage_admins: boolean;
  post_anonymously: boolean;
  post_messages: boolean;
  edit_messages: boolean;
}
interface Member {
  user_id: number;
  display_name: string;
  username: string | null;
  role: string;
  joined_at: number;
  admin_rights?: AdminRights | null;
  admin_title?: string;
}
interface Link {
  code: string;
  title: string;
  usage_count: number;
  usage_limit: number | null;
  revoked: boolean;
  is_primary: boolean;
  creator_id: number;
}

const GROUP_RIGHTS: (keyof AdminRights)[] = ['change_info', 'delete_messages', 'ban_users', 'invite_users', 'pin_messages', 'manage_admins', 'post_anonymously'];
const CHANNEL_RIGHTS: (keyof AdminRights)[] = ['change_info', 'post_messages', 'edit_messages', 'delete_messages', 'ban_users', 'invite_users', 'pin_messages', 'manage_admins'];
const ALL: AdminRights = {
  change_info: true, delete_messages: true, ban_users: true, invite_users: true, pin_messages: true,
  manage_admins: true, post_anonymously: true, post_messages: true, edit_messages: true,
};
const NONE: AdminRights = Object.fromEntries(Object.keys(ALL).map((k) => [k, false])) as unknown as AdminRights;

/** A muted member may read but not write: restrictChatMember with these rights. */
export const MUTED = {
  send_messages: false, send_media: false, send_stickers: false, send_links: false, send_polls: false,
  invite_users: true, pin_messages: false, change_info: false,
};
/** Every right back lifts the restriction. */
export const UNMUTED = {
  send_messages: true, send_media: true, send_stickers: true, send_links: true, send_polls: true,
  invite_users: true, pin_messages: true, change_info: true,
};

/** The rights an editor may show for a chat kind (channels: posting/editing, no anonymity). */
export function rightsFor(kind: string): (keyof AdminRights)[] {
  return kind === 'channel' ? CHANNEL_RIGHTS : GROUP_RIGHTS;
}

/** Default rights for a new admin: everything the promoter has but managing admins. */
export function defaultRights(mine: AdminRights, kind: string): AdminRights {
  const r = { ...NONE };
  for (const k of rightsFor(kind)) r[k] = mine[k] && k !== 'manage_admins';
  return r;
}

function errText(e: unknown): string {
  return e instanceof ApiError ? `${e.code}: ${e.message}` : t('error');
}

/** Side panel of a group or channel: info (editable with the right), members, invite links. */
export function InfoPanel({ chat, onClose }: { chat: Chat; onClose: () => void }) {
  const members = useSignal<Member[]>([]);
  const links = useSignal<Link[]>([]);
  const error = useSignal('');
  const editing = useSignal<Member | null>(null);
  const meId = S.me.value?.id;
  const box = useRef<HTMLElement>(null);
  useReturnFocus(box);
  const load = async () => {
    try {
      members.value = await S.call<Member[]>('getChatMembers', { chat_id: chat.id, limit: 200 });
    } catch (e) {
      // subscribers of a channel may not list members: show only what we can
      if (!(e instanceof ApiError && e.status === 403)) error.value = errText(e);
    }
  };
  const loadLinks = () =>
    S.call<Link[]>('getInviteLinks', { chat_id: chat.id })
      .then((l) => (links.value = l))
      .catch(() => (links.value = []));
  useEffect(() => {
    void load();
    if (chat.role === 'owner' || chat.role === 'admin') void loadLinks();
  }, [chat.id]);
  useWindowKeys((e) => e.key === 'Escape' && onClose());

  const self = members.value.find((m) => m.user_id === meId);
  const mine: AdminRights = chat.role === 'owner' ? ALL : chat.role === 'admin' ? { ...NONE, ...(self?.admin_rights ?? {}) } : NONE;
  const act = async (f: () => Promise<unknown>) => {
    error.value = '';
    try {
      await f();
      await load();
    } catch (e) {
      error.value = errText(e);
    }
  };

  return (
    <aside ref={box} class="info-panel" data-testid="info-panel" aria-label={t('chatInfo')}>
      <header class="bar">
        <strong class="conv-title">{t('chatInfo')}</strong>
        <button class="icon" data-testid="info-close" aria-label={t('close')} onClick={onClose}>
          ×
        </button>
      </header>
      <div class="info-body">
        <ChatInfoForm chat={chat} canEdit={mine.change_info} />
        {error.value && <p class="error small" role="alert">{error.value}</p>}
        <h3>
          {t('membersTitle')} <span class="muted small">{fmtNumber(chat.member_count ?? members.value.length)}</span>
        </h3>
        <ul class="members" data-testid="member-list">
          {members.value.map((m) => {
            const canManage = m.user_id !== meId && m.role !== 'owner' && (chat.role === 'owner' || (m.role !== 'admin' && mine.manage_admins) || (m.role === 'admin' && mine.manage_admins));
            const canBan = m.user_id !== meId && m.role !== 'owner' && mine.ban_users && (m.role !== 'admin' || chat.role === 'owner');
            return (
              <li key={m.user_id} data-testid="member-item" data-user-id={m.user_id} data-role={m.role}>
                <div class="avatar small-avatar" aria-hidden="true">{m.display_name.slice(0, 1).toUpperCase()}</div>
                <div class="member-body">
                  <bdi>{m.display_name}</bdi>
                  <div class="muted small">
                    <span data-testid="member-role">{m.admin_title || t(`role_${m.role}` as Key)}</span>
                    {m.username ? ` · @${m.username}` : ''}
                  </div>
                </div>
                {canManage && (
                  <button data-testid="member-promote" onClick={() => (editing.value = m)}>
                    {m.role === 'admin' ? t('editRights') : t('promote')}
                  </button>
                )}
                {canBan && chat.kind === 'group' && m.role !== 'admin' && (
                  <button
                    data-testid={m.role === 'restricted' ? 'member-unrestrict' : 'member-restrict'}
                    onClick={() => void act(() => S.call('restrictChatMember', { chat_id: chat.id, user_id: m.user_id, rights: m.role === 'restricted' ? UNMUTED : MUTED }))}
                  >
                    {m.role === 'restricted' ? t('unmuteMember') : t('restrictMember')}
                  </button>
                )}
                {canBan && (
                  <>
                    <button class="danger" data-testid="member-remove" onClick={() => void act(() => S.call('removeChatMember', { chat_id: chat.id, user_id: m.user_id }))}>
                      {t('removeMember')}
                    </button>
                    <button class="danger" data-testid="member-ban" onClick={() => void act(() => S.call('banChatMember', { chat_id: chat.id, user_id: m.user_id }))}>
                      {t('banMember')}
                    </button>
                  </>
                )}
              </li>
            );
          })}
        </ul>
        {editing.value && (
          <RightsEditor
            chat={chat}
            member={editing.value}
            mine={mine}
            onDone={() => (editing.value = null)}
            onSave={(rights, title) =>
              act(async () => {
                await S.call('promoteChatMember', { chat_id: chat.id, user_id: editing.value!.user_id, rights, title });
                editing.value = null;
              })
            }
          />
        )}
        {(chat.role === 'owner' || mine.invite_users) && <InviteLinks chat={chat} links={links.value} reload={loadLinks} />}
        {chat.kind === 'channel' && mine.change_info && <DiscussionLink chat={chat} />}
        <LeaveChat chat={chat} />
      </div>
    </aside>
  );
}

function ChatInfoForm({ chat, canEdit }: { chat: Chat; canEdit: boolean }) {
  const status = useSignal('');
  const save = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    status.value = '';
    try {
      const title = String(f.get('title') ?? '').trim();
      const about = String(f.get('about') ?? '');
      await S.call('editChatInfo', { chat_id: chat.id, title: title !== chat.title ? title : undefined, about: about !== (chat.about ?? '') ? about : undefined });
      const username = String(f.get('username') ?? '').trim().replace(/^@/, '');
      if (username !== (chat.username ?? '')) await S.call('setChatUsername', { chat_id: chat.id, username: username || null });
      await S.refreshChat(chat.id);
      status.value = t('saved');
    } catch (err) {
      status.value = errText(err);
    }
  };
  if (!canEdit)
    return (
      <div class="chat-info">
        <h2 data-testid="info-title">
          <bdi>{chat.title}</bdi>
        </h2>
        {chat.about && <p dir="auto" data-testid="info-about">{chat.about}</p>}
        {chat.username && <p class="muted" dir="ltr">@{chat.username}</p>}
      </div>
    );
  return (
    <form class="chat-info" onSubmit={save} key={`${chat.title}|${chat.about}|${chat.username}`}>
      <label>
        {t('groupTitle')}
        <input name="title" data-testid="info-title-input" defaultValue={chat.title} required maxLength={128} dir="auto" />
      </label>
      <label>
        {t('description')}
        <textarea name="about" data-testid="info-about-input" defaultValue={chat.about ?? ''} rows={3} maxLength={255} dir="auto" />
      </label>
      <label>
        {t('publicUsername')}
        <input name="username" data-testid="info-username-input" defaultValue={chat.username ?? ''} dir="ltr" maxLength={32} />
      </label>
      <button type="submit" class="primary" data-testid="info-save">
        {t('save')}
      </button>
      {status.value && <p class="small muted" role="status" data-testid="info-status">{status.value}</p>}
    </form>
  );
}

function RightsEditor(props: { chat: Chat; member: Member; mine: AdminRights; onSave: (r: AdminRights, title: string) => Promise<void>; onDone: () => void }) {
  const { chat, member, mine } = props;
  const rights = useSignal<AdminRights>(member.role === 'admin' && member.admin_rights ? { ...NONE, ...member.admin_rights } : defaultRights(mine, chat.kind));
  const title = useSignal(member.admin_title ?? '');
  return (
    <div class="rights-editor card" data-testid="rights-editor" role="group" aria-label={t('editRights')}>
      <strong>
        {t('editRights')}: <bdi>{member.display_name}</bdi>
      </strong>
      {rightsFor(chat.kind).map((k) => (
        <label class="check" key={k}>
          <input
            type="checkbox"
            data-testid={`right-${k}`}
            checked={rights.value[k]}
            disabled={!mine[k]}
            onChange={(e) => (rights.value = { ...rights.value, [k]: (e.target as HTMLInputElement).checked })}
          />
          {t(`right_${k}` as Key)}
        </label>
      ))}
      <label>
        {t('adminTitle')}
        <input data-testid="rights-title" value={title.value} maxLength={16} onInput={(e) => (title.value = (e.target as HTMLInputElement).value)} />
      </label>
      <div class="row">
        <button type="button" onClick={props.onDone}>
          {t('cancel')}
        </button>
        {member.role === 'admin' && (
          <button type="button" class="danger" data-testid="rights-demote" onClick={() => void props.onSave({ ...NONE }, '')}>
            {t('demote')}
          </button>
        )}
        <button type="button" class="primary" data-testid="rights-save" onClick={() => void props.onSave(rights.value, title.value)}>
          {t('save')}
        </button>
      </div>
    </div>
  );
}

function InviteLinks({ chat, links, reload }: { chat: Chat; links: Link[]; reload: () => Promise<unknown> }) {
  const error = useSignal('');
  const copied = useSignal<string | null>(null);
  const url = (code: string) => `${location.origin}/join/${code}`;
  const run = async (f: () => Promise<unknown>) => {
    error.value = '';
    try {
      await f();
      await reload();
    } catch (e) {
      error.value = errText(e);
    }
  };
  return (
    <section data-testid="invite-links">
      <h3>{t('inviteLinks')}</h3>
      <ul class="links">
        {links.map((l) => (
          <li key={l.code} data-testid="invite-link-item" data-code={l.code}>
            <div class="member-body">
              <span dir="ltr" class="small" data-testid="invite-link-url">{url(l.code)}</span>
              <div class="muted small">
                {l.title ? `${l.title} · ` : ''}
                {t('joinedCount', { n: fmtNumber(l.usage_count) })}
              </div>
            </div>
            <button
              data-testid="invite-link-copy"
              onClick={() => {
                navigator.clipboard?.writeText(url(l.code)).catch(() => undefined);
                copied.value = l.code;
              }}
            >
              {copied.value === l.code ? t('copied') : t('copy')}
            </button>
            <button class="danger" data-testid="invite-link-revoke" onClick={() => void run(() => S.call('revokeInviteLink', { chat_id: chat.id, code: l.code }))}>
              {t('revoke')}
            </button>
          </li>
        ))}
      </ul>
      <button data-testid="invite-link-create" onClick={() => void run(() => S.call('createInviteLink', { chat_id: chat.id }))}>
        {t('createLink')}
      </button>
      {error.value && <p class="error small" role="alert">{error.value}</p>}
    </section>
  );
}
