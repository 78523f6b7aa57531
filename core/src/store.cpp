#include <switchboard/core/store.hpp>

#include "json_fields.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

namespace switchboard::core {

namespace json = boost::json;

std::string storage_error_message(const std::exception& e) {
    if (auto* se = dynamic_cast<const soci::soci_error*>(&e)) return se->get_error_message();
    return e.what();
}

int64_t backoff_delay_ms(int attempt, int64_t initial_ms, int64_t max_ms, double random01) {
    if (attempt < 1) attempt = 1;
    double d = static_cast<double>(initial_ms) * std::pow(2.0, std::min(attempt - 1, 40));
    d = std::min(d, static_cast<double>(max_ms));
    return static_cast<int64_t>(d / 2 + (d / 2) * std::clamp(random01, 0.0, 1.0));
}

// Generated from share/migrations/*.sql at build time.
struct migration {
    int version;
    const char* name;
    const char* sql;
};
extern const migration embedded_migrations[];
extern const size_t embedded_migrations_count;

std::vector<int> store::known_migrations() {
    std::vector<int> out;
    for (size_t i = 0; i < embedded_migrations_count; ++i) out.push_back(embedded_migrations[i].version);
    return out;
}

namespace {

enum class backend { sqlite, postgresql };

std::string redact_url(const std::string& url) {
    // postgresql://user:password@host/db → postgresql://user:***@host/db
    auto scheme = url.find("://");
    auto at = url.find('@');
    if (scheme == std::string::npos || at == std::string::npos) return url;
    auto colon = url.find(':', scheme + 3);
    if (colon == std::string::npos || colon > at) return url;
    return url.substr(0, colon + 1) + "***" + url.substr(at);
}

/// libpq key=value connection string from a postgresql:// URL (SOCI's backend does not accept the
/// URL form). Values are quoted as libpq requires.
std::string postgres_conninfo(const std::string& url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) throw std::runtime_error("storage url is not a valid URL");
    auto u = *parsed;
    auto quote = [](const std::string& v) {
        std::string out = "'";
        for (char c : v) {
            if (c == '\\' || c == '\'') out += '\\';
            out += c;
        }
        return out + "'";
    };
    std::string out;
    auto add = [&](const std::string& k, const std::string& v) {
        if (!v.empty()) out += (out.empty() ? "" : " ") + k + "=" + quote(v);
    };
    add("host", std::string(u.host()));
    add("port", std::string(u.port()));
    add("user", std::string(u.user()));
    add("password", std::string(u.password()));
    std::string db(u.path());
    if (!db.empty() && db[0] == '/') db = db.substr(1);
    add("dbname", db);
    for (auto param : u.params()) add(std::string(param.key), std::string(param.value));
    return out;
}

std::vector<std::string> split_sql(const std::string& text) {
    std::string cleaned;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        std::string line = text.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
        pos = eol == std::string::npos ? text.size() : eol + 1;
        auto first = line.find_first_not_of(" \t");
        if (first != std::string::npos && line.compare(first, 2, "--") == 0) continue;
        cleaned += line + "\n";
    }
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t i = 0; i < cleaned.size(); ++i) {
        if (cleaned[i] != ';') continue;
        std::string stmt = cleaned.substr(start, i - start);
        start = i + 1;
        if (stmt.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(stmt);
    }
    return out;
}

using json_fields::num;
using json_fields::obj;
using json_fields::str;

int status_rank(const std::string& s) {
    if (s == "sent") return 1;
    if (s == "delivered") return 2;
    if (s == "read") return 3;
    return 0;
}
/// SQL list of statuses that `target` may overwrite (never move backwards).
std::string lower_statuses(const std::string& target) {
    std::string out = "'pending'";
    for (const char* s : {"sent", "delivered", "read"})
        if (status_rank(s) < status_rank(target)) out += std::string(",'") + s + "'";
    return out;
}

ingest_result failed_ingest(std::string error) {
    ingest_result r;
    r.error = std::move(error);
    return r;
}

class sql_store final : public store {
public:
    explicit sql_store(options opts) : opts_(std::move(opts)) {
        const auto& url = opts_.url;
        if (url.rfind("sqlite:", 0) == 0) {
            backend_ = backend::sqlite;
            std::string path = url.substr(7);
            if (path.rfind("//", 0) == 0) path = path.substr(2);
            std::filesystem::path p(path);
            if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
            connect_ = "db=" + path + " timeout=30";
        } else {
            backend_ = backend::postgresql;
            connect_ = postgres_conninfo(url);
        }
        try {
            writer_ = open_session();
            migrate(*writer_);
            pool_ = std::make_unique<soci::connection_pool>(opts_.pool_size);
            for (int i = 0; i < opts_.pool_size; ++i) {
                auto& s = pool_->at(i);
                s.open(factory(), connect_);
                tune(s);
            }
        } catch (const std::exception& e) {
            throw std::runtime_error("cannot open storage " + redact_url(url) + ": " + storage_error_message(e));
        }
        writer_thread_ = std::thread([this] { writer_loop(); });
    }

