-- Core schema: accounts, sessions, private chats, messages and the per-user update box.
-- {id} and {bytes} are filled in per engine; everything else is SQL both engines accept.
-- Times are unix seconds. Booleans are 0/1 integers so the same SQL works on both.

CREATE TABLE users (
    id {id},
    username TEXT,
    username_key TEXT UNIQUE,
    display_name TEXT NOT NULL,
    bio TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL DEFAULT 0,
    -- set while a device is connected, renewed by its heartbeat; a lost node's users expire
    online_until BIGINT NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    is_admin INTEGER NOT NULL DEFAULT 0,
    privacy_last_seen TEXT NOT NULL DEFAULT 'everybody',
    privacy_private_chats TEXT NOT NULL DEFAULT 'everybody',
    -- the head of this user's common update box
    pts BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    id {id},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash {bytes} NOT NULL UNIQUE,
    device_name TEXT NOT NULL,
    client TEXT NOT NULL,
    ip TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_active_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- QR / code login: a new device asks for a code, a signed-in device approves it.
CREATE TABLE login_codes (
    code TEXT PRIMARY KEY,
    secret_hash {bytes} NOT NULL,
    device_name TEXT NOT NULL,
    client TEXT NOT NULL,
    ip TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    approved_by BIGINT REFERENCES users(id) ON DELETE CASCADE
);

CREATE TABLE contacts (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, contact_id)
);

CREATE TABLE chats (
    id {id},
    kind TEXT NOT NULL,
    -- "low:high" user ids for a private chat, so there is only one per pair
    private_key TEXT UNIQUE,
    title TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    last_message_id BIGINT NOT NULL DEFAULT 0,
    last_activity BIGINT NOT NULL
);

CREATE TABLE chat_members (
    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    joined_at BIGINT NOT NULL,
    read_inbox_max_id BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (chat_id, user_id)
);
CREATE INDEX chat_members_user ON chat_members(user_id);

CREATE TABLE messages (
    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    id BIGINT NOT NULL,
    sender_id BIGINT,
    date BIGINT NOT NULL,
    text TEXT NOT NULL,
    entities TEXT NOT NULL DEFAULT '[]',
    reply_to_id BIGINT,
    forward TEXT,
    edit_date BIGINT,
    service TEXT,
    search_text TEXT NOT NULL DEFAULT '',
    random_id BIGINT,
    PRIMARY KEY (chat_id, id)
);
CREATE INDEX messages_sender ON messages(sender_id);
-- a retried send (same sender, same random_id) is stored once
CREATE UNIQUE INDEX messages_random ON messages(sender_id, random_id);

-- "delete for me": the message stays for the others
CREATE TABLE hidden_messages (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    chat_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    PRIMARY KEY (user_id, chat_id, message_id)
);

CREATE TABLE pinned_messages (
    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    message_id BIGINT NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);

CREATE TABLE reactions (
    chat_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    emoji TEXT NOT NULL,
    PRIMARY KEY (chat_id, message_id, user_id)
);

CREATE TABLE drafts (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    entities TEXT NOT NULL,
    reply_to_id BIGINT,
    date BIGINT NOT NULL,
    PRIMARY KEY (user_id, chat_id)
);

-- The common update box: one row per update, numbered by the user's pts. Rows point at the
-- chat state (message ids); getDifference reads the current state when it answers.
CREATE TABLE updates (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    pts BIGINT NOT NULL,
    kind TEXT NOT NULL,
    chat_id BIGINT,
    data TEXT NOT NULL,
    date BIGINT NOT NULL,
    PRIMARY KEY (user_id, pts)
);
