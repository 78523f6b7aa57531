// What plugins keep and read through the host: key/value state with expiry (token caches,
// quotas), conversation history and contact attributes.
#include "sql_store.hpp"

#include <switchboard/sdk/host_rules.hpp>

#include <algorithm>
#include <cctype>

namespace switchboard::core::store_detail {

std::optional<std::string> sql_store::kv_get(const std::string& tenant, const std::string& plugin, const std::string& key,
                                  int64_t now_ms) {
    soci::session s(*pool_);
    std::string v;
    s << "SELECT v FROM kv WHERE tenant = :t AND plugin = :p AND k = :k AND (expires_at_ms IS NULL OR expires_at_ms > :n)",
        soci::use(tenant), soci::use(plugin), soci::use(key), soci::use(now_ms), soci::into(v);
    if (!s.got_data()) return std::nullopt;
    return v;
}

void sql_store::kv_put(const std::string& tenant, const std::string& plugin, const std::string& key, const std::string& value,
            std::optional<int64_t> expires_at_ms) {
    soci::session s(*pool_);
    long long exp = expires_at_ms.value_or(0);
    soci::indicator ind = expires_at_ms ? soci::i_ok : soci::i_null;
    s << "INSERT INTO kv (tenant, plugin, k, v, expires_at_ms) VALUES (:t, :p, :k, :v, :e) "
         "ON CONFLICT (tenant, plugin, k) DO UPDATE SET v = excluded.v, expires_at_ms = excluded.expires_at_ms",
        soci::use(tenant), soci::use(plugin), soci::use(key), soci::use(value), soci::use(exp, ind);
}

void sql_store::kv_delete(const std::string& tenant, const std::string& plugin, const std::string& key) {
    soci::session s(*pool_);
    s << "DELETE FROM kv WHERE tenant = :t AND plugin = :p AND k = :k", soci::use(tenant), soci::use(plugin),
        soci::use(key);
}

int64_t row_int(const soci::row& r, size_t i) {
    switch (r.get_properties(i).get_data_type()) {
    case soci::dt_integer: return r.get<int>(i);
    case soci::dt_long_long: return r.get<long long>(i);
    case soci::dt_unsigned_long_long: return static_cast<int64_t>(r.get<unsigned long long>(i));
    case soci::dt_double: return static_cast<int64_t>(r.get<double>(i));
    case soci::dt_string: return std::stoll(r.get<std::string>(i));
    default: return 0;
    }
}

namespace {

/// Column `i` as a double (score), whatever numeric type the backend reports.
double row_double(const soci::row& r, size_t i) {
    switch (r.get_properties(i).get_data_type()) {
    case soci::dt_integer: return r.get<int>(i);
    case soci::dt_long_long: return static_cast<double>(r.get<long long>(i));
    case soci::dt_double: return r.get<double>(i);
    case soci::dt_string: return std::stod(r.get<std::string>(i));
    default: return 0;
    }
}

}  // namespace

namespace {

/// kv_increment's work inside the caller's transaction.
long long increment_in(soci::session& s, bool postgresql, const std::string& tenant, const std::string& plugin,
                       const std::string& key, int64_t delta, std::optional<int64_t> expires_at_ms, int64_t now_ms) {
    long long exp = expires_at_ms.value_or(0);
    soci::indicator exp_ind = expires_at_ms ? soci::i_ok : soci::i_null;
    s << "INSERT INTO kv (tenant, plugin, k, v, expires_at_ms) VALUES (:t, :p, :k, '0', :e) "
         "ON CONFLICT (tenant, plugin, k) DO NOTHING",
        soci::use(tenant), soci::use(plugin), soci::use(key), soci::use(exp, exp_ind);
    std::string v;
    long long current_exp = 0;
    soci::indicator current_ind = soci::i_null;
    std::string lock = postgresql ? " FOR UPDATE" : "";
    s << "SELECT v, expires_at_ms FROM kv WHERE tenant = :t AND plugin = :p AND k = :k" + lock, soci::use(tenant),
        soci::use(plugin), soci::use(key), soci::into(v), soci::into(current_exp, current_ind);
    bool expired = current_ind == soci::i_ok && current_exp <= now_ms;
    long long value = (expired ? 0 : switchboard::sdk::kv_counter_value(v)) + delta;
    std::string text = std::to_string(value);
    if (expired)
        s << "UPDATE kv SET v = :v, expires_at_ms = :e WHERE tenant = :t AND plugin = :p AND k = :k", soci::use(text),
            soci::use(exp, exp_ind), soci::use(tenant), soci::use(plugin), soci::use(key);
    else
        s << "UPDATE kv SET v = :v WHERE tenant = :t AND plugin = :p AND k = :k", soci::use(text), soci::use(tenant),
            soci::use(plugin), soci::use(key);
    return value;
}

}  // namespace

int64_t sql_store::kv_increment(const std::string& tenant, const std::string& plugin, const std::string& key,
                                int64_t delta, std::optional<int64_t> expires_at_ms, int64_t now_ms) {
    soci::session s(*pool_);
    begin(s); // SQLite: BEGIN IMMEDIATE serializes writers; PostgreSQL: the row lock taken inside does
    try {
        long long value = increment_in(s, backend_ == backend::postgresql, tenant, plugin, key, delta, expires_at_ms, now_ms);
        commit(s);
        return value;
    } catch (...) {
        rollback(s);
        throw;
    }
}

std::pair<int64_t, bool> sql_store::kv_increment_once(const std::string& tenant, const std::string& plugin,
                                                      const std::string& key, int64_t delta,
                                                      std::optional<int64_t> expires_at_ms, const std::string& once_key,
                                                      int64_t once_expires_at_ms, int64_t now_ms) {
    soci::session s(*pool_);
    const bool postgresql = backend_ == backend::postgresql;
    begin(s);
    try {
        // The once row first: a concurrent run with the same once_key waits here until this commits.
        long long once_exp = once_expires_at_ms;
        s << "INSERT INTO kv (tenant, plugin, k, v, expires_at_ms) VALUES (:t, :p, :k, '', :e) "
             "ON CONFLICT (tenant, plugin, k) DO NOTHING",
            soci::use(tenant), soci::use(plugin), soci::use(once_key), soci::use(once_exp);
        std::string recorded;
        long long recorded_exp = 0;
        soci::indicator exp_ind = soci::i_null;
        s << "SELECT v, expires_at_ms FROM kv WHERE tenant = :t AND plugin = :p AND k = :k" +
                 std::string(postgresql ? " FOR UPDATE" : ""),
            soci::use(tenant), soci::use(plugin), soci::use(once_key), soci::into(recorded), soci::into(recorded_exp, exp_ind);
        const bool live = !recorded.empty() && !(exp_ind == soci::i_ok && recorded_exp <= now_ms);
        if (live) {
            commit(s);
            return {switchboard::sdk::kv_counter_value(recorded), false};
        }
        long long value = increment_in(s, postgresql, tenant, plugin, key, delta, expires_at_ms, now_ms);
        std::string text = std::to_string(value);
        s << "UPDATE kv SET v = :v, expires_at_ms = :e WHERE tenant = :t AND plugin = :p AND k = :k", soci::use(text),
            soci::use(once_exp), soci::use(tenant), soci::use(plugin), soci::use(once_key);
        commit(s);
        return {value, true};
    } catch (...) {
        rollback(s);
        throw;
    }
}

inbound_burst sql_store::burst(const std::string& tenant, const std::string& channel,
                                const std::string& provider_message_id, int64_t gap_ms) {
    soci::session s(*pool_);
    inbound_burst b;
    long long id = 0, conversation = 0, at = 0;
    s << "SELECT id, conversation_id, created_at_ms FROM messages WHERE tenant = :t AND channel = :c AND "
         "provider_message_id = :m AND direction = 'inbound'",
        soci::use(tenant), soci::use(channel), soci::use(provider_message_id), soci::into(id), soci::into(conversation),
        soci::into(at);
    if (!s.got_data()) return b;
    b.found = true;
    b.received_at_ms = at;
    // Superseded by the next customer message when it came within the gap (it closes the burst).
    long long next_at = 0;
    soci::indicator next_ind = soci::i_null;
    s << "SELECT min(created_at_ms) FROM messages WHERE conversation_id = :c AND direction = 'inbound' AND id > :id",
        soci::use(conversation), soci::use(id), soci::into(next_at, next_ind);
    b.superseded = next_ind == soci::i_ok && next_at - at < gap_ms;
    // Newest first, back to the last outbound message or a gap of gap_ms.
    soci::rowset<soci::row> rows =
        (s.prepare << "SELECT direction, provider_message_id, text, created_at_ms FROM messages "
                      "WHERE conversation_id = :c AND id <= :id ORDER BY id DESC LIMIT 50",
         soci::use(conversation), soci::use(id));
    int64_t newer_at = at;
    for (auto& r : rows) {
        if (r.get<std::string>(0) != "inbound") break;
        const int64_t when = row_int(r, 3);
        if (newer_at - when >= gap_ms && !b.provider_message_ids.empty()) break;
        b.provider_message_ids.push_back(r.get_indicator(1) == soci::i_ok ? r.get<std::string>(1) : "");
        b.texts.push_back(r.get_indicator(2) == soci::i_ok ? r.get<std::string>(2) : "");
        newer_at = when;
    }
    std::reverse(b.provider_message_ids.begin(), b.provider_message_ids.end());
    std::reverse(b.texts.begin(), b.texts.end());
    return b;
}

std::vector<history_message> sql_store::conversation_history(const std::string& tenant, int64_t conversation_id,
                                                             int max_messages) {
    soci::session s(*pool_);
    std::vector<history_message> out;
    soci::rowset<soci::row> rows =
        (s.prepare << "SELECT direction, text, COALESCE(provider_timestamp_ms, sent_at_ms, created_at_ms), status "
                      "FROM messages WHERE tenant = :t AND conversation_id = :c ORDER BY id DESC LIMIT :n",
         soci::use(tenant), soci::use(conversation_id), soci::use(max_messages));
    for (auto& r : rows) {
        history_message m;
        m.direction = r.get<std::string>(0) == "inbound" ? "in" : "out";
        m.text = r.get_indicator(1) == soci::i_ok ? r.get<std::string>(1) : "";
        m.at_ms = r.get_indicator(2) == soci::i_ok ? row_int(r, 2) : 0;
        m.status = r.get<std::string>(3);
        out.push_back(std::move(m));
    }
    std::reverse(out.begin(), out.end());
    return out;
}

int64_t sql_store::contact_with(soci::session& s, const std::string& tenant, const std::string& channel,
                                const std::string& provider_id, int64_t now_ms) {
    long long id = 0;
    s << "SELECT contact_id FROM channel_identities WHERE tenant = :t AND channel = :ch AND provider_id = :p",
        soci::use(tenant), soci::use(channel), soci::use(provider_id), soci::into(id);
    if (s.got_data()) return id;
    s << "INSERT INTO contacts (tenant, created_at_ms) VALUES (:t, :n) RETURNING id", soci::use(tenant), soci::use(now_ms),
        soci::into(id);
    s << "INSERT INTO channel_identities (tenant, channel, provider_id, contact_id, created_at_ms) "
         "VALUES (:t, :ch, :p, :c, :n)",
        soci::use(tenant), soci::use(channel), soci::use(provider_id), soci::use(id), soci::use(now_ms);
    return id;
}

std::optional<contact_record> sql_store::contact(const std::string& tenant, const std::string& channel,
                                                 const std::string& provider_id) {
    soci::session s(*pool_);
    soci::row r;
    s << "SELECT c.id, c.display_name, c.phone, c.email, c.tags, c.score, c.attributes FROM contacts c "
         "JOIN channel_identities ci ON ci.contact_id = c.id "
         "WHERE ci.tenant = :t AND ci.channel = :ch AND ci.provider_id = :p",
        soci::use(tenant), soci::use(channel), soci::use(provider_id), soci::into(r);
    if (!s.got_data()) return std::nullopt;
    auto text = [&](size_t i, std::string fallback = {}) {
        return r.get_indicator(i) == soci::i_ok ? r.get<std::string>(i) : fallback;
    };
    contact_record c;
    c.id = row_int(r, 0);
    c.name = text(1);
    c.phone = text(2);
    c.email = text(3);
    c.tags = text(4, "[]");
    if (r.get_indicator(5) == soci::i_ok) c.score = row_double(r, 5);
    c.attributes = text(6, "{}");
    return c;
}

void sql_store::save_contact(const std::string& tenant, const std::string& channel, const std::string& provider_id,
                             const contact_record& c, int64_t now_ms) {
    soci::session s(*pool_);
    auto ind = [](const std::string& v) { return v.empty() ? soci::i_null : soci::i_ok; };
    soci::indicator name_ind = ind(c.name), phone_ind = ind(c.phone), email_ind = ind(c.email);
    double score = c.score.value_or(0);
    soci::indicator score_ind = c.score ? soci::i_ok : soci::i_null;
    begin(s);
    try {
        long long id = contact_with(s, tenant, channel, provider_id, now_ms);
        s << "UPDATE contacts SET display_name = :n, phone = :ph, email = :e, tags = :tg, score = :sc, attributes = :a "
             "WHERE id = :id",
            soci::use(c.name, name_ind), soci::use(c.phone, phone_ind), soci::use(c.email, email_ind),
            soci::use(c.tags), soci::use(score, score_ind), soci::use(c.attributes), soci::use(id);
        commit(s);
    } catch (...) {
        rollback(s);
        throw;
    }
}

}  // namespace switchboard::core::store_detail
