-- Worker pools per job class (replies, stages, other commands): a worker's claim seeks the due
-- lane heads of its class only. The class is the lane's prefix (send: | conv: event: | cmd:), so
-- the ready index gains it in place of a new column: no extra index to maintain on insert.
DROP INDEX jobs_ready;
CREATE INDEX jobs_ready ON jobs (state, lane_head, (substr(lane, 1, 4)), next_attempt_at_ms);
