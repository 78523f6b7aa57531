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

/// Whether ingest() committed the webhook.
enum class ingest_status {
    stored,         ///< raw body, events and jobs are committed: acknowledge
    storage_failed, ///< nothing was stored (see ingest_result::error): answer 503 so the provider retries
};

/// What ingest() did, reported after the commit.
struct ingest_result {
    ingest_status status = ingest_status::storage_failed;
    std::string error;       ///< when storage_failed: why nothing was stored
    int events_stored = 0;
    int duplicates = 0;      ///< events dropped as provider retries (same provider message id)
    int jobs_created = 0;
    std::vector<std::string> event_types; ///< type of each stored event, for metrics
};

/// What a job does: run a tenant's routes on an event, or execute one command (a send...).
enum class job_kind { route, command };
/// "route" / "command" as stored.
const char* job_kind_name(job_kind kind);

/// A claimed job.
struct job {
    int64_t id = 0;
    std::string tenant;
    job_kind kind = job_kind::route;
    std::string lane;
    std::string payload; ///< JSON
    int attempts = 0;    ///< including this one
    /// The fence of this claim: every later update of the job names it and is refused once another
    /// claim took the job over (the lease expired while this attempt still ran).
    int64_t claim_token = 0;
    /// Until when this claim holds (UTC ms), computed after the claim obtained its lock.
    int64_t lease_until_ms = 0;
    /// Set when an earlier attempt was interrupted (crash, kill -9, lost instance) and its outcome
    /// is unknown: when that was found. Cleared once an attempt ends with a known outcome.
    std::optional<int64_t> interrupted_at_ms;
};

/// A job to create (from a stage's commands).
struct new_job {
    job_kind kind = job_kind::command;
    std::string lane;
    std::string idem_key; ///< unique; an existing key makes the insert a no-op
    std::string payload;
};

/// Whether an update of a claimed job took effect: `lost` when the claim no longer holds (another
/// worker or process claimed the job after this claim's lease ran out) and nothing was written.
enum class fence { held, lost };


/// An event as filed by ingest(), for deciding whether it starts a route job.
struct filed_event {
    std::string tenant;
    std::string type;
    int64_t conversation_id = 0; ///< 0 for events outside a conversation
    int64_t event_id = 0;
    /// How many stages led to it: 0 for what a provider sent, n + 1 for an event a stage emitted
    /// while routing an event of depth n (the dispatcher refuses to route past a limit: loops).
    int chain_depth = 0;
};

/// Lane and idempotency key of a route job to create (see dispatch/keys.hpp).
struct route_job_spec {
    std::string lane;
    std::string idem_key;
};

/// A conversation as stages and commands need it.
struct conversation_state {
    int64_t id = 0;
    bool escalated = false;
    int64_t last_inbound_at_ms = 0;
};

/// One message of a conversation's history.
struct history_message {
    std::string direction; ///< "in" or "out"
    std::string text;      ///< "" for messages without text (attachments)
    int64_t at_ms = 0;     ///< provider timestamp, else when it was sent or recorded (UTC ms)
    std::string status;    ///< received | queued | sent | delivered | read | failed
};

/// A customer message and the ones it arrived in a burst with (reply debounce, route_runner).
struct inbound_burst {
    bool found = false;            ///< the message is recorded
    int64_t received_at_ms = 0;    ///< when it was recorded (host clock)
    bool superseded = false;       ///< the conversation's next customer message came less than gap_ms later
    /// The burst, oldest first, ending with this message: the inbound messages before it, after the
    /// conversation's last outbound one, each recorded less than `gap_ms` after the one before.
    std::vector<std::string> provider_message_ids;
    std::vector<std::string> texts;  ///< their texts ("" for attachments), in the same order
};

/// A contact's attributes (contacts row). `tags` is a JSON array text, `attributes` a JSON object text.
struct contact_record {
    int64_t id = 0;
    std::string name, phone, email;
    std::string tags = "[]";
    std::optional<double> score;
    std::string attributes = "{}";
};

/// Which jobs a worker claims: its pool's class. A job's class follows from its lane (keys.hpp):
/// replies are message.send jobs on "send:" lanes, stages are route jobs ("conv:"/"event:" lanes:
/// stages, AI calls included), commands are every other command ("cmd:" lanes).
enum class job_class { any, replies, stages, commands };

