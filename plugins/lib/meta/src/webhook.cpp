#include <switchboard/meta/webhook.hpp>

#include <switchboard/sdk/events.hpp>
#include <switchboard/sdk/text.hpp>

#include <openssl/sha.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace switchboard::meta {
namespace json = boost::json;
namespace events = sdk::events;

namespace {

/// An id as Meta writes it: a string, or (in older payloads and some fixtures) a number.
std::optional<std::string> id_string(const json::value* v) {
    if (!v) return std::nullopt;
    if (auto* s = v->if_string()) return s->empty() ? std::nullopt : std::optional<std::string>(std::string(*s));
    if (auto* i = v->if_int64()) return std::to_string(*i);
    if (auto* u = v->if_uint64()) return std::to_string(*u);
    return std::nullopt;
}

/// A UTC millisecond timestamp; non-integral or non-numeric values are absent.
std::optional<int64_t> ms_value(const json::value* v) {
    if (!v) return std::nullopt;
    if (auto* i = v->if_int64()) return *i;
    if (auto* u = v->if_uint64())
        return *u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::optional<int64_t>(*u)
                                                                                : std::nullopt;
    if (auto* d = v->if_double())
        if (std::isfinite(*d) && std::floor(*d) == *d && std::fabs(*d) < 9.2e18) return static_cast<int64_t>(*d);
    return std::nullopt;
}

const json::object* object_at(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v ? v->if_object() : nullptr;
}

std::optional<std::string> string_at(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (!v) return std::nullopt;
    if (auto* s = v->if_string()) return std::string(*s);
    return std::nullopt;
}

bool true_at(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v && v->is_bool() && v->get_bool();
}

/// The id of {"id": ...} under `key` (sender / recipient).
std::optional<std::string> party_id(const json::object& item, std::string_view key) {
    auto* p = object_at(item, key);
    return p ? id_string(p->if_contains("id")) : std::nullopt;
}

json::object base_event(std::string_view type, std::string_view channel) {
    json::object ev;
    ev["type"] = type;
    ev["channel"] = channel;
    return ev;
}

/// Id for an event Meta gives no id of its own (postback without mid, standalone referral):
/// built from the sender and timestamp so a retried delivery deduplicates. Without any
/// timestamp, a digest of the item keeps it deterministic.
std::string synthetic_id(std::string_view kind, std::string_view sender, std::optional<int64_t> ts,
                         const json::object& item) {
    std::string id(kind);
    id += ':';
    id += sender;
    id += ':';
    if (ts) {
        id += std::to_string(*ts);
    } else {
        std::string s = json::serialize(item);
        unsigned char d[SHA256_DIGEST_LENGTH];
        SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
        static constexpr char hex[] = "0123456789abcdef";
        id += "sha256-";
        for (int i = 0; i < 8; ++i) {
            id += hex[d[i] >> 4];
            id += hex[d[i] & 0x0f];
        }
    }
    return id;
}

/// {"provider_id": id, "user_ref"?} of the sender or recipient. Chat-plugin guests have a
/// user_ref instead of (or next to) an id.
std::optional<json::object> contact_of(const json::object& item, std::string_view key) {
    auto* p = object_at(item, key);
    if (!p) return std::nullopt;
    auto id = id_string(p->if_contains("id"));
    auto user_ref = id_string(p->if_contains("user_ref"));
    if (!id && !user_ref) return std::nullopt;
    json::object c;
    c["provider_id"] = id ? *id : *user_ref;
    if (user_ref) c["user_ref"] = *user_ref;
    return c;
}

json::array normalize_attachments(const json::array& in) {
    json::array out;
    for (auto& a : in) {
        auto* ao = a.if_object();
        if (!ao) continue;
        json::object n;
        n["type"] = string_at(*ao, "type").value_or("unknown");
        auto* payload = object_at(*ao, "payload");
        if (payload) {
            if (auto url = string_at(*payload, "url")) n["url"] = *url;
            n["payload"] = *payload;
        }
        // "fallback" attachments (shared links) carry the URL beside the payload.
        if (!n.contains("url"))
            if (auto url = string_at(*ao, "url")) n["url"] = *url;
        out.push_back(std::move(n));
    }
    return out;
}

/// Fills the fields shared by message.received and message.echoed from a "message" object.
void add_message_content(json::object& ev, const json::object& message) {
    if (auto text = string_at(message, "text")) ev["text"] = *text;
    if (auto* atts = message.if_contains("attachments"))
        if (auto* arr = atts->if_array()) {
            auto n = normalize_attachments(*arr);
            if (!n.empty()) ev["attachments"] = std::move(n);
        }
    if (auto* qr = object_at(message, "quick_reply"))
        if (auto p = string_at(*qr, "payload")) ev["quick_reply_payload"] = *p;
    if (auto* reply = object_at(message, "reply_to")) {
        if (auto mid = string_at(*reply, "mid")) ev["reply_to"] = *mid;
        // Instagram story replies point at the story, not at a message.
        if (auto* story = object_at(*reply, "story")) ev["reply_to_story"] = *story;
    }
    // Stickers come as message.sticker_id and/or as an image attachment whose payload has one.
    std::optional<std::string> sticker = id_string(message.if_contains("sticker_id"));
    if (!sticker)
        if (auto* atts = message.if_contains("attachments"))
            if (auto* arr = atts->if_array())
                for (auto& a : *arr)
                    if (auto* ao = a.if_object())
                        if (auto* p = object_at(*ao, "payload"))
                            if ((sticker = id_string(p->if_contains("sticker_id")))) break;
    if (sticker) ev["sticker_id"] = *sticker;
}

/// Reason for an item carrying none of the normalized fields, naming what it does carry.
std::string unknown_item_reason(const json::object& item) {
    std::vector<std::string> keys;
    for (auto& kv : item) {
        std::string_view k = kv.key();
        if (k == "sender" || k == "recipient" || k == "timestamp") continue;
        keys.emplace_back(k);
    }
    if (keys.empty()) return "messaging item carries no event field (only sender/recipient/timestamp)";
    std::string names;
    for (auto& k : keys) {
        if (!names.empty()) names += ", ";
        names += k;
    }
    std::string reason = "messaging item field '" + names + "' is not normalized";
    if (std::find(keys.begin(), keys.end(), "reaction") != keys.end())
        reason += " (message_reactions: a customer reacted to a message)";
    else if (std::find(keys.begin(), keys.end(), "message_edit") != keys.end())
        reason += " (message_edits: a customer edited a message)";
    else if (std::find(keys.begin(), keys.end(), "optin") != keys.end())
        reason += " (messaging_optins)";
    else if (std::find_if(keys.begin(), keys.end(), [](const std::string& k) {
                 return k.find("thread_control") != std::string::npos;
             }) != keys.end())
        reason += " (handover protocol)";
    return reason;
}

json::object normalize_message(const json::object& item, const json::object& message, std::string_view channel,
                               std::string_view entry_id, std::optional<int64_t> ts) {
    auto mid = string_at(message, "mid");
    if (true_at(message, "is_deleted"))
        return unhandled_event(channel, "message.is_deleted: the customer unsent message " + mid.value_or("(no mid)"),
                               item);
    if (true_at(message, "is_unsupported"))
        return unhandled_event(channel, "message.is_unsupported: Meta delivers no content for this message type",
                               item);
    if (!mid || mid->empty())
        return unhandled_event(channel, "message without mid (no provider message id to deduplicate on)", item);

    bool echo = true_at(message, "is_echo");
    // In an echo our page/account is the sender and the customer the recipient.
    std::string_view contact_key = echo ? "recipient" : "sender";
    std::string_view account_key = echo ? "sender" : "recipient";
    auto contact = contact_of(item, contact_key);
    if (!contact)
        return unhandled_event(channel, "message without " + std::string(contact_key) + ".id", item);

    json::object ev = base_event(echo ? events::message_echoed : events::message_received, channel);
    ev["provider_message_id"] = *mid;
    ev["account_id"] = party_id(item, account_key).value_or(std::string(entry_id));
    ev["contact"] = std::move(*contact);
    if (ts) ev["timestamp_ms"] = *ts;
    add_message_content(ev, message);
    if (echo) {
        if (auto md = string_at(message, "metadata")) ev["metadata"] = *md;
        if (auto app = id_string(message.if_contains("app_id"))) ev["app_id"] = *app;
    } else {
        // A message sent from an ad or a link can carry the referral next to the message.
        if (auto* r = object_at(item, "referral")) ev["referral"] = *r;
        else if (auto* r2 = object_at(message, "referral")) ev["referral"] = *r2;
    }
    ev["raw"] = item;
    return ev;
}

json::object normalize_postback(const json::object& item, const json::object& postback, std::string_view channel,
                                std::string_view entry_id, std::optional<int64_t> ts) {
    auto contact = contact_of(item, "sender");
    if (!contact) return unhandled_event(channel, "postback without sender.id", item);
    std::string sender(contact->at("provider_id").as_string());
    json::object ev = base_event(events::message_received, channel);
    auto mid = string_at(postback, "mid");
    ev["provider_message_id"] = mid && !mid->empty() ? *mid : synthetic_id("postback", sender, ts, item);
    ev["account_id"] = party_id(item, "recipient").value_or(std::string(entry_id));
    ev["contact"] = std::move(*contact);
    if (ts) ev["timestamp_ms"] = *ts;
    json::object pb;
    if (auto title = string_at(postback, "title")) pb["title"] = *title;
    if (auto payload = string_at(postback, "payload")) pb["payload"] = *payload;
    if (auto* r = object_at(postback, "referral")) pb["referral"] = *r;
    ev["postback"] = std::move(pb);
    ev["raw"] = item;
    return ev;
}

json::object normalize_referral(const json::object& item, const json::object& referral, std::string_view channel,
                                std::string_view entry_id, std::optional<int64_t> ts) {
    auto contact = contact_of(item, "sender");
    if (!contact) return unhandled_event(channel, "referral without sender.id", item);
    std::string sender(contact->at("provider_id").as_string());
    json::object ev = base_event(events::message_received, channel);
    ev["provider_message_id"] = synthetic_id("referral", sender, ts, item);
    ev["account_id"] = party_id(item, "recipient").value_or(std::string(entry_id));
    ev["contact"] = std::move(*contact);
    if (ts) ev["timestamp_ms"] = *ts;
    ev["referral"] = referral;
    ev["raw"] = item;
    return ev;
}

json::object normalize_status(const json::object& item, const json::object& body, std::string_view status,
                              std::string_view field, std::string_view channel, std::string_view entry_id,
                              std::optional<int64_t> ts) {
    auto contact = contact_of(item, "sender");
    if (!contact) return unhandled_event(channel, std::string(field) + " without sender.id", item);
    json::object ev = base_event(events::message_status, channel);
    ev["status"] = status;
    json::array ids;
    if (auto* mids = body.if_contains("mids"))
        if (auto* arr = mids->if_array())
            for (auto& m : *arr)
                if (auto* s = m.if_string()) ids.push_back(*s);
    // Instagram reads name the last message read instead of giving a watermark.
    if (auto mid = string_at(body, "mid")) ids.push_back(json::string(*mid));
    if (!ids.empty()) ev["provider_message_ids"] = std::move(ids);
    if (auto wm = ms_value(body.if_contains("watermark"))) ev["watermark_ms"] = *wm;
    ev["account_id"] = party_id(item, "recipient").value_or(std::string(entry_id));
    ev["contact"] = std::move(*contact);
    if (ts) ev["timestamp_ms"] = *ts;
    ev["raw"] = item;
    return ev;
}

}  // namespace

