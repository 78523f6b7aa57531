-- What each generated reply cost: written with the reply's queued message, in the transaction that
-- creates its send job, so a route re-run after a crash records nothing twice. tier: the stage
-- (reply, recommend); reused: the reply was generated before a crash and sent from its kept copy.
CREATE TABLE reply_usage (
    id {{ID}},
    tenant TEXT NOT NULL,
    job_id BIGINT NOT NULL,
    conversation_id BIGINT,
    provider TEXT NOT NULL,
    tier TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_tokens BIGINT NOT NULL,
    completion_tokens BIGINT NOT NULL,
    latency_ms BIGINT NOT NULL,
    reused INTEGER NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX reply_usage_tenant ON reply_usage (tenant, created_at_ms);
