-- Switchboard schema, version 1.
-- One file serves SQLite and PostgreSQL: {{ID}} becomes the backend's auto-increment key.
-- Times are UTC milliseconds since the Unix epoch (*_ms).

-- Raw webhook bodies, stored before they are acknowledged (handled | unhandled).
CREATE TABLE webhook_events (
    id {{ID}},
    tenant TEXT NOT NULL,
    plugin TEXT NOT NULL,
    received_at_ms BIGINT NOT NULL,
    content_type TEXT,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    events_count INTEGER NOT NULL DEFAULT 0,
    note TEXT
);
CREATE INDEX webhook_events_tenant ON webhook_events (tenant, received_at_ms);

CREATE TABLE contacts (
    id {{ID}},
    tenant TEXT NOT NULL,
    display_name TEXT,
    created_at_ms BIGINT NOT NULL
);

-- A contact's id on one channel: PSID (Messenger), IGSID (Instagram), chat id, phone number.
CREATE TABLE channel_identities (
    id {{ID}},
    tenant TEXT NOT NULL,
    channel TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    contact_id BIGINT NOT NULL REFERENCES contacts (id),
    created_at_ms BIGINT NOT NULL,
    UNIQUE (tenant, channel, provider_id)
);

CREATE TABLE conversations (
    id {{ID}},
    tenant TEXT NOT NULL,
    channel TEXT NOT NULL,
    contact_id BIGINT NOT NULL REFERENCES contacts (id),
    account_id TEXT,
    escalated INTEGER NOT NULL DEFAULT 0,
    escalated_at_ms BIGINT,
    last_inbound_at_ms BIGINT,
    created_at_ms BIGINT NOT NULL,
    UNIQUE (tenant, channel, contact_id)
);

-- Messages both ways. provider_message_id is the mid/wamid: the dedupe key of provider retries.
CREATE TABLE messages (
    id {{ID}},
    tenant TEXT NOT NULL,
    channel TEXT NOT NULL,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    direction TEXT NOT NULL,
    provider_message_id TEXT,
    text TEXT,
    attachments TEXT,
    payload TEXT,
    status TEXT NOT NULL,
    provider_timestamp_ms BIGINT,
    sent_at_ms BIGINT,
    delivered_at_ms BIGINT,
    read_at_ms BIGINT,
    failed_at_ms BIGINT,
    error TEXT,
    job_id BIGINT,
    created_at_ms BIGINT NOT NULL,
    UNIQUE (tenant, channel, provider_message_id)
);
CREATE INDEX messages_conversation ON messages (conversation_id, direction, sent_at_ms);

-- Normalized events, as emitted by plugins and stages.
CREATE TABLE events (
    id {{ID}},
    tenant TEXT NOT NULL,
    channel TEXT NOT NULL,
    type TEXT NOT NULL,
    webhook_event_id BIGINT,
    payload TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX events_tenant_type ON events (tenant, type, created_at_ms);

-- The durable outbox. kind: route (run a tenant's stages on an event) | command (message.send...).
-- Jobs of one lane (a conversation) run one at a time, oldest first. idem_key makes re-running a
-- stage after a crash create no second command.
CREATE TABLE jobs (
    id {{ID}},
    tenant TEXT NOT NULL,
    kind TEXT NOT NULL,
    lane TEXT NOT NULL,
    idem_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms BIGINT NOT NULL,
    lease_until_ms BIGINT,
    last_error TEXT,
    result TEXT,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (state, next_attempt_at_ms);
CREATE INDEX jobs_lane ON jobs (lane, id);

-- Per-tenant, per-plugin key/value state (token caches...).
CREATE TABLE kv (
    tenant TEXT NOT NULL,
    plugin TEXT NOT NULL,
    k TEXT NOT NULL,
    v TEXT NOT NULL,
    expires_at_ms BIGINT,
    PRIMARY KEY (tenant, plugin, k)
);