    ~sql_store() override { close(); }

    bool is_sqlite() const override { return backend_ == backend::sqlite; }

    void close() override {
        {
            std::lock_guard lk(mu_);
            if (stopping_) return;
            stopping_ = true;
        }
        cv_.notify_all();
        if (writer_thread_.joinable()) writer_thread_.join();
    }

    int schema_version() override {
        soci::session s(*pool_);
        int v = 0;
        soci::indicator ind;
        s << "SELECT MAX(version) FROM schema_migrations", soci::into(v, ind);
        return ind == soci::i_ok ? v : 0;
    }

    void ingest(ingest_request request, std::function<void(ingest_result)> done) override {
        {
            std::lock_guard lk(mu_);
            if (!stopping_) {
                queue_.push_back({std::move(request), std::move(done)});
                cv_.notify_one();
                return;
            }
        }
        done(failed_ingest("the service is stopping"));
    }

    std::optional<job> claim(int64_t now_ms, int64_t lease_ms, int max_attempts) override {
        soci::session s(*pool_);
        job j;
        const std::string lock = backend_ == backend::postgresql ? " FOR UPDATE SKIP LOCKED" : "";
        int64_t lease_until = now_ms + lease_ms, n1 = now_ms, n2 = now_ms, n3 = now_ms;
        long long interrupted = 0;
        soci::indicator interrupted_ind = soci::i_null;
        s << "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until_ms = :lease, updated_at_ms = :n1, "
             "interrupted_at_ms = CASE WHEN state = 'running' THEN lease_until_ms ELSE interrupted_at_ms END "
             "WHERE id = (SELECT j.id FROM jobs j WHERE "
             "((j.state = 'pending' AND j.next_attempt_at_ms <= :n2) OR "
             "(j.state = 'running' AND j.lease_until_ms < :n3 AND j.attempts < :m)) "
             "AND NOT EXISTS (SELECT 1 FROM jobs o WHERE o.lane = j.lane AND o.id < j.id AND o.state IN ('pending', 'running')) "
             "ORDER BY j.next_attempt_at_ms, j.id LIMIT 1" +
                 lock +
                 ") RETURNING id, tenant, kind, lane, payload, attempts, interrupted_at_ms",
            soci::use(lease_until), soci::use(n1), soci::use(n2), soci::use(n3), soci::use(max_attempts),
            soci::into(j.id), soci::into(j.tenant),
            soci::into(j.kind), soci::into(j.lane), soci::into(j.payload), soci::into(j.attempts),
            soci::into(interrupted, interrupted_ind);
        if (s.got_data()) {
            if (interrupted_ind == soci::i_ok) j.interrupted_at_ms = interrupted;
            return j;
        }
        // Nothing to run: give up on jobs whose process died on their last allowed attempt (kept
        // off the path that hands out work).
        s << "UPDATE jobs SET state = 'dead', lease_until_ms = NULL, updated_at_ms = :n, last_error = "
             "'gave up: the process running its last allowed attempt stopped before the outcome was known' "
             "WHERE state = 'running' AND lease_until_ms < :n2 AND attempts >= :m",
            soci::use(now_ms), soci::use(now_ms), soci::use(max_attempts);
        return std::nullopt;
    }

    void postpone(const job& j, int64_t at_ms, int64_t now_ms) override {
        soci::session s(*pool_);
        s << "UPDATE jobs SET state = 'pending', attempts = attempts - 1, next_attempt_at_ms = :a, lease_until_ms = NULL, "
             "updated_at_ms = :n WHERE id = :id",
            soci::use(at_ms), soci::use(now_ms), soci::use(j.id);
    }

