-- Message status v2. A receipt can arrive before the send it confirms is recorded (the provider
-- answers the webhook faster than our commit): it waits here and is applied when the send is.
CREATE TABLE pending_statuses (
    id {{ID}},
    tenant TEXT NOT NULL,
    channel TEXT NOT NULL,
    provider_message_id TEXT NOT NULL,
    status TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    error_code TEXT,
    error_reason TEXT,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX pending_statuses_message ON pending_statuses (tenant, channel, provider_message_id);

-- A failed message keeps the provider's failure code next to its reason (messages.error).
ALTER TABLE messages ADD COLUMN error_code TEXT;