json::object unhandled_event(std::string_view channel, std::string_view reason, json::value raw) {
    json::object ev = base_event(events::webhook_unhandled, channel);
    ev["reason"] = reason;
    ev["raw"] = std::move(raw);
    return ev;
}

json::object normalize_messaging_item(const json::object& item, std::string_view channel, std::string_view entry_id,
                                      std::optional<int64_t> entry_time_ms) {
    std::optional<int64_t> ts = ms_value(item.if_contains("timestamp"));
    if (!ts) ts = entry_time_ms;

    if (auto* m = item.if_contains("message")) {
        if (auto* mo = m->if_object()) return normalize_message(item, *mo, channel, entry_id, ts);
        return unhandled_event(channel, "messaging item field 'message' is not an object", item);
    }
    if (auto* p = object_at(item, "postback")) return normalize_postback(item, *p, channel, entry_id, ts);
    if (auto* r = object_at(item, "referral")) return normalize_referral(item, *r, channel, entry_id, ts);
    if (auto* d = object_at(item, "delivery"))
        return normalize_status(item, *d, "delivered", "delivery", channel, entry_id, ts);
    if (auto* r = object_at(item, "read")) return normalize_status(item, *r, "read", "read", channel, entry_id, ts);
    return unhandled_event(channel, unknown_item_reason(item), item);
}