    void complete_route(const job& j, const std::vector<new_job>& commands, const std::vector<std::string>& events,
                        int64_t now_ms) override {
        soci::session s(*pool_);
        begin(s);
        try {
            for (auto& c : commands) {
                s << "INSERT INTO jobs (tenant, kind, lane, idem_key, payload, state, attempts, next_attempt_at_ms, "
                     "created_at_ms, updated_at_ms) VALUES (:t, :k, :l, :i, :p, 'pending', 0, :n, :c, :u) "
                     "ON CONFLICT (idem_key) DO NOTHING",
                    soci::use(j.tenant), soci::use(c.kind), soci::use(c.lane), soci::use(c.idem_key),
                    soci::use(c.payload), soci::use(now_ms), soci::use(now_ms), soci::use(now_ms);
            }
            for (auto& e : events) {
                auto v = json::parse(e).as_object();
                std::string type = str(v, "type");
                if (type == "conversation.escalated") {
                    int64_t cid = num(v, "conversation_id");
                    s << "UPDATE conversations SET escalated = 1, escalated_at_ms = :n WHERE id = :id AND tenant = :t",
                        soci::use(now_ms), soci::use(cid), soci::use(j.tenant);
                }
                std::string channel = str(v, "channel");
                s << "INSERT INTO events (tenant, channel, type, payload, created_at_ms) VALUES (:t, :c, :ty, :p, :n)",
                    soci::use(j.tenant), soci::use(channel), soci::use(type), soci::use(e), soci::use(now_ms);
            }
            finish(s, j.id, "done", "", now_ms);
            commit(s);
        } catch (...) {
            rollback(s);
            throw;
        }
    }

    void complete_command(const job& j, const std::string& result_json, int64_t now_ms) override {
        soci::session s(*pool_);
        begin(s);
        try {
            auto cmd = json::parse(j.payload).as_object();
            if (str(cmd, "type") == "message.send") {
                json::object result;
                if (auto v = json::parse(result_json); v.is_object()) result = v.as_object();
                std::string mid = str(result, "provider_message_id");
                record_outbound(s, j, cmd, mid, "sent", "", now_ms);
            }
            s << "UPDATE jobs SET result = :r WHERE id = :id", soci::use(result_json), soci::use(j.id);
            finish(s, j.id, "done", "", now_ms);
            commit(s);
        } catch (...) {
            rollback(s);
            throw;
        }
    }

    bool fail(const job& j, bool final, const std::string& error, int max_attempts, int64_t next_attempt_at_ms,
              int64_t now_ms) override {
        soci::session s(*pool_);
        bool dead = final || j.attempts >= max_attempts;
        begin(s);
        try {
            if (dead) {
                auto cmd = json::parse(j.payload).as_object();
                if (j.kind == "command" && str(cmd, "type") == "message.send")
                    record_outbound(s, j, cmd, "", "failed", error, now_ms);
                finish(s, j.id, "dead", error, now_ms);
            } else {
                s << "UPDATE jobs SET state = 'pending', next_attempt_at_ms = :n, lease_until_ms = NULL, "
                     "interrupted_at_ms = NULL, last_error = :e, updated_at_ms = :u WHERE id = :id",
                    soci::use(next_attempt_at_ms), soci::use(error), soci::use(now_ms), soci::use(j.id);
            }
            commit(s);
        } catch (...) {
            rollback(s);
            throw;
        }
        return dead;
    }

    std::optional<std::string> delivered_by_job(int64_t job_id, int64_t conversation_id, const std::string& text,
                                                int64_t since_ms) override {
        soci::session s(*pool_);
        std::string mid;
        soci::indicator ind;
        s << "SELECT provider_message_id FROM messages WHERE job_id = :j AND direction = 'outbound' AND "
             "provider_message_id IS NOT NULL",
            soci::use(job_id), soci::into(mid, ind);
        if (s.got_data() && ind == soci::i_ok) return mid;
        if (conversation_id <= 0 || text.empty()) return std::nullopt;
        s << "SELECT provider_message_id FROM messages WHERE conversation_id = :c AND direction = 'outbound' AND "
             "job_id IS NULL AND text = :t AND created_at_ms >= :s AND provider_message_id IS NOT NULL "
             "ORDER BY id LIMIT 1",
            soci::use(conversation_id), soci::use(text), soci::use(since_ms), soci::into(mid, ind);
        if (s.got_data() && ind == soci::i_ok) return mid;
        return std::nullopt;
    }

    std::optional<conversation_state> conversation(int64_t id) override {
        soci::session s(*pool_);
        conversation_state c;
        int escalated = 0;
        long long last = 0;
        soci::indicator ind;
        s << "SELECT id, escalated, last_inbound_at_ms FROM conversations WHERE id = :id", soci::use(id),
            soci::into(c.id), soci::into(escalated), soci::into(last, ind);
        if (!s.got_data()) return std::nullopt;
        c.escalated = escalated != 0;
        c.last_inbound_at_ms = ind == soci::i_ok ? last : 0;
        return c;
    }

    int release_running(int64_t now_ms) override {
        soci::session s(*pool_);
        soci::statement st = (s.prepare << "UPDATE jobs SET state = 'pending', lease_until_ms = NULL, next_attempt_at_ms = :n, "
                                           "interrupted_at_ms = :i WHERE state = 'running'",
                              soci::use(now_ms), soci::use(now_ms));
        st.execute(true);
        return static_cast<int>(st.get_affected_rows());
    }

