-- Groups and channels: roles, rights, invite links, join requests, the shared update box of
-- large chats, views, mentions, hashtags and the admin log.

ALTER TABLE chats ADD COLUMN about TEXT NOT NULL DEFAULT '';
-- public name (shares the namespace of user names), lower-cased for lookup
ALTER TABLE chats ADD COLUMN username TEXT;
ALTER TABLE chats ADD COLUMN username_key TEXT;
ALTER TABLE chats ADD COLUMN title_key TEXT NOT NULL DEFAULT '';
-- 1 when the chat keeps its own update box (fan-out on read)
ALTER TABLE chats ADD COLUMN is_large INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN pts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN member_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN owner_id BIGINT;
-- default rights of members, as a JSON object of booleans
ALTER TABLE chats ADD COLUMN default_rights TEXT NOT NULL DEFAULT '{}';
ALTER TABLE chats ADD COLUMN slow_mode_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN signatures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN linked_chat_id BIGINT;
-- the highest message any member has read: what "read" ticks of large chats show
ALTER TABLE chats ADD COLUMN max_read_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX chats_username ON chats(username_key);
CREATE INDEX chats_title ON chats(title_key);

-- role: owner, admin, member, restricted, banned, left
ALTER TABLE chat_members ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
ALTER TABLE chat_members ADD COLUMN admin_rights TEXT NOT NULL DEFAULT '{}';
ALTER TABLE chat_members ADD COLUMN admin_title TEXT NOT NULL DEFAULT '';
-- restricted members: rights taken away until a date (0: for ever)
ALTER TABLE chat_members ADD COLUMN restrictions TEXT NOT NULL DEFAULT '{}';
ALTER TABLE chat_members ADD COLUMN restricted_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE chat_members ADD COLUMN invited_by BIGINT;
ALTER TABLE chat_members ADD COLUMN invite_link_id BIGINT;
ALTER TABLE chat_members ADD COLUMN last_sent_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE chat_members ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
CREATE INDEX chat_members_role ON chat_members(chat_id, role);

ALTER TABLE messages ADD COLUMN views BIGINT NOT NULL DEFAULT 0;
-- posted as the chat (channel posts, anonymous admins): the sender is not shown
ALTER TABLE messages ADD COLUMN anonymous INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN signature TEXT;
ALTER TABLE messages ADD COLUMN reply_count BIGINT NOT NULL DEFAULT 0;
-- for a channel post: its copy in the linked discussion group, where comments reply to it
ALTER TABLE messages ADD COLUMN discussion_chat_id BIGINT;
ALTER TABLE messages ADD COLUMN discussion_message_id BIGINT;

-- The shared box of a large chat: one row per update, whatever the member count.
CREATE TABLE chat_updates (
    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    pts BIGINT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    date BIGINT NOT NULL,
    PRIMARY KEY (chat_id, pts)
);

CREATE TABLE message_views (
    chat_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (chat_id, message_id, user_id)
);

CREATE TABLE mentions (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    message_id BIGINT NOT NULL,
    PRIMARY KEY (user_id, chat_id, message_id)
);

CREATE TABLE hashtags (
    tag TEXT NOT NULL,
    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    message_id BIGINT NOT NULL,
    date BIGINT NOT NULL,
    PRIMARY KEY (tag, chat_id, message_id)
);

CREATE TABLE invite_links (
    id {id},
    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    code TEXT NOT NULL UNIQUE,
    creator_id BIGINT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL DEFAULT 0,
    usage_limit BIGINT NOT NULL DEFAULT 0,
    usage_count BIGINT NOT NULL DEFAULT 0,
    requires_approval INTEGER NOT NULL DEFAULT 0,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX invite_links_chat ON invite_links(chat_id);

CREATE TABLE join_requests (
    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    invite_link_id BIGINT,
    date BIGINT NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);

CREATE TABLE admin_log (
    id {id},
    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    actor_id BIGINT,
    action TEXT NOT NULL,
    data TEXT NOT NULL,
    date BIGINT NOT NULL
);
CREATE INDEX admin_log_chat ON admin_log(chat_id, id);
