-- Each member's own arrangement of the chat list, kept on the server so every device shows
-- the same: pinned chats in their order (ascending pin_order), and the archive.
ALTER TABLE chat_members ADD COLUMN pin_order BIGINT;
ALTER TABLE chat_members ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
CREATE INDEX chat_members_pinned ON chat_members(user_id, pin_order) WHERE pin_order IS NOT NULL;