std::vector<json::object> parse_webhook(std::string_view raw_body, const parse_options& options) {
    std::vector<json::object> out;
    const std::string_view channel = options.channel;

    // The signature covered the raw bytes; what is parsed is repaired so that one damaged text
    // (a stray Latin-1 byte, a lone surrogate escape) costs that character, not the webhook.
    const auto repaired = sdk::text::repaired_json_text(raw_body);
    const std::string_view text = repaired ? std::string_view(*repaired) : raw_body;
    boost::system::error_code ec;
    json::value body = json::parse(text, ec);
    if (ec) {
        out.push_back(unhandled_event(channel, "body is not JSON (" + ec.message() + ")", json::string(text)));
        return out;
    }
    auto* root = body.if_object();
    if (!root) {
        out.push_back(unhandled_event(channel, "body is not a JSON object", std::move(body)));
        return out;
    }
    auto object = string_at(*root, "object");
    if (object != options.object) {
        std::string reason = object ? "object is \"" + *object + "\"" : std::string("object is missing");
        reason += ", expected \"" + std::string(options.object) + "\" for the " + std::string(channel) + " channel";
        out.push_back(unhandled_event(channel, reason, std::move(body)));
        return out;
    }
    auto* entries_v = root->if_contains("entry");
    auto* entries = entries_v ? entries_v->if_array() : nullptr;
    if (!entries) {
        out.push_back(unhandled_event(channel, "body has no entry[] array", std::move(body)));
        return out;
    }

    for (auto& e : *entries) {
        auto* entry = e.if_object();
        if (!entry) {
            out.push_back(unhandled_event(channel, "entry item is not an object", e));
            continue;
        }
        auto id = id_string(entry->if_contains("id"));
        if (!options.own_account_id.empty() && id != options.own_account_id) {
            if (options.tenant_in_path)
                out.push_back(unhandled_event(channel,
                                              "entry for account " + id.value_or("(no id)") +
                                                  " is not this tenant's (this tenant owns " +
                                                  std::string(options.own_account_id) + ")",
                                              *entry));
            continue;
        }
        std::string entry_id = id.value_or("");
        auto time = ms_value(entry->if_contains("time"));
        bool any = false;

        if (auto* m = entry->if_contains("messaging")) {
            any = true;
            if (auto* arr = m->if_array()) {
                for (auto& item : *arr) {
                    if (auto* io = item.if_object())
                        out.push_back(normalize_messaging_item(*io, channel, entry_id, time));
                    else
                        out.push_back(unhandled_event(channel, "entry.messaging item is not an object", item));
                }
            } else {
                out.push_back(unhandled_event(channel, "entry.messaging is not an array", *entry));
            }
        }
        if (auto* s = entry->if_contains("standby")) {
            any = true;
            static constexpr std::string_view why =
                "entry.standby: delivered to this app as secondary receiver while another app owns the thread "
                "(handover protocol); not answered";
            if (auto* arr = s->if_array()) {
                for (auto& item : *arr) out.push_back(unhandled_event(channel, why, item));
            } else {
                out.push_back(unhandled_event(channel, "entry.standby is not an array", *entry));
            }
        }
        if (auto* c = entry->if_contains("changes")) {
            any = true;
            if (auto* arr = c->if_array()) {
                for (auto& change : *arr) {
                    std::string field;
                    auto* co = change.if_object();
                    if (co) field = string_at(*co, "field").value_or("");
                    if (co && field == "feed" && options.object == "page")
                        out.push_back(normalize_feed_change(*co, channel, entry_id));
                    else
                        out.push_back(unhandled_event(
                            channel, "entry.changes (field '" + field + "') is not a messaging event", change));
                }
            } else {
                out.push_back(unhandled_event(channel, "entry.changes is not an array", *entry));
            }
        }
        if (!any) out.push_back(unhandled_event(channel, "entry has no messaging[], standby[] or changes[]", *entry));
    }
    return out;
}

