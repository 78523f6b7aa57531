// Filing a webhook's normalized events: the raw webhook row, contacts and their channel
// identities, conversations, messages (deduplicated by provider message id), events, message
// statuses, and the route jobs the tenant's routes start. Runs on the writer thread.
#include "event_statements.hpp"
#include "sql_store.hpp"

#include <switchboard/core/json_fields.hpp>

#include <switchboard/sdk/text.hpp>
#include <switchboard/sdk/events.hpp>

#include <openssl/evp.h>

#include <algorithm>

namespace switchboard::core::store_detail {

using json_fields::num;
using json_fields::obj;
using json_fields::str;
namespace events = switchboard::sdk::events;

int64_t sql_store::ensure_contact(writer_statements& w, const json::object& contact) {
    w.provider_id = str(contact, "provider_id");
    if (w.run(w.select_identity)) return w.contact_id;
    w.name = str(contact, "name");
    w.name_ind = w.name.empty() ? soci::i_null : soci::i_ok;
    w.run(w.insert_contact);
    w.run(w.insert_identity);
    return w.contact_id;
}

int64_t sql_store::ensure_conversation(writer_statements& w, const std::string& account) {
    if (w.run(w.select_conversation)) return w.conversation_id;
    w.account = account;
    w.account_ind = account.empty() ? soci::i_null : soci::i_ok;
    w.run(w.insert_conversation);
    return w.conversation_id;
}

long long sql_store::insert_event(writer_statements& w, const std::string& type, const std::string& payload) {
    w.type = type;
    w.payload = payload;
    w.run(w.insert_event);
    return w.id;
}

void sql_store::add_route_job(writer_statements& w, const std::string& lane, const std::string& key,
                              const std::string& payload) {
    w.lane = lane;
    w.key = key;
    w.payload = payload;
    w.run(w.insert_route_job);
}

namespace {

using switchboard::sdk::text::is_valid_utf8;

std::string base64_encode(const std::string& bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

/// Why a message event cannot be filed as a message, or "" when it can.
std::string unfileable_reason(const json::object& ev, const std::string& type) {
    const json::object* contact = obj(ev, "contact");
    if (!contact || str(*contact, "provider_id").empty()) return type + " event has no contact.provider_id";
    if (str(ev, "provider_message_id").empty()) return type + " event has no provider_message_id";
    return "";
}

/// Our own sends carry the job id as Send API metadata, echoed back by Meta: it proves which
/// job's message was delivered (see delivered_by_job).
std::optional<long long> job_id_from_metadata(const std::string& meta) {
    if (meta.empty() || meta.size() >= 19 || !std::all_of(meta.begin(), meta.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    return std::stoll(meta);
}

}  // namespace

void sql_store::file_message(writer_statements& w, filing& f, json::object& ev, const std::string& type,
                             const std::string& text) {
    if (auto reason = unfileable_reason(ev, type); !reason.empty()) {
        // An authenticated event we cannot file is kept as unhandled, never refused: the
        // provider would retry it forever and the rest of its webhook would be lost too.
        f.mark_unhandled(reason);
        json::object wrapped{{"type", events::webhook_unhandled}, {"channel", w.channel}, {"reason", reason}, {"raw", ev}};
        insert_event(w, std::string(events::webhook_unhandled), json::serialize(wrapped));
        f.stored(std::string(events::webhook_unhandled));
        return;
    }
    ensure_contact(w, *obj(ev, "contact"));
    int64_t conv = ensure_conversation(w, str(ev, "account_id"));
    bool inbound = type == events::message_received;
    w.mid = str(ev, "provider_message_id");
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
    auto job_id = inbound ? std::nullopt : job_id_from_metadata(str(ev, "metadata"));
    w.job_id = job_id.value_or(0);
    w.job_ind = job_id ? soci::i_ok : soci::i_null;
    if (!w.run(w.insert_message)) {
        ++f.result.duplicates;
        return;
    }
    long long message_id = w.id;
    if (inbound) w.run(w.touch_conversation);
    long long eid = insert_event(w, type, text);
    f.stored(type);
    if (!inbound) return;
    ev["conversation_id"] = conv;
    ev["message_id"] = message_id;
    ev["event_id"] = eid;
    start_route(w, f, ev, type, conv, eid);
}

void sql_store::start_route(writer_statements& w, filing& f, const json::object& ev, const std::string& type,
                            int64_t conversation_id, int64_t event_id) {
    if (!opts_.route_job) return;
    auto spec = opts_.route_job(filed_event{w.tenant, type, conversation_id, event_id});
    if (!spec) return;
    add_route_job(w, spec->lane, spec->idem_key, json::serialize(ev));
    ++f.result.jobs_created;
}

ingest_result sql_store::ingest_one(soci::session& s, writer_statements& w, const ingest_request& r) {
    filing f;
    f.result.status = ingest_status::stored;
    w.tenant = r.tenant;
    w.plugin = r.plugin;
    w.now = r.received_at_ms;
    w.content_type = r.content_type;
    // Authenticated bytes are kept as they came: text when they are UTF-8, else base64.
    bool utf8 = is_valid_utf8(r.body);
    w.body = utf8 ? r.body : base64_encode(r.body);
    w.body_encoding = utf8 ? "utf-8" : "base64";
    w.count = static_cast<int>(r.events.size());
    w.run(w.insert_webhook);
    for (auto& text : r.events) {
        auto ev = json::parse(text).as_object();
        std::string type = str(ev, "type");
        w.channel = str(ev, "channel");
        if (w.channel.empty()) w.channel = r.plugin;
        if (type == events::message_received || type == events::message_echoed) {
            file_message(w, f, ev, type, text);
            continue;
        }
        if (!str(ev, "dedupe_key").empty()) {
            // A provider id the plugin marked (Telegram update_id, a payment callback's id): a
            // retry of the same callback is stored as a webhook but files no second event.
            auto eid = insert_emitted_event(s, r.tenant, ev, text, w.now);
            if (!eid) {
                ++f.result.duplicates;
                continue;
            }
            if (type == events::message_status) apply_status(s, r.tenant, w.channel, ev, w.now);
            f.stored(type);
            ev["event_id"] = *eid;
            start_route(w, f, ev, type, 0, *eid);
            continue;
        }
        if (type == events::message_status) apply_status(s, r.tenant, w.channel, ev, w.now);
        else if (type == events::webhook_unhandled) f.mark_unhandled(str(ev, "reason"));
        long long eid = insert_event(w, type, text);
        f.stored(type);
        if (type == events::webhook_unhandled) continue;
        ev["event_id"] = eid;
        start_route(w, f, ev, type, 0, eid);
    }
    if (r.events.empty()) f.mark_unhandled("the channel produced no events");
    if (f.unhandled) {
        w.status = "unhandled";
        w.note = f.note;
        w.note_ind = f.note.empty() ? soci::i_null : soci::i_ok;
        w.run(w.update_webhook);
    }
    return std::move(f.result);
}

}  // namespace switchboard::core::store_detail
