-- messages_random (sender_id, random_id) serves every lookup by sender as well; the
-- separate index on sender_id alone only cost a page write per message sent.
DROP INDEX messages_sender;