json::object normalize_feed_change(const json::object& change, std::string_view channel, std::string_view page_id) {
    auto* value = object_at(change, "value");
    if (!value) return unhandled_event(channel, "feed change without value", change);
    const std::string item = string_at(*value, "item").value_or(""), verb = string_at(*value, "verb").value_or("");
    if (item != "comment" || verb != "add")
        return unhandled_event(channel, "feed change: item '" + item + "', verb '" + verb + "' (only new comments are answered)",
                               change);
    auto* from = object_at(*value, "from");
    auto author = from ? id_string(from->if_contains("id")) : std::nullopt;
    auto comment = id_string(value->if_contains("comment_id"));
    if (!author || !comment) return unhandled_event(channel, "feed comment without from.id or comment_id", change);
    if (*author == page_id) return unhandled_event(channel, "the page's own comment " + *comment + " (not answered)", change);
    json::object ev = base_event(comment_received, channel);
    ev["account_id"] = page_id;
    json::object contact{{"provider_id", *author}};
    if (auto name = string_at(*from, "name"); name && !name->empty()) contact["name"] = *name;
    ev["contact"] = std::move(contact);
    ev["comment_id"] = *comment;
    if (auto post = id_string(value->if_contains("post_id"))) ev["post_id"] = *post;
    if (auto parent = id_string(value->if_contains("parent_id")); parent && parent != id_string(value->if_contains("post_id")))
        ev["parent_id"] = *parent;
    ev["text"] = string_at(*value, "message").value_or("");
    // created_time is UNIX seconds in feed changes.
    if (auto t = ms_value(value->if_contains("created_time"))) ev["timestamp_ms"] = *t < 100'000'000'000 ? *t * 1000 : *t;
    ev["dedupe_key"] = "comment:" + *comment;
    ev["raw"] = change;
    return ev;
}

