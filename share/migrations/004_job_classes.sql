-- Job classes, each served by its own pool of workers so a slow class never starves another:
-- 'replies' (message.send), 'stages' (route jobs), 'commands' (every other command).
ALTER TABLE jobs ADD COLUMN job_class TEXT NOT NULL DEFAULT 'commands';
UPDATE jobs SET job_class = 'stages' WHERE kind = 'route';
UPDATE jobs SET job_class = 'replies' WHERE kind = 'command' AND payload LIKE '%"type":"message.send"%';
CREATE INDEX jobs_ready_by_class ON jobs (job_class, state, lane_head, next_attempt_at_ms);