    std::optional<int64_t> next_due_ms() override {
        soci::session s(*pool_);
        long long v = 0;
        soci::indicator ind;
        s << "SELECT MIN(next_attempt_at_ms) FROM jobs WHERE state = 'pending'", soci::into(v, ind);
        if (ind != soci::i_ok) return std::nullopt;
        return v;
    }

    std::map<std::string, int64_t> job_counts() override {
        soci::session s(*pool_);
        std::map<std::string, int64_t> out;
        for (const char* state : {"pending", "running", "done", "dead"}) {
            long long n = 0;
            std::string st = state;
            s << "SELECT COUNT(*) FROM jobs WHERE state = :s", soci::use(st), soci::into(n);
            out[state] = n;
        }
        return out;
    }

    std::optional<std::string> kv_get(const std::string& tenant, const std::string& plugin, const std::string& key,
                                      int64_t now_ms) override {
        soci::session s(*pool_);
        std::string v;
        s << "SELECT v FROM kv WHERE tenant = :t AND plugin = :p AND k = :k AND (expires_at_ms IS NULL OR expires_at_ms > :n)",
            soci::use(tenant), soci::use(plugin), soci::use(key), soci::use(now_ms), soci::into(v);
        if (!s.got_data()) return std::nullopt;
        return v;
    }

    void kv_put(const std::string& tenant, const std::string& plugin, const std::string& key, const std::string& value,
                std::optional<int64_t> expires_at_ms) override {
        soci::session s(*pool_);
        long long exp = expires_at_ms.value_or(0);
        soci::indicator ind = expires_at_ms ? soci::i_ok : soci::i_null;
        s << "INSERT INTO kv (tenant, plugin, k, v, expires_at_ms) VALUES (:t, :p, :k, :v, :e) "
             "ON CONFLICT (tenant, plugin, k) DO UPDATE SET v = excluded.v, expires_at_ms = excluded.expires_at_ms",
            soci::use(tenant), soci::use(plugin), soci::use(key), soci::use(value), soci::use(exp, ind);
    }

private:
    struct pending {
        ingest_request request;
        std::function<void(ingest_result)> done;
    };

    std::unique_ptr<soci::session> open_session() {
        auto s = std::make_unique<soci::session>(factory(), connect_);
        tune(*s);
        return s;
    }

    const soci::backend_factory& factory() const {
        if (backend_ == backend::sqlite) return soci::sqlite3;
        return soci::postgresql;
    }

    void tune(soci::session& s) {
        if (backend_ != backend::sqlite) return;
        std::string mode;
        s << "PRAGMA journal_mode = WAL", soci::into(mode);
        s << "PRAGMA synchronous = FULL";
        s << "PRAGMA foreign_keys = ON";
        s << "PRAGMA busy_timeout = 30000";
    }

    void begin(soci::session& s) { s << (backend_ == backend::sqlite ? "BEGIN IMMEDIATE" : "BEGIN"); }
    void commit(soci::session& s) { s << "COMMIT"; }
    void rollback(soci::session& s) {
        try {
            s << "ROLLBACK";
        } catch (...) {
        }
    }

    void migrate(soci::session& s) {
        s << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
             "applied_at_ms BIGINT NOT NULL)";
        begin(s);
        try {
            // Several instances may start at once on PostgreSQL: one migrates, the others wait.
            if (backend_ == backend::postgresql) {
                long long one = 0;
                s << "SELECT 1 FROM (SELECT pg_advisory_xact_lock(727274)) AS l", soci::into(one);
            }
            for (size_t i = 0; i < embedded_migrations_count; ++i) {
                const auto& m = embedded_migrations[i];
                int found = 0;
                s << "SELECT COUNT(*) FROM schema_migrations WHERE version = :v", soci::use(m.version), soci::into(found);
                if (found) continue;
                std::string sql = m.sql;
                const std::string id_type = backend_ == backend::sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT"
                                                                        : "BIGSERIAL PRIMARY KEY";
                for (size_t p = sql.find("{{ID}}"); p != std::string::npos; p = sql.find("{{ID}}", p))
                    sql.replace(p, 6, id_type);
                for (auto& stmt : split_sql(sql)) s << stmt;
                int64_t now = opts_.now_ms();
                std::string name = m.name;
                s << "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (:v, :n, :a)",
                    soci::use(m.version), soci::use(name), soci::use(now);
                spdlog::info("storage: applied migration {} ({})", m.version, m.name);
            }
            commit(s);
        } catch (...) {
            rollback(s);
            throw;
        }
    }

