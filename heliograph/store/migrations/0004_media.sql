-- Files and media: uploads in progress, stored files, what messages hold, profile photos,
-- sticker packs and the link-preview cache.

-- An upload in progress. Its parts are written into one file in the upload directory at
-- their offsets; upload_parts records which have arrived, so a client can resume.
CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    owner_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    part_size INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- set when finished: finishing again answers the same file
    file_id TEXT
);
CREATE INDEX uploads_owner ON uploads(owner_id, sha256);
CREATE INDEX uploads_expiry ON uploads(expires_at);

CREATE TABLE upload_parts (
    upload_id TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
    part INTEGER NOT NULL,
    PRIMARY KEY (upload_id, part)
);

-- A stored file. The bytes live once per content (sha256) in the blob store; the id is
-- random, so holding a message's file ids is what lets a client fetch them.
CREATE TABLE files (
    id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    name TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    owner_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    -- 1: anyone signed in may fetch it (profile photos, stickers)
    public INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX files_sha256 ON files(sha256);
CREATE INDEX files_owner ON files(owner_id);

-- What an uploaded file became when sent as a kind of media (photo sizes, probed video):
-- processing happens once, whoever sends the file again.
CREATE TABLE media_cache (
    file_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (file_id, kind)
);

-- Which messages hold which files: whoever can see one of the messages may fetch the file.
CREATE TABLE message_files (
    file_id TEXT NOT NULL,
    chat_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    PRIMARY KEY (file_id, chat_id, message_id)
);
CREATE INDEX message_files_message ON message_files(chat_id, message_id);

ALTER TABLE messages ADD COLUMN media TEXT;
ALTER TABLE messages ADD COLUMN grouped_id BIGINT;
ALTER TABLE messages ADD COLUMN link_preview TEXT;
ALTER TABLE messages ADD COLUMN no_link_preview INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN photo TEXT;
ALTER TABLE chats ADD COLUMN photo TEXT;

CREATE TABLE link_previews (
    url TEXT PRIMARY KEY,
    data TEXT,
    fetched_at BIGINT NOT NULL
);

CREATE TABLE sticker_sets (
    id {id},
    short_name TEXT NOT NULL,
    short_name_key TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    title_key TEXT NOT NULL,
    owner_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    -- bumped on every change, so clients know when their copy is stale
    version BIGINT NOT NULL DEFAULT 1,
    install_count BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sticker_sets_title ON sticker_sets(title_key);

CREATE TABLE stickers (
    file_id TEXT PRIMARY KEY,
    set_id BIGINT NOT NULL REFERENCES sticker_sets(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    emoji TEXT NOT NULL,
    format TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL
);
CREATE INDEX stickers_set ON stickers(set_id, position);

-- One row per emoji of a sticker, for suggestions.
CREATE TABLE sticker_emoji (
    emoji TEXT NOT NULL,
    file_id TEXT NOT NULL REFERENCES stickers(file_id) ON DELETE CASCADE,
    set_id BIGINT NOT NULL,
    PRIMARY KEY (emoji, file_id)
);

CREATE TABLE installed_sticker_sets (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    set_id BIGINT NOT NULL REFERENCES sticker_sets(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    PRIMARY KEY (user_id, set_id)
);