/// "replies", "stages", "commands" or "any".
const char* job_class_name(job_class c);

/// All persistence: webhooks and their events, contacts and conversations, the job outbox,
/// message status and plugin state. Thread-safe; every call may throw on storage failure (the
/// message is safe to log through storage_error_message()).
class store {
public:
    /// How to open a store.
    struct options {
        std::string url;          ///< "sqlite:PATH" or "postgresql://..."
        int pool_size = 6;        ///< connections for workers and queries (the writer has its own)
        /// The route job to create for a filed event, or nullopt when the tenant routes no event of
        /// its type. Unset: no route jobs.
        std::function<std::optional<route_job_spec>(const filed_event&)> route_job;
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

    /// Claims the oldest due job that heads its lane (no earlier unfinished job in the lane), or a
    /// running job whose lease expired (its process died: it comes back with interrupted_at_ms
    /// set). Finding nothing writes nothing. The lease runs from `now_ms()` read after the claim
    /// holds its lock, so time spent waiting for the lock never shortens it. A running job whose
    /// lease expired on its last allowed attempt becomes a dead letter instead.
    /// @throws std::runtime_error / soci::soci_error on storage failure.
    /// Only jobs of class `cls` are claimed (job_class::any: every job).
    virtual std::optional<job> claim(const std::function<int64_t()>& now_ms, int64_t lease_ms, int max_attempts,
                                     job_class cls = job_class::any) = 0;

    /// Extends the lease of a claimed job that is still running to `lease_until_ms` (UTC ms).
    /// @returns fence::lost (nothing written) when another claim took the job over meanwhile.
    virtual fence extend_lease(const job& j, int64_t lease_until_ms, int64_t now_ms) = 0;

    /// Puts a claimed job back to run at `at_ms` without counting this attempt and keeping its
    /// interrupted mark (used while waiting for an echo that would prove an earlier attempt).
    virtual fence postpone(const job& j, int64_t at_ms, int64_t now_ms) = 0;

    /// Finishes a route job: creates its command jobs, applies the events its stages emitted
    /// (conversation.escalated...), records them and creates their route jobs (options::route_job
    /// decides, with the event's "chain_depth"), marks it done — one transaction, written only
    /// while the claim holds.
    virtual fence complete_route(const job& j, const std::vector<new_job>& commands,
                                 const std::vector<std::string>& events, int64_t now_ms) = 0;

    /// Finishes a command job with the plugin's result (records a sent message for message.send)
    /// and files the events it produced (a result with a "type", further outputs) like a route's,
    /// written only while the claim holds.
    virtual fence complete_command(const job& j, const std::string& result_json, const std::vector<std::string>& events,
                                   int64_t now_ms) = 0;

    /// Records a failed attempt to be retried at `next_attempt_at_ms` (clears the interrupted
    /// mark: the attempt's outcome is known). Nothing is written when the claim was lost.
    virtual fence retry_later(const job& j, const std::string& error, int64_t next_attempt_at_ms, int64_t now_ms) = 0;

    /// Makes the job a dead letter carrying `error` (for message.send, a failed outbound message
    /// is recorded too) and lets the next job of its lane run. Nothing is written when the claim
    /// was lost.
    virtual fence dead_letter(const job& j, const std::string& error, int64_t now_ms) = 0;

    /// The conversation's escalation state and last customer message time; nullopt if unknown.
    virtual std::optional<conversation_state> conversation(int64_t id) = 0;

    /// Hands an escalated conversation of `tenant` back to the bot: clears its escalation and files
    /// (and routes) a conversation.released event, in one transaction.
    /// @returns false when the tenant has no such conversation or it was not escalated (nothing filed).
    virtual bool release_conversation(const std::string& tenant, int64_t conversation_id, int64_t now_ms) = 0;

