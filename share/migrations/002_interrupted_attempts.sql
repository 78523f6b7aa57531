-- When a job's attempt was interrupted (the process died or stopped mid-attempt), the time it
-- was found so: the outcome of that attempt is unknown until the provider's echo proves it.
ALTER TABLE jobs ADD COLUMN interrupted_at_ms BIGINT;
