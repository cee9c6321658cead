-- E-mail attachments: a JSON array of {name, media_type, content} (text documents such as the
-- delegation agreement of 5.3).
ALTER TABLE outbox ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