    /// A command job as stored, for a replay.
    struct stored_command {
        int64_t id = 0;
        std::string lane;
        std::string payload;  ///< the command JSON
    };
    /// The command jobs of `tenant` created in [since_ms, until_ms] (UTC ms), oldest first, whatever
    /// their state. Only jobs the store still holds are found.
    virtual std::vector<stored_command> commands_between(const std::string& tenant, int64_t since_ms, int64_t until_ms) = 0;
    /// Adds a pending command job on `lane` behind the lane's other jobs.
    /// @returns false (nothing added) when a job with `idem_key` exists.
    virtual bool enqueue_command(const std::string& tenant, const std::string& lane, const std::string& idem_key,
                                 const std::string& payload, int64_t now_ms) = 0;

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
    /// When a worker next has something to claim (UTC ms): the earliest next attempt of a job
    /// heading its lane, or the earliest lease expiry of a running job; nullopt when neither exists.
    /// Jobs queued behind a busy lane do not count: they become due when their lane frees. Only
    /// jobs of class `cls` count (job_class::any: all).
    virtual std::optional<int64_t> next_due_ms(job_class cls = job_class::any) = 0;
    /// Repairs lane heads that concurrent writers left unmarked (several instances on PostgreSQL:
    /// a job queued while its lane's last job finished in another transaction). Reads first and
    /// writes only when there is something to repair. @returns how many jobs became lane heads.
    virtual int promote_lane_heads() = 0;
    /// Number of jobs per state, for /metrics.
    virtual std::map<std::string, int64_t> job_counts() = 0;

    /// Per-tenant, per-plugin state: the value unless absent or expired at `now_ms`.
    virtual std::optional<std::string> kv_get(const std::string& tenant, const std::string& plugin,
                                              const std::string& key, int64_t now_ms) = 0;
    /// Stores (or replaces) a value; nullopt `expires_at_ms` keeps it forever.
    virtual void kv_put(const std::string& tenant, const std::string& plugin, const std::string& key,
                        const std::string& value, std::optional<int64_t> expires_at_ms) = 0;

    /// Removes a key (nothing happens when it is absent).
    virtual void kv_delete(const std::string& tenant, const std::string& plugin, const std::string& key) = 0;
    /// Atomically adds `delta` to the integer at the key (absent or expired at `now_ms`: 0; a value
    /// that is not a decimal integer counts as 0) and returns the new value. A created (or
    /// expired and restarted) key gets `expires_at_ms`; a live key keeps its expiry.
    virtual int64_t kv_increment(const std::string& tenant, const std::string& plugin, const std::string& key,
                                 int64_t delta, std::optional<int64_t> expires_at_ms, int64_t now_ms) = 0;

    /// kv_increment unless `once_key` (same tenant and namespace) is live: then nothing changes.
    /// Records `once_key` with the new value until `once_expires_at_ms`, in the same transaction.
    /// @returns the value right after once_key's increment, and whether this call applied it.
    virtual std::pair<int64_t, bool> kv_increment_once(const std::string& tenant, const std::string& plugin,
                                                       const std::string& key, int64_t delta,
                                                       std::optional<int64_t> expires_at_ms, const std::string& once_key,
                                                       int64_t once_expires_at_ms, int64_t now_ms) = 0;

    /// The burst the inbound message `provider_message_id` of `channel` closes (see inbound_burst),
    /// with bursts split where customer messages are `gap_ms` or more apart.
    virtual inbound_burst burst(const std::string& tenant, const std::string& channel,
                                const std::string& provider_message_id, int64_t gap_ms) = 0;

    /// The newest `max_messages` messages of a tenant's conversation, oldest first (see
    /// sb_host_api.conversation_history for the shape); empty for an unknown conversation.
    virtual std::vector<history_message> conversation_history(const std::string& tenant, int64_t conversation_id,
                                                              int max_messages) = 0;
    /// The contact a tenant knows on `channel` as `provider_id`, or nullopt.
    virtual std::optional<contact_record> contact(const std::string& tenant, const std::string& channel,
                                                  const std::string& provider_id) = 0;
    /// Writes `contact` (found by channel and provider id, created with its identity when unknown).
    virtual void save_contact(const std::string& tenant, const std::string& channel, const std::string& provider_id,
                              const contact_record& contact, int64_t now_ms) = 0;

    /// True when the backend is SQLite.
    virtual bool is_sqlite() const = 0;
    /// Stops the writer after committing what is queued.
    virtual void close() = 0;
};

/// The message of a storage exception, without the SQL statement and bound values that SOCI
/// appends to what() (they may hold message text or secrets). Safe to log.
std::string storage_error_message(const std::exception& e);

}  // namespace switchboard::core
