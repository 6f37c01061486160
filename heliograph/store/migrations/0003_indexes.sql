-- Indexes for the queries of invite links and hashtag search.
CREATE INDEX hashtags_tag_date ON hashtags(tag, date);
CREATE INDEX chat_members_link ON chat_members(chat_id, invite_link_id);