    void finish(soci::session& s, int64_t id, const char* state, const std::string& error, int64_t now_ms) {
        std::string st = state;
        soci::indicator ei = error.empty() ? soci::i_null : soci::i_ok;
        s << "UPDATE jobs SET state = :s, lease_until_ms = NULL, interrupted_at_ms = NULL, "
             "last_error = COALESCE(:e, last_error), updated_at_ms = :n WHERE id = :id",
            soci::use(st), soci::use(error, ei), soci::use(now_ms), soci::use(id);
    }

    void record_outbound(soci::session& s, const job& j, const json::object& cmd, const std::string& mid,
                         const std::string& status, const std::string& error, int64_t now_ms) {
        int64_t conv = num(cmd, "conversation_id");
        if (conv <= 0) return;
        std::string channel = str(cmd, "channel"), text = str(cmd, "text");
        soci::indicator mi = mid.empty() ? soci::i_null : soci::i_ok;
        soci::indicator ei = error.empty() ? soci::i_null : soci::i_ok;
        long long sent = now_ms, failed = now_ms;
        soci::indicator si = status == "sent" ? soci::i_ok : soci::i_null;
        soci::indicator fi = status == "failed" ? soci::i_ok : soci::i_null;
        s << "INSERT INTO messages (tenant, channel, conversation_id, direction, provider_message_id, text, status, "
             "sent_at_ms, failed_at_ms, error, job_id, created_at_ms) VALUES (:t, :c, :cv, 'outbound', :m, :tx, :st, :sa, "
             ":fa, :e, :j, :n) ON CONFLICT (tenant, channel, provider_message_id) DO UPDATE SET job_id = excluded.job_id",
            soci::use(j.tenant), soci::use(channel), soci::use(conv), soci::use(mid, mi), soci::use(text),
            soci::use(status), soci::use(sent, si), soci::use(failed, fi), soci::use(error, ei), soci::use(j.id),
            soci::use(now_ms);
    }

    // --- group commit -----------------------------------------------------------------------

    void writer_loop() {
        for (;;) {
            std::vector<pending> batch;
            {
                std::unique_lock lk(mu_);
                cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
                if (queue_.empty() && stopping_) return;
                while (!queue_.empty() && batch.size() < 512) {
                    batch.push_back(std::move(queue_.front()));
                    queue_.pop_front();
                }
            }
            auto results = commit_batch(batch);
            for (size_t i = 0; i < batch.size(); ++i) {
                try {
                    batch[i].done(std::move(results[i]));
                } catch (const std::exception& e) {
                    spdlog::error("storage: ingest callback failed: {}", e.what());
                }
            }
        }
    }

    std::vector<ingest_result> commit_batch(std::vector<pending>& batch) {
        std::vector<ingest_result> results(batch.size());
        auto& s = *writer_;
        try {
            if (!statements_) statements_ = std::make_unique<writer_statements>(s);
            auto& w = *statements_;
            begin(s);
            for (size_t i = 0; i < batch.size(); ++i) {
                w.run(w.savepoint);
                try {
                    results[i] = ingest_one(s, w, batch[i].request);
                    w.run(w.release);
                } catch (const std::exception& e) {
                    w.run(w.rollback_to);
                    w.run(w.release);
                    results[i] = failed_ingest("cannot store webhook: " + storage_error_message(e));
                }
            }
            commit(s);
        } catch (const std::exception& e) {
            rollback(s);
            spdlog::error("storage: group commit of {} webhooks failed: {}", batch.size(), storage_error_message(e));
            for (auto& r : results) r = failed_ingest("storage failure: " + storage_error_message(e));
            try {
                statements_.reset();
                s.reconnect();
                tune(s);
            } catch (const std::exception& re) {
                spdlog::error("storage: reconnect failed: {}", storage_error_message(re));
            }
        }
        return results;
    }

    /// The writer's statements, prepared once per connection and re-executed with new values
    /// bound: on PostgreSQL this saves a prepare round trip per statement, on SQLite the parse.
    struct writer_statements {
        // Bound values. SOCI keeps references to these, so they live as long as the statements.
        std::string tenant, plugin, channel, content_type, body, status, note, provider_id, name, account, type,
            payload, direction, mid, text, attachments, extra, lane, key;
        long long now = 0, id = 0, contact_id = 0, conversation_id = 0, webhook_id = 0, ts = 0, sent_at = 0, job_id = 0;
        int count = 0;
        soci::indicator name_ind = soci::i_ok, account_ind = soci::i_ok, text_ind = soci::i_ok,
                        attachments_ind = soci::i_ok, extra_ind = soci::i_ok, sent_ind = soci::i_ok,
                        note_ind = soci::i_ok, job_ind = soci::i_null;

