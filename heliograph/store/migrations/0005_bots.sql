-- Bots: accounts of their own kind, owned by a user, reached with a token; their updates
-- are their own update box read through the Bot API (update_id = pts).

ALTER TABLE users ADD COLUMN is_bot INTEGER NOT NULL DEFAULT 0;
-- copied from users at insertion, so the bots of a large chat are found without a join
ALTER TABLE chat_members ADD COLUMN is_bot INTEGER NOT NULL DEFAULT 0;
CREATE INDEX chat_members_bots ON chat_members(chat_id) WHERE is_bot = 1;

CREATE TABLE bots (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    owner_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- SHA-256 of the secret half of the token `<bot_id>:<secret>`
    token_hash {bytes} NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    short_description TEXT NOT NULL DEFAULT '',
    -- 1: in groups only commands, replies to the bot and mentions of it reach the bot
    privacy INTEGER NOT NULL DEFAULT 1,
    -- set: the bot answers inline queries, and this is the input field's placeholder
    inline_placeholder TEXT,
    created_at BIGINT NOT NULL,
    -- every update up to this pts is acknowledged (getUpdates offset, or webhook success)
    acked_pts BIGINT NOT NULL DEFAULT 0,
    allowed_updates TEXT,
    webhook_url TEXT,
    webhook_secret TEXT,
    webhook_max_connections INTEGER NOT NULL DEFAULT 40,
    webhook_error_date BIGINT,
    webhook_error_message TEXT,
    -- which node delivers to the webhook, until when
    webhook_lease_owner TEXT,
    webhook_lease_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX bots_owner ON bots(owner_id);

-- The command menu, per scope ("default", "all_private_chats", "chat:<id>", ...) and language.
CREATE TABLE bot_commands (
    bot_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    language_code TEXT NOT NULL,
    commands TEXT NOT NULL,
    PRIMARY KEY (bot_id, scope, language_code)
);

-- Callback and inline queries waiting for the bot's answer.
CREATE TABLE bot_queries (
    id TEXT PRIMARY KEY,
    bot_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX bot_queries_created ON bot_queries(created_at);

-- Keyboards attached to messages, and the bot a message was sent through (inline mode).
ALTER TABLE messages ADD COLUMN reply_markup TEXT;
ALTER TABLE messages ADD COLUMN via_bot_id BIGINT;
