// switchboard/core/store.hpp — all persistence (SOCI): SQLite (WAL) by default, PostgreSQL for
// production and several instances. Schema changes are the versioned migrations in
// share/migrations/, compiled into the binary and applied at open().
//
// Durability contract (DESIGN.md §2): ingest() acknowledges only after the raw body, every event
// normalized from it and the jobs they start are committed. Concurrent ingests share one commit
// (group commit) on a dedicated writer thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::core {

/// One webhook to persist: its raw body and the normalized events (JSON objects) it produced.
struct ingest_request {
    std::string tenant;
    std::string plugin;
    std::string content_type;
    std::string body;
    int64_t received_at_ms = 0;
    std::vector<std::string> events;
};

/// What ingest() did, reported after the commit.
struct ingest_result {
    bool ok = false;
    std::string error;       ///< when !ok: why nothing was stored (the caller answers 503)
    int events_stored = 0;
    int duplicates = 0;      ///< events dropped as provider retries (same provider message id)
    int jobs_created = 0;
    std::vector<std::string> event_types; ///< type of each stored event, for metrics
};

/// A claimed job.
struct job {
    int64_t id = 0;
    std::string tenant;
    std::string kind;    ///< "route" or "command"
    std::string lane;
    std::string payload; ///< JSON
    int attempts = 0;    ///< including this one
    /// Set when an earlier attempt was interrupted (crash, kill -9, lost instance) and its outcome
    /// is unknown: when that was found. Cleared once an attempt ends with a known outcome.
    std::optional<int64_t> interrupted_at_ms;
};

/// A job to create (from a stage's commands).
struct new_job {
    std::string kind;
    std::string lane;
    std::string idem_key; ///< unique; an existing key makes the insert a no-op
    std::string payload;
};

struct conversation_state {
    int64_t id = 0;
    bool escalated = false;
    int64_t last_inbound_at_ms = 0;
};

class store {
public:
    struct options {
        std::string url;          ///< "sqlite:PATH" or "postgresql://..."
        int pool_size = 6;        ///< connections for workers and queries (the writer has its own)
        /// Whether a tenant routes events of this type (decides if ingest creates a route job).
        std::function<bool(const std::string& tenant, const std::string& type)> has_routes;
        std::function<int64_t()> now_ms; ///< clock (UTC ms)
    };

    /// Opens the database, creating the SQLite file's directory, and applies pending migrations.
    /// @throws std::runtime_error naming the URL (without password) and the driver's message.
    static std::unique_ptr<store> open(options opts);
    virtual ~store() = default;

    /// The migration versions compiled into this binary, in order.
    static std::vector<int> known_migrations();
    /// Applied schema version.
    virtual int schema_version() = 0;

    /// Queues a webhook for the next group commit; `done` runs on the writer thread after the
    /// commit (or its failure). Never blocks on I/O.
    virtual void ingest(ingest_request request, std::function<void(ingest_result)> done) = 0;

    /// Claims the oldest due job whose lane has no earlier unfinished job, leasing it until
    /// now + lease_ms. A running job whose lease expired (its process died) is claimable again
    /// and comes back with interrupted_at_ms set; one that has used max_attempts becomes a dead
    /// letter instead. @throws std::runtime_error / soci::soci_error on storage failure.
    virtual std::optional<job> claim(int64_t now_ms, int64_t lease_ms, int max_attempts) = 0;

    /// Puts a claimed job back to run at `at_ms` without counting this attempt and keeping its
    /// interrupted mark (used while waiting for an echo that would prove an earlier attempt).
    virtual void postpone(const job& j, int64_t at_ms, int64_t now_ms) = 0;

    /// Finishes a route job: creates its command jobs, applies the events its stages emitted
    /// (conversation.escalated...), records them, marks it done — one transaction.
    virtual void complete_route(const job& j, const std::vector<new_job>& commands,
                                const std::vector<std::string>& events, int64_t now_ms) = 0;

    /// Finishes a command job with the plugin's result (records a sent message for message.send).
    virtual void complete_command(const job& j, const std::string& result_json, int64_t now_ms) = 0;

    /// Records a failed attempt. Retries at next_attempt_at_ms unless `final` or out of attempts,
    /// in which case the job becomes a dead letter with `error` (and a failed outbound message is
    /// recorded for message.send). @returns true when the job is now dead.
    virtual bool fail(const job& j, bool final, const std::string& error, int max_attempts,
                      int64_t next_attempt_at_ms, int64_t now_ms) = 0;

    /// The conversation's escalation state and last customer message time; nullopt if unknown.
    virtual std::optional<conversation_state> conversation(int64_t id) = 0;

    /// The provider message id of an outbound message already recorded for command job `job_id`
    /// (by an earlier attempt's commit, or by the provider's echo carrying the job id as metadata),
    /// or nullopt. Lets a job re-run after a crash skip a send that the provider already accepted.
    /// With `text`, an outbound message in `conversation_id` with that text, created at or after
    /// `since_ms` and not tied to another job, counts too (Instagram echoes carry no metadata).
    virtual std::optional<std::string> delivered_by_job(int64_t job_id, int64_t conversation_id = 0,
                                                        const std::string& text = {}, int64_t since_ms = 0) = 0;

    /// Makes every running job claimable now, marked interrupted (single-instance SQLite start-up:
    /// no other process can be running them). @returns how many.
    virtual int release_running(int64_t now_ms) = 0;
    /// Earliest next_attempt_at_ms of pending jobs, if any.
    virtual std::optional<int64_t> next_due_ms() = 0;
    /// Number of jobs per state, for /metrics.
    virtual std::map<std::string, int64_t> job_counts() = 0;

    /// Per-tenant, per-plugin state: the value unless absent or expired at `now_ms`.
    virtual std::optional<std::string> kv_get(const std::string& tenant, const std::string& plugin,
                                              const std::string& key, int64_t now_ms) = 0;
    /// Stores (or replaces) a value; nullopt `expires_at_ms` keeps it forever.
    virtual void kv_put(const std::string& tenant, const std::string& plugin, const std::string& key,
                        const std::string& value, std::optional<int64_t> expires_at_ms) = 0;

    /// True when the backend is SQLite.
    virtual bool is_sqlite() const = 0;
    /// Stops the writer after committing what is queued.
    virtual void close() = 0;
};

/// The message of a storage exception, without the SQL statement and bound values that SOCI
/// appends to what() (they may hold message text or secrets). Safe to log.
std::string storage_error_message(const std::exception& e);

/// Exponential backoff with jitter: the delay before attempt `attempt + 1` after `attempt` failures
/// (attempt >= 1) is uniformly drawn from [d/2, d] where d = min(max_ms, initial_ms * 2^(attempt-1)).
/// `random01` returns a value in [0, 1). @returns milliseconds.
int64_t backoff_delay_ms(int attempt, int64_t initial_ms, int64_t max_ms, double random01);

}  // namespace switchboard::core
