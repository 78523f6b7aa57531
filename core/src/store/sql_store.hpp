// The SOCI implementation of store (private to core/src/store). One class, its members defined by
// topic: connection.cpp (open, migrations, sessions), writer.cpp (group commit), event_filing.cpp
// (turning normalized events into rows), jobs.cpp (the durable outbox: claims, fencing, lanes),
// message_status.cpp (outbound messages and their status), kv.cpp (plugin state).
#pragma once

#include <switchboard/core/store/store.hpp>

#include <boost/json.hpp>
#include <soci/soci.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace switchboard::core::store_detail {

namespace json = boost::json;

/// Column `i` of a row as an integer, whatever integer or numeric type the backend reports for it
/// (SQLite types computed columns by their first value).
int64_t row_int(const soci::row& r, size_t i);

enum class backend { sqlite, postgresql };

/// postgresql://user:password@host/db → postgresql://user:***@host/db (for error messages).
std::string redact_url(const std::string& url);
/// libpq key=value connection string from a postgresql:// URL (SOCI's backend does not accept the
/// URL form). @throws std::runtime_error when `url` is not a URL.
std::string postgres_conninfo(const std::string& url);
/// The statements of a migration file, comments dropped, split at ';'.
std::vector<std::string> split_sql(const std::string& text);

/// Inserts a pending job (binds: tenant, kind, lane, idem_key, payload, next_attempt_at_ms,
/// created_at_ms, updated_at_ms, lane again). It heads its lane when the lane has no unfinished
/// job; an existing idempotency key makes it a no-op.
inline constexpr const char* insert_job_sql =
    "INSERT INTO jobs (tenant, kind, lane, idem_key, payload, state, attempts, next_attempt_at_ms, created_at_ms, "
    "updated_at_ms, lane_head) VALUES (:t, :k, :l, :i, :p, 'pending', 0, :n, :c, :u, CASE WHEN EXISTS (SELECT 1 FROM "
    "jobs WHERE lane = :l2 AND state IN ('pending', 'running')) THEN 0 ELSE 1 END) ON CONFLICT (idem_key) DO NOTHING";

/// The group-commit writer's statements, prepared once per connection (event_filing.cpp).
struct writer_statements;

class sql_store final : public store {
public:
    explicit sql_store(options opts);
    ~sql_store() override;

    bool is_sqlite() const override { return backend_ == backend::sqlite; }
    void close() override;
    int schema_version() override;
    void ingest(ingest_request request, std::function<void(ingest_result)> done) override;

    std::optional<job> claim(const std::function<int64_t()>& now_ms, int64_t lease_ms, int max_attempts,
                             job_class cls) override;
    fence postpone(const job& j, int64_t at_ms, int64_t now_ms) override;
    fence extend_lease(const job& j, int64_t lease_until_ms, int64_t now_ms) override;
    fence complete_route(const job& j, const std::vector<new_job>& commands, const std::vector<std::string>& events,
                         int64_t now_ms) override;
    fence complete_command(const job& j, const std::string& result_json, const std::vector<std::string>& events,
                           int64_t now_ms) override;
    fence retry_later(const job& j, const std::string& error, int64_t next_attempt_at_ms, int64_t now_ms) override;
    fence dead_letter(const job& j, const std::string& error, int64_t now_ms) override;
    int release_running(int64_t now_ms) override;
    std::optional<int64_t> next_due_ms(job_class cls) override;
    int promote_lane_heads() override;
    std::map<std::string, int64_t> job_counts() override;

    std::optional<std::string> delivered_by_job(int64_t job_id, int64_t conversation_id, const std::string& text,
                                                int64_t since_ms) override;
    std::optional<conversation_state> conversation(int64_t id) override;
    bool release_conversation(const std::string& tenant, int64_t conversation_id, int64_t now_ms) override;
    std::vector<stored_command> commands_between(const std::string& tenant, int64_t since_ms, int64_t until_ms) override;
    bool enqueue_command(const std::string& tenant, const std::string& lane, const std::string& idem_key,
                         const std::string& payload, int64_t now_ms) override;

    std::optional<std::string> kv_get(const std::string& tenant, const std::string& plugin, const std::string& key,
                                      int64_t now_ms) override;
    void kv_put(const std::string& tenant, const std::string& plugin, const std::string& key, const std::string& value,
                std::optional<int64_t> expires_at_ms) override;
    void kv_delete(const std::string& tenant, const std::string& plugin, const std::string& key) override;
    int64_t kv_increment(const std::string& tenant, const std::string& plugin, const std::string& key, int64_t delta,
                         std::optional<int64_t> expires_at_ms, int64_t now_ms) override;
    std::pair<int64_t, bool> kv_increment_once(const std::string& tenant, const std::string& plugin, const std::string& key,
                                               int64_t delta, std::optional<int64_t> expires_at_ms,
                                               const std::string& once_key, int64_t once_expires_at_ms,
                                               int64_t now_ms) override;
    inbound_burst burst(const std::string& tenant, const std::string& channel, const std::string& provider_message_id,
                        int64_t gap_ms) override;
    std::vector<history_message> conversation_history(const std::string& tenant, int64_t conversation_id,
                                                      int max_messages) override;
    std::optional<contact_record> contact(const std::string& tenant, const std::string& channel,
                                          const std::string& provider_id) override;
    void save_contact(const std::string& tenant, const std::string& channel, const std::string& provider_id,
                      const contact_record& contact, int64_t now_ms) override;

private:
    struct pending {
        ingest_request request;
        std::function<void(ingest_result)> done;
    };

