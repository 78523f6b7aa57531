// Opening the database: the SQLite file or the PostgreSQL connection string, the session pool,
// per-connection tuning and the versioned migrations compiled in from share/migrations.
#include "event_statements.hpp"
#include "sql_store.hpp"

#include <switchboard/core/clock.hpp>

#include <boost/url/parse.hpp>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <spdlog/spdlog.h>

#include <filesystem>

namespace switchboard::core {

std::string storage_error_message(const std::exception& e) {
    if (auto* se = dynamic_cast<const soci::soci_error*>(&e)) return se->get_error_message();
    return e.what();
}

const char* job_kind_name(job_kind kind) { return kind == job_kind::route ? "route" : "command"; }

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

std::unique_ptr<store> store::open(options opts) {
    if (!opts.now_ms) opts.now_ms = system_now_ms;
    return std::make_unique<store_detail::sql_store>(std::move(opts));
}

namespace store_detail {

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

sql_store::sql_store(options opts) : opts_(std::move(opts)) {
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
            tune(s, durability::job_state);
        }
    } catch (const std::exception& e) {
        throw std::runtime_error("cannot open storage " + redact_url(url) + ": " + storage_error_message(e));
    }
    writer_thread_ = std::thread([this] { writer_loop(); });
}

sql_store::~sql_store() { close(); }

void sql_store::close() {
    {
        std::lock_guard lk(mu_);
        if (stopping_) return;
        stopping_ = true;
    }
    cv_.notify_all();
    if (writer_thread_.joinable()) writer_thread_.join();
}

int sql_store::schema_version() {
    soci::session s(*pool_);
    int v = 0;
    soci::indicator ind;
    s << "SELECT MAX(version) FROM schema_migrations", soci::into(v, ind);
    return ind == soci::i_ok ? v : 0;
}

std::unique_ptr<soci::session> sql_store::open_session() {
    auto s = std::make_unique<soci::session>(factory(), connect_);
    tune(*s);
    return s;
}

const soci::backend_factory& sql_store::factory() const {
    if (backend_ == backend::sqlite) return soci::sqlite3;
    return soci::postgresql;
}

void sql_store::tune(soci::session& s, durability d) {
    if (backend_ != backend::sqlite) return;
    std::string mode;
    s << "PRAGMA journal_mode = WAL", soci::into(mode);
    // The writer's commits acknowledge webhooks: each reaches the disk (FULL) before the answer.
    // Worker connections change job state, which a power loss may roll back to the last synced
    // commit without losing anything acknowledged: a rolled-back claim or completion runs again,
    // and repeats are safe (idempotency keys, echo proof). Their commits reach the disk with the
    // writer's next sync (the WAL is sequential) or at checkpoint, so they skip their own fsync.
    s << (d == durability::acknowledged ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
    s << "PRAGMA foreign_keys = ON";
    s << "PRAGMA busy_timeout = 30000";
}

void sql_store::begin(soci::session& s) { s << (backend_ == backend::sqlite ? "BEGIN IMMEDIATE" : "BEGIN"); }

void sql_store::commit(soci::session& s) { s << "COMMIT"; }

void sql_store::rollback(soci::session& s) {
    try {
        s << "ROLLBACK";
    } catch (...) {
    }
}

void sql_store::migrate(soci::session& s) {
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

}  // namespace store_detail
}  // namespace switchboard::core