std::vector<std::string> entry_ids(std::string_view raw_body) {
    std::vector<std::string> ids;
    boost::system::error_code ec;
    const auto repaired = sdk::text::repaired_json_text(raw_body);
    json::value body = json::parse(repaired ? std::string_view(*repaired) : raw_body, ec);
    if (ec) return ids;
    auto* root = body.if_object();
    if (!root) return ids;
    auto* entries_v = root->if_contains("entry");
    auto* entries = entries_v ? entries_v->if_array() : nullptr;
    if (!entries) return ids;
    for (auto& e : *entries) {
        auto* entry = e.if_object();
        if (!entry) continue;
        if (auto id = id_string(entry->if_contains("id")))
            if (!id->empty() && std::find(ids.begin(), ids.end(), *id) == ids.end()) ids.push_back(std::move(*id));
    }
    return ids;
}

std::vector<std::string> route_keys(const sdk::request& request) {
    if (request.method() != "POST") return {};
    return entry_ids(request.body());
}

bool path_names_tenant(std::string_view path, std::string_view plugin) {
    std::vector<std::string_view> segments;
    while (!path.empty()) {
        auto slash = path.find('/');
        std::string_view seg = path.substr(0, slash);
        if (!seg.empty()) segments.push_back(seg);
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    for (size_t i = 0; i + 1 < segments.size(); ++i)
        if (segments[i] == "webhooks" && segments[i + 1] == plugin) return segments.size() > i + 2;
    return true;
}

}  // namespace switchboard::meta