        soci::statement savepoint, release, rollback_to, insert_webhook, update_webhook, select_identity,
            insert_contact, insert_identity, select_conversation, insert_conversation, insert_message,
            touch_conversation, insert_event, insert_route_job;

        explicit writer_statements(soci::session& s)
            : savepoint(s.prepare << "SAVEPOINT item"),
              release(s.prepare << "RELEASE SAVEPOINT item"),
              rollback_to(s.prepare << "ROLLBACK TO SAVEPOINT item"),
              insert_webhook((s.prepare << "INSERT INTO webhook_events (tenant, plugin, received_at_ms, content_type, "
                                           "body, status, events_count) VALUES (:t, :p, :n, :ct, :b, 'handled', :ec) "
                                           "RETURNING id",
                              soci::use(tenant), soci::use(plugin), soci::use(now), soci::use(content_type),
                              soci::use(body), soci::use(count), soci::into(webhook_id))),
              update_webhook((s.prepare << "UPDATE webhook_events SET status = :s, note = :n WHERE id = :id",
                              soci::use(status), soci::use(note, note_ind), soci::use(webhook_id))),
              select_identity((s.prepare << "SELECT contact_id FROM channel_identities WHERE tenant = :t AND "
                                            "channel = :c AND provider_id = :p",
                               soci::use(tenant), soci::use(channel), soci::use(provider_id), soci::into(contact_id))),
              insert_contact((s.prepare << "INSERT INTO contacts (tenant, display_name, created_at_ms) VALUES "
                                           "(:t, :n, :c) RETURNING id",
                              soci::use(tenant), soci::use(name, name_ind), soci::use(now), soci::into(contact_id))),
              insert_identity((s.prepare << "INSERT INTO channel_identities (tenant, channel, provider_id, contact_id, "
                                            "created_at_ms) VALUES (:t, :c, :p, :ci, :n)",
                               soci::use(tenant), soci::use(channel), soci::use(provider_id), soci::use(contact_id),
                               soci::use(now))),
              select_conversation((s.prepare << "SELECT id FROM conversations WHERE tenant = :t AND channel = :c AND "
                                                "contact_id = :ci",
                                   soci::use(tenant), soci::use(channel), soci::use(contact_id),
                                   soci::into(conversation_id))),
              insert_conversation((s.prepare << "INSERT INTO conversations (tenant, channel, contact_id, account_id, "
                                                "created_at_ms) VALUES (:t, :c, :ci, :a, :n) RETURNING id",
                                   soci::use(tenant), soci::use(channel), soci::use(contact_id),
                                   soci::use(account, account_ind), soci::use(now), soci::into(conversation_id))),
              insert_message((s.prepare << "INSERT INTO messages (tenant, channel, conversation_id, direction, "
                                           "provider_message_id, text, attachments, payload, status, "
                                           "provider_timestamp_ms, sent_at_ms, job_id, created_at_ms) VALUES "
                                           "(:t, :c, :cv, :d, :m, :tx, :a, :p, :s, :ts, :sa, :j, :n) "
                                           "ON CONFLICT (tenant, channel, provider_message_id) DO NOTHING RETURNING id",
                              soci::use(tenant), soci::use(channel), soci::use(conversation_id), soci::use(direction),
                              soci::use(mid), soci::use(text, text_ind), soci::use(attachments, attachments_ind),
                              soci::use(extra, extra_ind), soci::use(status), soci::use(ts),
                              soci::use(sent_at, sent_ind), soci::use(job_id, job_ind), soci::use(now),
                              soci::into(id))),
              touch_conversation((s.prepare << "UPDATE conversations SET last_inbound_at_ms = :ts WHERE id = :id AND "
                                               "(last_inbound_at_ms IS NULL OR last_inbound_at_ms < :ts2)",
                                  soci::use(ts), soci::use(conversation_id), soci::use(ts))),
              insert_event((s.prepare << "INSERT INTO events (tenant, channel, type, webhook_event_id, payload, "
                                         "created_at_ms) VALUES (:t, :c, :ty, :w, :p, :n) RETURNING id",
                            soci::use(tenant), soci::use(channel), soci::use(type), soci::use(webhook_id),
                            soci::use(payload), soci::use(now), soci::into(id))),
              insert_route_job((s.prepare << "INSERT INTO jobs (tenant, kind, lane, idem_key, payload, state, attempts, "
                                             "next_attempt_at_ms, created_at_ms, updated_at_ms) VALUES "
                                             "(:t, 'route', :l, :k, :p, 'pending', 0, :n, :c, :u) "
                                             "ON CONFLICT (idem_key) DO NOTHING",
                                soci::use(tenant), soci::use(lane), soci::use(key), soci::use(payload), soci::use(now),
                                soci::use(now), soci::use(now))) {}