    // connection.cpp
    std::unique_ptr<soci::session> open_session();
    const soci::backend_factory& factory() const;
    /// What a connection's commits must guarantee on SQLite (PRAGMA synchronous).
    enum class durability {
        acknowledged, ///< the writer: a commit is on disk before its webhooks are answered (FULL)
        job_state     ///< workers: job transitions that re-run safely if a power loss rolls them back (NORMAL)
    };
    void tune(soci::session& s, durability d = durability::acknowledged);
    void begin(soci::session& s);
    void commit(soci::session& s);
    void rollback(soci::session& s);
    void migrate(soci::session& s);

    // jobs.cpp
    /// Marks a claimed job finished (done or dead) when its claim still holds, and makes the next
    /// job of its lane the lane's head. @returns fence::lost when another claim took the job over.
    fence finish(soci::session& s, const job& j, const char* state, const std::string& error, int64_t now_ms);
    /// SQLite: the id of the job a claim would take at `now_ms`, if any.
    std::optional<int64_t> claimable_job(soci::session& s, int64_t now_ms, int max_attempts, job_class cls);
    std::optional<job> claim_in_one_statement(soci::session& s, int64_t now, int64_t lease_ms, int max_attempts,
                                              job_class cls);
    std::optional<job> claim_locked(soci::session& s, const std::function<int64_t()>& now_ms, int64_t lease_ms,
                                    int max_attempts, job_class cls);
    /// Dead-letters running jobs whose lease expired on their last allowed attempt (the process
    /// running it died): reads first, writes only when there is one.
    void give_up_on_dead_attempts(soci::session& s, int64_t now, int max_attempts);

    /// Files events emitted by a stage or a command (conversation.escalated applied; dedupe keys
    /// honoured) and creates their route jobs.
    void file_emitted(soci::session& s, const std::string& tenant, const std::vector<std::string>& emitted, int64_t now_ms);
    /// Inserts one emitted event; nullopt when its dedupe key was filed before.
    std::optional<long long> insert_emitted_event(soci::session& s, const std::string& tenant, const json::object& v,
                                                  const std::string& text, int64_t now_ms);
    /// Creates the route job of an event a stage emitted, when the tenant routes its type.
    void route_emitted(soci::session& s, const std::string& tenant, json::object& event, const std::string& type,
                       int64_t event_id, int64_t now_ms);

    // plugin_state.cpp
    /// The contact known on `channel` as `provider_id`, created with its identity when unknown.
    int64_t contact_with(soci::session& s, const std::string& tenant, const std::string& channel,
                         const std::string& provider_id, int64_t now_ms);

    // message_status.cpp
    /// Records the message of a reply job just created (message.send with a conversation) as queued.
    void record_queued(soci::session& s, const std::string& tenant, const json::object& cmd, int64_t job_id,
                       int64_t now_ms);
    /// Turns job `j`'s queued message into its outcome (sent with `mid`, or failed with `error`).
    /// @returns false when the job has no queued message (jobs queued before message status v2).
    bool settle_queued(soci::session& s, const job& j, const std::string& channel, const std::string& mid,
                       const std::string& status, const std::string& error, int64_t now_ms);
    /// The conversation of `provider_id` on `channel`, with its contact, created when unknown.
    int64_t conversation_with(soci::session& s, const std::string& tenant, const std::string& channel,
                              const std::string& provider_id, int64_t now_ms);
    void record_outbound(soci::session& s, const job& j, const json::object& cmd, const std::string& mid,
                         const std::string& status, const std::string& error, int64_t now_ms);
    void apply_status(soci::session& s, const std::string& tenant, const std::string& channel, const json::object& ev,
                      int64_t now);
    /// Keeps a status for a message id no outbound message has yet (the receipt came first).
    void keep_if_unknown(soci::session& s, const std::string& tenant, const std::string& channel, const std::string& mid,
                         const std::string& status, int64_t at_ms, const std::string& code, const std::string& reason,
                         int64_t now_ms);
    /// Applies, in order, the statuses kept for `mid`, then forgets them.
    void apply_pending_statuses(soci::session& s, const std::string& tenant, const std::string& channel,
                                const std::string& mid, int64_t now_ms);

    // writer.cpp
    void writer_loop();
    std::vector<ingest_result> commit_batch(std::vector<pending>& batch);

    // event_filing.cpp
    int64_t ensure_contact(writer_statements& w, const json::object& contact);
    int64_t ensure_conversation(writer_statements& w, const std::string& account);
    long long insert_event(writer_statements& w, const std::string& type, const std::string& payload);
    void add_route_job(writer_statements& w, const std::string& lane, const std::string& key, const std::string& payload);
    /// What filing one webhook found so far.
    struct filing {
        ingest_result result;
        bool unhandled = false;
        std::string note; ///< the first reason it is unhandled
        void mark_unhandled(const std::string& reason) {
            unhandled = true;
            if (note.empty()) note = reason;
        }
        void stored(const std::string& type) {
            ++result.events_stored;
            result.event_types.push_back(type);
        }
    };
    ingest_result ingest_one(soci::session& s, writer_statements& w, const ingest_request& r);
    void file_message(writer_statements& w, filing& f, json::object& ev, const std::string& type,
                      const std::string& text);
    void start_route(writer_statements& w, filing& f, const json::object& ev, const std::string& type,
                     int64_t conversation_id, int64_t event_id);

    options opts_;
    backend backend_ = backend::sqlite;
    std::string connect_;
    std::unique_ptr<soci::session> writer_;
    std::unique_ptr<writer_statements> statements_; // the writer thread's, prepared on first use
    std::unique_ptr<soci::connection_pool> pool_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<pending> queue_;
    bool stopping_ = false;
    std::thread writer_thread_;
};

/// A failed ingest_result carrying `error`.
ingest_result failed_ingest(std::string error);

}  // namespace switchboard::core::store_detail
