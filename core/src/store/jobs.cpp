// The durable outbox: claiming jobs (fenced, lane heads only, nothing written when there is
// nothing to claim), finishing, retrying, postponing and dead-lettering them.
#include "sql_store.hpp"

#include <switchboard/core/json_fields.hpp>
#include <switchboard/sdk/events.hpp>

#include <algorithm>

namespace switchboard::core::store_detail {

using json_fields::num;
using json_fields::str;
namespace events = switchboard::sdk::events;

namespace {

/// Executes `sql` with `binds` (lvalues, bound in order). @returns the number of rows it changed.
template <typename... B>
long long execute_counting(soci::session& s, const std::string& sql, B&... binds) {
    soci::statement st(s);
    st.alloc();
    st.prepare(sql);
    (st.exchange(soci::use(binds)), ...);
    st.define_and_bind();
    st.execute(true);
    return st.get_affected_rows();
}

job_kind kind_from(const std::string& name) { return name == "route" ? job_kind::route : job_kind::command; }

/// The SQL condition on alias j's lane that selects the jobs of `cls` (fixed text, never user input).
/// Written as the ready index's expression (migration 006), so the claim seeks only its class.
std::string lane_condition(job_class cls, const char* alias = "j.") {
    const std::string prefix = std::string(" AND substr(") + alias + "lane, 1, 4) ";
    switch (cls) {
    case job_class::replies: return prefix + "= 'send'";
    case job_class::stages: return prefix + "IN ('conv', 'even')";
    case job_class::commands: return prefix + "= 'cmd:'";
    default: return "";
    }
}

/// Only a claim that still holds may change a running job.
constexpr const char* fenced = " WHERE id = :id AND claim_token = :tok AND state = 'running'";

}  // namespace

std::optional<int64_t> sql_store::claimable_job(soci::session& s, int64_t now_ms, int max_attempts, job_class cls) {
    long long id = 0;
    const std::string lanes = lane_condition(cls);
    // Heads of their lanes only; the NOT EXISTS probe (index jobs_lane_state) keeps a lane's order
    // even if two instances' writers marked two jobs of one lane as heads at once.
    s << "SELECT j.id FROM jobs j WHERE j.state = 'pending' AND j.lane_head = 1 AND j.next_attempt_at_ms <= :n" + lanes +
             " AND NOT EXISTS (SELECT 1 FROM jobs o WHERE o.lane = j.lane AND o.state IN ('pending', 'running') "
             "AND o.id < j.id) ORDER BY j.next_attempt_at_ms, j.id LIMIT 1",
        soci::use(now_ms), soci::into(id);
    if (s.got_data()) return id;
    s << "SELECT j.id FROM jobs j WHERE j.state = 'running' AND j.lease_until_ms < :n AND j.attempts < :m" + lanes +
             " ORDER BY j.lease_until_ms, j.id LIMIT 1",
        soci::use(now_ms), soci::use(max_attempts), soci::into(id);
    if (s.got_data()) return id;
    return std::nullopt;
}

std::optional<job> sql_store::claim(const std::function<int64_t()>& now_ms, int64_t lease_ms, int max_attempts,
                                    job_class cls) {
    soci::session s(*pool_);
    if (backend_ == backend::postgresql) {
        // One round trip. SKIP LOCKED never waits for a lock, so the time read just before the
        // statement is when the claim holds; an UPDATE that finds nothing writes nothing.
        if (auto j = claim_in_one_statement(s, now_ms(), lease_ms, max_attempts, cls)) return j;
    } else if (claimable_job(s, now_ms(), max_attempts, cls)) {
        // SQLite: a read first (above), so that an idle worker never queues for the write lock
        // behind the ingest writer; the lease is computed once BEGIN IMMEDIATE holds the lock.
        if (auto j = claim_locked(s, now_ms, lease_ms, max_attempts, cls)) return j;
        return std::nullopt;
    }
    give_up_on_dead_attempts(s, now_ms(), max_attempts);
    return std::nullopt;
}

std::optional<job> sql_store::claim_in_one_statement(soci::session& s, int64_t now, int64_t lease_ms,
                                                     int max_attempts, job_class cls) {
    const std::string lanes = lane_condition(cls);
    job j;
    j.lease_until_ms = now + lease_ms;
    std::string kind;
    long long interrupted = 0;
    soci::indicator interrupted_ind = soci::i_null;
    long long n1 = now, n2 = now, n3 = now;
    s << "UPDATE jobs SET state = 'running', attempts = attempts + 1, claim_token = claim_token + 1, "
         "lease_until_ms = :lease, updated_at_ms = :n1, "
         "interrupted_at_ms = CASE WHEN state = 'running' THEN lease_until_ms ELSE interrupted_at_ms END "
         "WHERE id = (SELECT j.id FROM jobs j WHERE "
         "((j.state = 'pending' AND j.lane_head = 1 AND j.next_attempt_at_ms <= :n2 AND NOT EXISTS (SELECT 1 FROM "
         "jobs o WHERE o.lane = j.lane AND o.state IN ('pending', 'running') AND o.id < j.id)) OR "
         "(j.state = 'running' AND j.lease_until_ms < :n3 AND j.attempts < :m))" + lanes +
         " ORDER BY j.next_attempt_at_ms, j.id LIMIT 1 FOR UPDATE SKIP LOCKED) "
         "RETURNING id, tenant, kind, lane, payload, attempts, claim_token, interrupted_at_ms",
        soci::use(j.lease_until_ms), soci::use(n1), soci::use(n2), soci::use(n3), soci::use(max_attempts),
        soci::into(j.id), soci::into(j.tenant), soci::into(kind), soci::into(j.lane), soci::into(j.payload),
        soci::into(j.attempts), soci::into(j.claim_token), soci::into(interrupted, interrupted_ind);
    if (!s.got_data()) return std::nullopt;
    j.kind = kind_from(kind);
    if (interrupted_ind == soci::i_ok) j.interrupted_at_ms = interrupted;
    return j;
}

void sql_store::give_up_on_dead_attempts(soci::session& s, int64_t now, int max_attempts) {
    job j;
    std::string kind;
    s << "SELECT id, tenant, kind, lane, payload, attempts, claim_token FROM jobs WHERE state = 'running' AND "
         "lease_until_ms < :n AND attempts >= :m LIMIT 1",
        soci::use(now), soci::use(max_attempts), soci::into(j.id), soci::into(j.tenant), soci::into(kind),
        soci::into(j.lane), soci::into(j.payload), soci::into(j.attempts), soci::into(j.claim_token);
    if (!s.got_data()) return;
    // The process running its last allowed attempt died: give up on the job (fenced: if another
    // worker claimed it meanwhile, nothing changes).
    j.kind = kind_from(kind);
    begin(s);
    try {
        finish(s, j, "dead", "gave up: the process running its last allowed attempt stopped before the outcome was known",
               now);
        commit(s);
    } catch (...) {
        rollback(s);
        throw;
    }
}

std::optional<job> sql_store::claim_locked(soci::session& s, const std::function<int64_t()>& now_ms,
                                           int64_t lease_ms, int max_attempts, job_class cls) {
    begin(s);
    try {
        // BEGIN IMMEDIATE holds the write lock from here on, so the lease starts now rather than
        // before a wait for the lock.
        int64_t now = now_ms();
        auto id = claimable_job(s, now, max_attempts, cls);
        if (!id) {
            commit(s);
            return std::nullopt;
        }
        now = now_ms();
        job j;
        j.lease_until_ms = now + lease_ms;
        std::string kind;
        long long interrupted = 0;
        soci::indicator interrupted_ind = soci::i_null;
        s << "UPDATE jobs SET state = 'running', attempts = attempts + 1, claim_token = claim_token + 1, "
             "lease_until_ms = :lease, updated_at_ms = :n, "
             "interrupted_at_ms = CASE WHEN state = 'running' THEN lease_until_ms ELSE interrupted_at_ms END "
             "WHERE id = :id RETURNING id, tenant, kind, lane, payload, attempts, claim_token, interrupted_at_ms",
            soci::use(j.lease_until_ms), soci::use(now), soci::use(*id), soci::into(j.id), soci::into(j.tenant),
            soci::into(kind), soci::into(j.lane), soci::into(j.payload), soci::into(j.attempts),
            soci::into(j.claim_token), soci::into(interrupted, interrupted_ind);
        commit(s);
        j.kind = kind_from(kind);
        if (interrupted_ind == soci::i_ok) j.interrupted_at_ms = interrupted;
        return j;
    } catch (...) {
        rollback(s);
        throw;
    }
}

fence sql_store::finish(soci::session& s, const job& j, const char* state, const std::string& error, int64_t now_ms) {
    std::string st = state, err = error, lane = j.lane;
    soci::indicator ei = error.empty() ? soci::i_null : soci::i_ok;
    long long id = j.id, tok = j.claim_token, now = now_ms, id2 = j.id;
    const std::string done = "UPDATE jobs SET state = :s, lease_until_ms = NULL, interrupted_at_ms = NULL, lane_head = 0, "
                             "last_error = COALESCE(:e, last_error), updated_at_ms = :n" +
                             std::string(fenced) + " RETURNING id";
    long long finished = 0;
    if (backend_ == backend::postgresql) {
        // One round trip: finish, and make the next unfinished job of the lane its head (the
        // finished row still looks unfinished to the second update's snapshot, hence id <> :id).
        s << "WITH f AS (" + done + "), p AS (UPDATE jobs SET lane_head = 1 WHERE id = (SELECT MIN(id) FROM jobs "
             "WHERE lane = :l AND state IN ('pending', 'running') AND id <> :id2) AND EXISTS (SELECT 1 FROM f)) "
             "SELECT COUNT(*) FROM f",
            soci::use(st), soci::use(err, ei), soci::use(now), soci::use(id), soci::use(tok), soci::use(lane),
            soci::use(id2), soci::into(finished);
        return finished == 1 ? fence::held : fence::lost;
    }
    s << done, soci::use(st), soci::use(err, ei), soci::use(now), soci::use(id), soci::use(tok), soci::into(finished);
    if (!s.got_data()) return fence::lost;
    // The next unfinished job of the lane may run now.
    s << "UPDATE jobs SET lane_head = 1 WHERE id = (SELECT MIN(id) FROM jobs WHERE lane = :l AND "
         "state IN ('pending', 'running'))",
        soci::use(lane);
    return fence::held;
}

fence sql_store::extend_lease(const job& j, int64_t lease_until_ms, int64_t now_ms) {
    soci::session s(*pool_);
    long long until = lease_until_ms, now = now_ms, id = j.id, tok = j.claim_token, changed = 0;
    s << std::string("UPDATE jobs SET lease_until_ms = :l, updated_at_ms = :n") + fenced + " RETURNING id",
        soci::use(until), soci::use(now), soci::use(id), soci::use(tok), soci::into(changed);
    return s.got_data() ? fence::held : fence::lost;
}

fence sql_store::postpone(const job& j, int64_t at_ms, int64_t now_ms) {
    soci::session s(*pool_);
    long long at = at_ms, now = now_ms, id = j.id, tok = j.claim_token, changed = 0;
    s << std::string("UPDATE jobs SET state = 'pending', attempts = attempts - 1, next_attempt_at_ms = :a, "
                     "lease_until_ms = NULL, updated_at_ms = :n") +
             fenced + " RETURNING id",
        soci::use(at), soci::use(now), soci::use(id), soci::use(tok), soci::into(changed);
    return s.got_data() ? fence::held : fence::lost;
}

fence sql_store::complete_route(const job& j, const std::vector<new_job>& commands, const std::vector<std::string>& emitted,
                                int64_t now_ms) {
    soci::session s(*pool_);
    begin(s);
    try {
        if (finish(s, j, "done", "", now_ms) == fence::lost) {
            rollback(s);
            return fence::lost;
        }
        for (auto& c : commands) {
            std::string kind = job_kind_name(c.kind);
            if (c.lane.rfind("send:", 0) != 0) {
                s << insert_job_sql, soci::use(j.tenant), soci::use(kind), soci::use(c.lane), soci::use(c.idem_key),
                    soci::use(c.payload), soci::use(now_ms), soci::use(now_ms), soci::use(now_ms), soci::use(c.lane);
                continue;
            }
            // A reply: its message is recorded as queued with the job (message status v2).
            long long job_id = 0;
            s << std::string(insert_job_sql) + " RETURNING id", soci::use(j.tenant), soci::use(kind), soci::use(c.lane),
                soci::use(c.idem_key), soci::use(c.payload), soci::use(now_ms), soci::use(now_ms), soci::use(now_ms),
                soci::use(c.lane), soci::into(job_id);
            if (s.got_data()) record_queued(s, j.tenant, json::parse(c.payload).as_object(), job_id, now_ms);
        }
        file_emitted(s, j.tenant, emitted, now_ms);
        commit(s);
        return fence::held;
    } catch (...) {
        rollback(s);
        throw;
    }
}

std::optional<long long> sql_store::insert_emitted_event(soci::session& s, const std::string& tenant,
                                                         const json::object& v, const std::string& text, int64_t now_ms) {
    std::string type = str(v, "type"), channel = str(v, "channel");
    long long event_id = 0;
    std::string dedupe = str(v, "dedupe_key");
    if (dedupe.empty()) {
        s << "INSERT INTO events (tenant, channel, type, payload, created_at_ms) VALUES (:t, :c, :ty, :p, :n) RETURNING id",
            soci::use(tenant), soci::use(channel), soci::use(type), soci::use(text), soci::use(now_ms), soci::into(event_id);
        return event_id;
    }
    // One event per dedupe key and instance: a provider's retry of a callback files nothing new.
    std::string instance = str(v, "instance");
    std::string key = (instance.empty() ? channel : instance) + "/" + dedupe;
    s << "INSERT INTO events (tenant, channel, type, payload, created_at_ms, dedupe_key) VALUES (:t, :c, :ty, :p, :n, :k) "
         "ON CONFLICT (tenant, dedupe_key) DO NOTHING RETURNING id",
        soci::use(tenant), soci::use(channel), soci::use(type), soci::use(text), soci::use(now_ms), soci::use(key),
        soci::into(event_id);
    if (!s.got_data()) return std::nullopt;
    return event_id;
}

void sql_store::file_emitted(soci::session& s, const std::string& tenant, const std::vector<std::string>& emitted,
                             int64_t now_ms) {
    for (auto& e : emitted) {
        auto v = json::parse(e).as_object();
        std::string type = str(v, "type");
        auto event_id = insert_emitted_event(s, tenant, v, e, now_ms);
        if (!event_id) continue; // a duplicate
        if (type == events::conversation_escalated) {
            int64_t cid = num(v, "conversation_id");
            s << "UPDATE conversations SET escalated = 1, escalated_at_ms = :n WHERE id = :id AND tenant = :t",
                soci::use(now_ms), soci::use(cid), soci::use(tenant);
        }
        route_emitted(s, tenant, v, type, *event_id, now_ms);
    }
}

bool sql_store::release_conversation(const std::string& tenant, int64_t conversation_id, int64_t now_ms) {
    soci::session s(*pool_);
    soci::transaction tx(s);
    std::string channel;
    s << "SELECT channel FROM conversations WHERE id = :id AND tenant = :t AND escalated = 1", soci::use(conversation_id),
        soci::use(tenant), soci::into(channel);
    if (!s.got_data()) return false;
    s << "UPDATE conversations SET escalated = 0 WHERE id = :id AND tenant = :t", soci::use(conversation_id), soci::use(tenant);
    json::object ev{{"type", events::conversation_released}, {"channel", channel}, {"conversation_id", conversation_id},
                    {"released_at_ms", now_ms}};
    file_emitted(s, tenant, {json::serialize(ev)}, now_ms);
    tx.commit();
    return true;
}

std::vector<store::stored_command> sql_store::commands_between(const std::string& tenant, int64_t since_ms,
                                                               int64_t until_ms) {
    soci::session s(*pool_);
    std::vector<stored_command> out;
    long long since = since_ms, until = until_ms;
    soci::rowset<soci::row> rows =
        (s.prepare << "SELECT id, lane, payload FROM jobs WHERE tenant = :t AND kind = 'command' AND "
                      "created_at_ms >= :s AND created_at_ms <= :u ORDER BY id",
         soci::use(tenant), soci::use(since), soci::use(until));
    for (auto& r : rows)
        out.push_back({row_int(r, 0), r.get<std::string>(1), r.get<std::string>(2)});
    return out;
}

bool sql_store::enqueue_command(const std::string& tenant, const std::string& lane, const std::string& idem_key,
                                const std::string& payload, int64_t now_ms) {
    soci::session s(*pool_);
    begin(s);
    try {
        std::string kind = job_kind_name(job_kind::command);
        soci::statement st = (s.prepare << insert_job_sql, soci::use(tenant), soci::use(kind), soci::use(lane),
                              soci::use(idem_key), soci::use(payload), soci::use(now_ms), soci::use(now_ms),
                              soci::use(now_ms), soci::use(lane));
        st.execute(true);
        const bool added = st.get_affected_rows() > 0;
        commit(s);
        return added;
    } catch (...) {
        rollback(s);
        throw;
    }
}

void sql_store::route_emitted(soci::session& s, const std::string& tenant, json::object& event, const std::string& type,
                              int64_t event_id, int64_t now_ms) {
    if (!opts_.route_job || type == events::webhook_unhandled) return;
    filed_event filed{tenant, type, num(event, "conversation_id"), event_id,
                      static_cast<int>(std::clamp<int64_t>(num(event, "chain_depth"), 0, 1 << 20))};
    auto spec = opts_.route_job(filed);
    if (!spec) return;
    event["event_id"] = event_id;
    std::string kind = job_kind_name(job_kind::route), payload = json::serialize(event);
    s << insert_job_sql, soci::use(tenant), soci::use(kind), soci::use(spec->lane), soci::use(spec->idem_key),
        soci::use(payload), soci::use(now_ms), soci::use(now_ms), soci::use(now_ms), soci::use(spec->lane);
}

fence sql_store::complete_command(const job& j, const std::string& result_json, const std::vector<std::string>& emitted,
                                  int64_t now_ms) {
    soci::session s(*pool_);
    auto cmd = json::parse(j.payload).as_object();
    const bool send = str(cmd, "type") == events::message_send;
    std::string mid;
    if (send)
        if (auto v = json::parse(result_json); v.is_object()) mid = str(v.as_object(), "provider_message_id");
    begin(s);
    try {
        fence held = finish(s, j, "done", "", now_ms);
        if (held == fence::lost) {
            // Another worker took the job over, but this attempt was delivered: record the sent
            // message with the job id anyway, so the other worker's echo check (delivered_by_job)
            // finds it and does not send again.
            rollback(s);
            begin(s);
        } else {
            s << "UPDATE jobs SET result = :r WHERE id = :id", soci::use(result_json), soci::use(j.id);
            file_emitted(s, j.tenant, emitted, now_ms);
        }
        if (send) record_outbound(s, j, cmd, mid, "sent", "", now_ms);
        commit(s);
        return held;
    } catch (...) {
        rollback(s);
        throw;
    }
}

fence sql_store::retry_later(const job& j, const std::string& error, int64_t next_attempt_at_ms, int64_t now_ms) {
    soci::session s(*pool_);
    std::string err = error;
    long long next = next_attempt_at_ms, now = now_ms, id = j.id, tok = j.claim_token, changed = 0;
    // One statement: no transaction needed, and a lost claim changes nothing.
    s << std::string("UPDATE jobs SET state = 'pending', next_attempt_at_ms = :n, lease_until_ms = NULL, "
                     "interrupted_at_ms = NULL, last_error = :e, updated_at_ms = :u") +
             fenced + " RETURNING id",
        soci::use(next), soci::use(err), soci::use(now), soci::use(id), soci::use(tok), soci::into(changed);
    return s.got_data() ? fence::held : fence::lost;
}

fence sql_store::dead_letter(const job& j, const std::string& error, int64_t now_ms) {
    soci::session s(*pool_);
    begin(s);
    try {
        if (finish(s, j, "dead", error, now_ms) == fence::lost) {
            rollback(s);
            return fence::lost;
        }
        auto cmd = json::parse(j.payload).as_object();
        if (j.kind == job_kind::command && str(cmd, "type") == events::message_send)
            record_outbound(s, j, cmd, "", "failed", error, now_ms);
        commit(s);
        return fence::held;
    } catch (...) {
        rollback(s);
        throw;
    }
}

int sql_store::release_running(int64_t now_ms) {
    soci::session s(*pool_);
    long long now = now_ms, at = now_ms;
    return static_cast<int>(execute_counting(s,
                                             "UPDATE jobs SET state = 'pending', lease_until_ms = NULL, "
                                             "next_attempt_at_ms = :n, interrupted_at_ms = :i, "
                                             "claim_token = claim_token + 1 WHERE state = 'running'",
                                             now, at));
}

std::optional<int64_t> sql_store::next_due_ms(job_class cls) {
    soci::session s(*pool_);
    long long due = 0, expiry = 0;
    soci::indicator due_ind, expiry_ind;
    const std::string lanes = lane_condition(cls, "");
    s << "SELECT MIN(next_attempt_at_ms) FROM jobs WHERE state = 'pending' AND lane_head = 1" + lanes,
        soci::into(due, due_ind);
    s << "SELECT MIN(lease_until_ms) FROM jobs WHERE state = 'running'" + lanes, soci::into(expiry, expiry_ind);
    std::optional<int64_t> out;
    if (due_ind == soci::i_ok) out = due;
    // A lease is claimable once it has passed (lease_until_ms < now).
    if (expiry_ind == soci::i_ok) out = std::min<int64_t>(out.value_or(INT64_MAX), expiry + 1);
    return out;
}

int sql_store::promote_lane_heads() {
    soci::session s(*pool_);
    std::vector<long long> ids(100);
    s << "SELECT j.id FROM jobs j WHERE j.state = 'pending' AND j.lane_head = 0 AND NOT EXISTS "
         "(SELECT 1 FROM jobs o WHERE o.lane = j.lane AND o.state IN ('pending', 'running') AND o.id < j.id) "
         "ORDER BY j.id LIMIT 100",
        soci::into(ids);
    for (auto id : ids) s << "UPDATE jobs SET lane_head = 1 WHERE id = :id AND lane_head = 0", soci::use(id);
    return static_cast<int>(ids.size());
}

std::map<std::string, int64_t> sql_store::job_counts() {
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

}  // namespace switchboard::core::store_detail

namespace switchboard::core {
const char* job_class_name(job_class c) {
    switch (c) {
    case job_class::replies: return "replies";
    case job_class::stages: return "stages";
    case job_class::commands: return "commands";
    default: return "any";
    }
}
}  // namespace switchboard::core
