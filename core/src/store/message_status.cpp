// Outbound messages and their status: what a send recorded, what the provider's receipts say
// (sent → delivered → read, or failed; never backwards), and the proof an interrupted send was
// delivered (see store::delivered_by_job).
#include "sql_store.hpp"

#include <switchboard/core/json_fields.hpp>

namespace switchboard::core::store_detail {

using json_fields::num;
using json_fields::obj;
using json_fields::str;

namespace {

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

/// The NULL-or-value binds of a send's outcome: the provider id when known, sent_at_ms for
/// "sent", failed_at_ms and the error for "failed".
struct outcome_binds {
    soci::indicator mid, sent, failed, error;
    long long at, at2; // the time, bound twice (sent_at_ms, failed_at_ms)
    outcome_binds(const std::string& provider_id, const std::string& status, const std::string& error_text, int64_t now)
        : mid(provider_id.empty() ? soci::i_null : soci::i_ok), sent(status == "sent" ? soci::i_ok : soci::i_null),
          failed(status == "failed" ? soci::i_ok : soci::i_null), error(error_text.empty() ? soci::i_null : soci::i_ok),
          at(now), at2(now) {}
};

}  // namespace

std::optional<std::string> sql_store::delivered_by_job(int64_t job_id, int64_t conversation_id, const std::string& text,
                                            int64_t since_ms) {
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

std::optional<conversation_state> sql_store::conversation(int64_t id) {
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

int64_t sql_store::conversation_with(soci::session& s, const std::string& tenant, const std::string& channel,
                                     const std::string& provider_id, int64_t now_ms) {
    long long contact = contact_with(s, tenant, channel, provider_id, now_ms), conv = 0;
    s << "SELECT id FROM conversations WHERE tenant = :t AND channel = :c AND contact_id = :ct", soci::use(tenant),
        soci::use(channel), soci::use(contact), soci::into(conv);
    if (!s.got_data())
        s << "INSERT INTO conversations (tenant, channel, contact_id, created_at_ms) VALUES (:t, :c, :ct, :n) RETURNING id",
            soci::use(tenant), soci::use(channel), soci::use(contact), soci::use(now_ms), soci::into(conv);
    return conv;
}

void sql_store::record_queued(soci::session& s, const std::string& tenant, const json::object& cmd, int64_t job_id,
                              int64_t now_ms) {
    std::string channel = str(cmd, "channel"), text = str(cmd, "text");
    long long conv = num(cmd, "conversation_id"), job = job_id;
    s << "INSERT INTO messages (tenant, channel, conversation_id, direction, text, status, job_id, created_at_ms) "
         "VALUES (:t, :c, :cv, 'outbound', :tx, 'queued', :j, :n)",
        soci::use(tenant), soci::use(channel), soci::use(conv), soci::use(text), soci::use(job), soci::use(now_ms);
    if (const json::object* g = obj(cmd, "generated")) {
        // A model's reply: what it cost, with the reply (migration 007).
        std::string provider = str(*g, "provider"), tier = str(*g, "tier"), model = str(*g, "model");
        long long prompt = num(*g, "prompt_tokens"), completion = num(*g, "completion_tokens"),
                  latency = num(*g, "latency_ms");
        auto* reused_v = g->if_contains("reused");
        int reused = reused_v && reused_v->is_bool() && reused_v->as_bool() ? 1 : 0;
        s << "INSERT INTO reply_usage (tenant, job_id, conversation_id, provider, tier, model, prompt_tokens, "
             "completion_tokens, latency_ms, reused, created_at_ms) VALUES (:t, :j, :cv, :p, :ti, :m, :pt, :ct, :l, :r, :n)",
            soci::use(tenant), soci::use(job), soci::use(conv), soci::use(provider), soci::use(tier), soci::use(model),
            soci::use(prompt), soci::use(completion), soci::use(latency), soci::use(reused), soci::use(now_ms);
    }
}

bool sql_store::settle_queued(soci::session& s, const job& j, const std::string& channel, const std::string& mid,
                              const std::string& status, const std::string& error, int64_t now_ms) {
    long long queued = 0, id = j.id;
    s << "SELECT id FROM messages WHERE job_id = :j AND direction = 'outbound' AND status = 'queued'", soci::use(id),
        soci::into(queued);
    if (!s.got_data()) return false;
    if (!mid.empty()) {
        // The provider's echo may have been filed first, under the provider's id: that row is the
        // message now, and the queued one goes.
        long long echoed = 0;
        s << "SELECT id FROM messages WHERE tenant = :t AND channel = :c AND provider_message_id = :m", soci::use(j.tenant),
            soci::use(channel), soci::use(mid), soci::into(echoed);
        if (s.got_data()) {
            s << "DELETE FROM messages WHERE id = :q", soci::use(queued);
            s << "UPDATE messages SET job_id = :j WHERE id = :e", soci::use(id), soci::use(echoed);
            return true;
        }
    }
    outcome_binds b(mid, status, error, now_ms);
    s << "UPDATE messages SET provider_message_id = :m, status = :st, sent_at_ms = :sa, failed_at_ms = :fa, error = :e "
         "WHERE id = :q",
        soci::use(mid, b.mid), soci::use(status), soci::use(b.at, b.sent), soci::use(b.at2, b.failed),
        soci::use(error, b.error), soci::use(queued);
    return true;
}

void sql_store::record_outbound(soci::session& s, const job& j, const json::object& cmd, const std::string& mid,
                     const std::string& status, const std::string& error, int64_t now_ms) {
    std::string channel = str(cmd, "channel"), text = str(cmd, "text");
    int64_t conv = num(cmd, "conversation_id");
    if (conv <= 0) {
        // A message the business starts (a notification, a staff alert): recorded in the
        // recipient's conversation on that channel, created when it is the first.
        const json::object* recipient = obj(cmd, "recipient");
        const std::string to = recipient ? str(*recipient, "provider_id") : "";
        if (channel.empty() || to.empty()) return;
        conv = conversation_with(s, j.tenant, channel, to, now_ms);
    } else if (settle_queued(s, j, channel, mid, status, error, now_ms)) {
        if (!mid.empty()) apply_pending_statuses(s, j.tenant, channel, mid, now_ms);
        return;
    }
    outcome_binds b(mid, status, error, now_ms);
    s << "INSERT INTO messages (tenant, channel, conversation_id, direction, provider_message_id, text, status, "
         "sent_at_ms, failed_at_ms, error, job_id, created_at_ms) VALUES (:t, :c, :cv, 'outbound', :m, :tx, :st, :sa, "
         ":fa, :e, :j, :n) ON CONFLICT (tenant, channel, provider_message_id) DO UPDATE SET job_id = excluded.job_id",
        soci::use(j.tenant), soci::use(channel), soci::use(conv), soci::use(mid, b.mid), soci::use(text),
        soci::use(status), soci::use(b.at, b.sent), soci::use(b.at2, b.failed), soci::use(error, b.error),
        soci::use(j.id), soci::use(now_ms);
    // Receipts that arrived before this record was written apply now.
    if (!mid.empty()) apply_pending_statuses(s, j.tenant, channel, mid, now_ms);
}

void sql_store::apply_status(soci::session& s, const std::string& tenant, const std::string& channel, const json::object& ev,
                             int64_t now) {
    std::string st = str(ev, "status");
    if (st != "sent" && st != "delivered" && st != "read" && st != "failed") return;
    long long ts = num(ev, "timestamp_ms", now);
    const bool failed = st == "failed";
    std::string code = failed ? str(ev, "error_code") : "", reason = failed ? str(ev, "error_reason") : "";
    soci::indicator code_ind = code.empty() ? soci::i_null : soci::i_ok;
    soci::indicator reason_ind = reason.empty() ? soci::i_null : soci::i_ok;
    std::string set = "status = '" + st + "'";
    if (st == "delivered" || st == "read") set += ", delivered_at_ms = COALESCE(delivered_at_ms, :ts)";
    if (st == "read") set += ", read_at_ms = COALESCE(read_at_ms, :ts2)";
    if (failed) set += ", failed_at_ms = COALESCE(failed_at_ms, :ts), error_code = :code, error = COALESCE(:reason, error)";
    std::string guard = failed ? "status <> 'failed'" : "status IN (" + lower_statuses(st) + ")";

    // @returns the number of messages updated.
    auto run = [&](const std::string& where, auto&&... binds) {
        std::string q = "UPDATE messages SET " + set + " WHERE tenant = :t AND channel = :c AND direction = 'outbound' AND " +
                        guard + " AND " + where;
        soci::statement stmt = (s.prepare << q);
        long long ts1 = ts, ts2 = ts;
        if (st == "delivered" || st == "read" || failed) stmt.exchange(soci::use(ts1));
        if (st == "read") stmt.exchange(soci::use(ts2));
        if (failed) {
            stmt.exchange(soci::use(code, code_ind));
            stmt.exchange(soci::use(reason, reason_ind));
        }
        std::string t = tenant, c = channel;
        stmt.exchange(soci::use(t));
        stmt.exchange(soci::use(c));
        (stmt.exchange(soci::use(binds)), ...);
        stmt.define_and_bind();
        stmt.execute(true);
        return stmt.get_affected_rows();
    };
    if (auto it = ev.find("provider_message_ids"); it != ev.end() && it->value().is_array()) {
        for (auto& m : it->value().as_array())
            if (m.is_string()) {
                std::string mid(m.as_string());
                if (run("provider_message_id = :m", mid) == 0) keep_if_unknown(s, tenant, channel, mid, st, ts, code, reason, now);
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

void sql_store::keep_if_unknown(soci::session& s, const std::string& tenant, const std::string& channel,
                                const std::string& mid, const std::string& status, int64_t at_ms, const std::string& code,
                                const std::string& reason, int64_t now_ms) {
    long long found = 0;
    s << "SELECT COUNT(*) FROM messages WHERE tenant = :t AND channel = :c AND provider_message_id = :m AND "
         "direction = 'outbound'",
        soci::use(tenant), soci::use(channel), soci::use(mid), soci::into(found);
    if (found > 0) return; // known, and already at or past this status
    soci::indicator code_ind = code.empty() ? soci::i_null : soci::i_ok;
    soci::indicator reason_ind = reason.empty() ? soci::i_null : soci::i_ok;
    long long at = at_ms, now = now_ms;
    s << "INSERT INTO pending_statuses (tenant, channel, provider_message_id, status, at_ms, error_code, error_reason, "
         "created_at_ms) VALUES (:t, :c, :m, :s, :a, :ec, :er, :n)",
        soci::use(tenant), soci::use(channel), soci::use(mid), soci::use(status), soci::use(at),
        soci::use(code, code_ind), soci::use(reason, reason_ind), soci::use(now);
}

void sql_store::apply_pending_statuses(soci::session& s, const std::string& tenant, const std::string& channel,
                                       const std::string& mid, int64_t now_ms) {
    std::vector<std::string> statuses(16), codes(16), reasons(16);
    std::vector<long long> times(16);
    std::vector<soci::indicator> code_inds(16), reason_inds(16);
    s << "SELECT status, at_ms, error_code, error_reason FROM pending_statuses WHERE tenant = :t AND channel = :c AND "
         "provider_message_id = :m ORDER BY at_ms, id",
        soci::use(tenant), soci::use(channel), soci::use(mid), soci::into(statuses), soci::into(times),
        soci::into(codes, code_inds), soci::into(reasons, reason_inds);
    if (statuses.empty()) return;
    for (size_t i = 0; i < statuses.size(); ++i) {
        json::object ev{{"status", statuses[i]}, {"provider_message_ids", json::array{json::string(mid)}},
                        {"timestamp_ms", times[i]}};
        if (code_inds[i] == soci::i_ok) ev["error_code"] = codes[i];
        if (reason_inds[i] == soci::i_ok) ev["error_reason"] = reasons[i];
        apply_status(s, tenant, channel, ev, now_ms);
    }
    s << "DELETE FROM pending_statuses WHERE tenant = :t AND channel = :c AND provider_message_id = :m",
        soci::use(tenant), soci::use(channel), soci::use(mid);
}

}  // namespace switchboard::core::store_detail
