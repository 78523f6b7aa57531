-- ABI 2.0 host services. Contact attributes that plugins read and write (CRM, AI personalization);
-- tags and attributes are JSON text (an array of strings, an object).
ALTER TABLE contacts ADD COLUMN phone TEXT;
ALTER TABLE contacts ADD COLUMN email TEXT;
ALTER TABLE contacts ADD COLUMN tags TEXT;
ALTER TABLE contacts ADD COLUMN score DOUBLE PRECISION;
ALTER TABLE contacts ADD COLUMN attributes TEXT;

-- An emitted event's dedupe key ("<instance>/<key>", e.g. a Telegram update_id): one event per key.
ALTER TABLE events ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX events_dedupe ON events (tenant, dedupe_key);

-- Conversation history reads the newest messages of a conversation first.
CREATE INDEX messages_history ON messages (conversation_id, id);
