-- Where each user is in a conversation with the built-in @bots account (making a bot takes
-- a name, then a username): the step, and what earlier steps gave (JSON).
CREATE TABLE system_bot_dialogs (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    step TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Each node looks every few seconds for webhooks nobody delivers: only the bots that have one.
CREATE INDEX bots_webhooks ON bots(webhook_lease_until) WHERE webhook_url IS NOT NULL;