        /// Executes a statement; @returns whether it produced a row (for SELECT / RETURNING). Reads
        /// the result to its end so SQLite resets the statement (an active one blocks RELEASE).
        static bool run(soci::statement& st) {
            bool got = st.execute(true);
            if (got)
                while (st.fetch()) {
                }
            return got;
        }
    };

    int64_t ensure_contact(writer_statements& w, const json::object& contact) {
        w.provider_id = str(contact, "provider_id");
        if (w.run(w.select_identity)) return w.contact_id;
        w.name = str(contact, "name");
        w.name_ind = w.name.empty() ? soci::i_null : soci::i_ok;
        w.run(w.insert_contact);
        w.run(w.insert_identity);
        return w.contact_id;
    }

    int64_t ensure_conversation(writer_statements& w, const std::string& account) {
        if (w.run(w.select_conversation)) return w.conversation_id;
        w.account = account;
        w.account_ind = account.empty() ? soci::i_null : soci::i_ok;
        w.run(w.insert_conversation);
        return w.conversation_id;
    }

    long long insert_event(writer_statements& w, const std::string& type, const std::string& payload) {
        w.type = type;
        w.payload = payload;
        w.run(w.insert_event);
        return w.id;
    }

    void add_route_job(writer_statements& w, const std::string& lane, const std::string& key, const std::string& payload) {
        w.lane = lane;
        w.key = key;
        w.payload = payload;
        w.run(w.insert_route_job);
    }

    ingest_result ingest_one(soci::session& s, writer_statements& w, const ingest_request& r) {
        ingest_result res;
        res.ok = true;
        w.tenant = r.tenant;
        w.plugin = r.plugin;
        w.now = r.received_at_ms;
        w.content_type = r.content_type;
        w.body = r.body;
        w.count = static_cast<int>(r.events.size());
        w.run(w.insert_webhook);
        std::string status = "handled", note;
        for (auto& text : r.events) {
            auto ev = json::parse(text).as_object();
            std::string type = str(ev, "type");
            w.channel = str(ev, "channel");
            if (w.channel.empty()) w.channel = r.plugin;

            if (type == "message.received" || type == "message.echoed") {
                // An authenticated event we cannot file is kept as unhandled, never refused: the
                // provider would retry it forever and the rest of its webhook would be lost too.
                const json::object* contact = obj(ev, "contact");
                std::string invalid = !contact || str(*contact, "provider_id").empty() ? "has no contact.provider_id"
                                      : str(ev, "provider_message_id").empty()        ? "has no provider_message_id"
                                                                                       : "";
                if (!invalid.empty()) {
                    status = "unhandled";
                    if (note.empty()) note = type + " event " + invalid;
                    json::object wrapped{{"type", "webhook.unhandled"}, {"channel", w.channel},
                                         {"reason", type + " event " + invalid}, {"raw", ev}};
                    insert_event(w, "webhook.unhandled", json::serialize(wrapped));
                    ++res.events_stored;
                    res.event_types.push_back("webhook.unhandled");
                    continue;
                }
                ensure_contact(w, *contact);
                int64_t conv = ensure_conversation(w, str(ev, "account_id"));
                w.mid = str(ev, "provider_message_id");
                bool inbound = type == "message.received";
                w.text = str(ev, "text");
                w.text_ind = ev.contains("text") ? soci::i_ok : soci::i_null;
                w.attachments = ev.contains("attachments") ? json::serialize(ev.at("attachments")) : "";
                w.attachments_ind = w.attachments.empty() ? soci::i_null : soci::i_ok;
                json::object extra;
                for (const char* k : {"quick_reply_payload", "postback", "referral", "reply_to", "sticker_id"})
                    if (ev.contains(k)) extra[k] = ev.at(k);
                w.extra = extra.empty() ? "" : json::serialize(extra);
                w.extra_ind = extra.empty() ? soci::i_null : soci::i_ok;
                w.ts = num(ev, "timestamp_ms", w.now);
                w.direction = inbound ? "inbound" : "outbound";
                w.status = inbound ? "received" : "sent";
                w.sent_at = w.ts;
                w.sent_ind = inbound ? soci::i_null : soci::i_ok;
                // Our own sends carry the job id as Send API metadata, echoed back by Meta: it
                // proves which job's message was delivered (see delivered_by_job).
                w.job_ind = soci::i_null;
                if (std::string meta = inbound ? "" : str(ev, "metadata");
                    !meta.empty() && meta.size() < 19 &&
                    std::all_of(meta.begin(), meta.end(), [](char c) { return c >= '0' && c <= '9'; })) {
                    w.job_id = std::stoll(meta);
                    w.job_ind = soci::i_ok;
                }
                if (!w.run(w.insert_message)) {
                    ++res.duplicates;
                    continue;
                }
                long long message_id = w.id;
                if (inbound) w.run(w.touch_conversation);
                long long eid = insert_event(w, type, text);
                ++res.events_stored;
                res.event_types.push_back(type);
                if (inbound && opts_.has_routes && opts_.has_routes(r.tenant, type)) {
                    ev["conversation_id"] = conv;
                    ev["message_id"] = message_id;
                    ev["event_id"] = eid;
                    add_route_job(w, "conv:" + std::to_string(conv), "route:" + std::to_string(eid), json::serialize(ev));
                    ++res.jobs_created;
                }
                continue;
            }
            if (type == "message.status") {
                apply_status(s, r.tenant, w.channel, ev, w.now);
            } else if (type == "webhook.unhandled") {
                status = "unhandled";
                if (note.empty()) note = str(ev, "reason");
            }
            long long eid = insert_event(w, type, text);
            ++res.events_stored;
            res.event_types.push_back(type);
            if (type != "webhook.unhandled" && opts_.has_routes && opts_.has_routes(r.tenant, type)) {
                ev["event_id"] = eid;
                add_route_job(w, "event:" + std::to_string(eid), "route:" + std::to_string(eid), json::serialize(ev));
                ++res.jobs_created;
            }
        }
        if (r.events.empty()) {
            status = "unhandled";
            note = "the channel produced no events";
        }
        if (status != "handled") {
            w.status = status;
            w.note = note;
            w.note_ind = note.empty() ? soci::i_null : soci::i_ok;
            w.run(w.update_webhook);
        }
        return res;
    }

