-- Fenced claims: every claim takes a new token, and every later update of the job names it, so a
-- worker whose lease ran out can no longer finish, reset or postpone a job another worker took.
ALTER TABLE jobs ADD COLUMN claim_token BIGINT NOT NULL DEFAULT 0;

-- Lane heads: 1 for the first unfinished job of its lane (the only one that may run), 0 for jobs
-- queued behind it. Workers look only at heads, so a conversation's backlog costs no scan.
ALTER TABLE jobs ADD COLUMN lane_head INTEGER NOT NULL DEFAULT 1;
UPDATE jobs SET lane_head = 0
 WHERE state IN ('pending', 'running')
   AND EXISTS (SELECT 1 FROM jobs o WHERE o.lane = jobs.lane AND o.id < jobs.id AND o.state IN ('pending', 'running'));
CREATE INDEX jobs_ready ON jobs (state, lane_head, next_attempt_at_ms);
CREATE INDEX jobs_lane_state ON jobs (lane, state, id);

-- Webhook bodies that are not valid UTF-8 (a correctly signed webhook with a raw 0xE9 byte) are
-- kept byte for byte, base64-encoded: PostgreSQL text columns accept only UTF-8.
ALTER TABLE webhook_events ADD COLUMN body_encoding TEXT NOT NULL DEFAULT 'utf-8';