    void apply_status(soci::session& s, const std::string& tenant, const std::string& channel, const json::object& ev,
                      int64_t now) {
        std::string st = str(ev, "status");
        if (st != "sent" && st != "delivered" && st != "read" && st != "failed") return;
        long long ts = num(ev, "timestamp_ms", now);
        std::string set = "status = '" + st + "'";
        if (st == "delivered" || st == "read") set += ", delivered_at_ms = COALESCE(delivered_at_ms, :ts)";
        if (st == "read") set += ", read_at_ms = COALESCE(read_at_ms, :ts2)";
        if (st == "failed") set += ", failed_at_ms = COALESCE(failed_at_ms, :ts)";
        std::string guard = st == "failed" ? "status <> 'failed'" : "status IN (" + lower_statuses(st) + ")";

        auto run = [&](const std::string& where, auto&&... binds) {
            std::string q = "UPDATE messages SET " + set + " WHERE tenant = :t AND channel = :c AND direction = 'outbound' AND " +
                            guard + " AND " + where;
            soci::statement stmt = (s.prepare << q);
            long long ts1 = ts, ts2 = ts;
            if (st == "delivered" || st == "read" || st == "failed") stmt.exchange(soci::use(ts1));
            if (st == "read") stmt.exchange(soci::use(ts2));
            std::string t = tenant, c = channel;
            stmt.exchange(soci::use(t));
            stmt.exchange(soci::use(c));
            (stmt.exchange(soci::use(binds)), ...);
            stmt.define_and_bind();
            stmt.execute(true);
        };
        if (auto it = ev.find("provider_message_ids"); it != ev.end() && it->value().is_array()) {
            for (auto& m : it->value().as_array())
                if (m.is_string()) {
                    std::string mid(m.as_string());
                    run("provider_message_id = :m", mid);
                }
        }
        if (auto it = ev.find("watermark_ms"); it != ev.end() && (it->value().is_int64() || it->value().is_uint64())) {
            long long wm = num(ev, "watermark_ms");
            const json::object* contact = obj(ev, "contact");
            if (!contact) return;
            std::string pid = str(*contact, "provider_id");
            run("sent_at_ms <= :wm AND conversation_id IN (SELECT cv.id FROM conversations cv JOIN channel_identities ci "
                "ON ci.contact_id = cv.contact_id AND ci.tenant = cv.tenant AND ci.channel = cv.channel "
                "WHERE ci.tenant = :t2 AND ci.channel = :c2 AND ci.provider_id = :p)",
                wm, std::string(tenant), std::string(channel), pid);
        }
    }

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

}  // namespace

std::unique_ptr<store> store::open(options opts) {
    if (!opts.now_ms) opts.now_ms = [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    };
    return std::make_unique<sql_store>(std::move(opts));
}

}  // namespace switchboard::core
