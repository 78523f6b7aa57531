#include <switchboard/whatsapp/webhook.hpp>

#include <switchboard/meta/webhook.hpp>

#include <switchboard/sdk/events.hpp>
#include <switchboard/sdk/json_fields.hpp>

#include <algorithm>
#include <charconv>
#include <optional>

namespace switchboard::whatsapp {
namespace json = boost::json;
namespace events = sdk::events;
using meta::unhandled_event;

namespace {

using sdk::json_fields::array_at;
using sdk::json_fields::object_at;
constexpr auto string_at = sdk::json_fields::text_at;

/// Cloud API timestamps are UNIX seconds, written as a string ("1697043223") or a number.
std::optional<int64_t> timestamp_ms(const json::object& o) {
    std::string s = string_at(o, "timestamp");
    int64_t seconds = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), seconds);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || seconds < 0 || seconds > 100'000'000'000)
        return std::nullopt;
    return seconds * 1000;
}

json::object base_event(std::string_view type, std::string_view channel) {
    return json::object{{"type", type}, {"channel", channel}};
}

/// The first errors[] item as {"code", "title", "details"?}, or nullopt.
std::optional<json::object> first_error(const json::object& o) {
    auto* errors = array_at(o, "errors");
    if (!errors || errors->empty() || !errors->front().is_object()) return std::nullopt;
    auto& e = errors->front().as_object();
    json::object out{{"code", string_at(e, "code")}, {"title", string_at(e, "title")}};
    if (auto* data = object_at(e, "error_data"); data && !string_at(*data, "details").empty())
        out["details"] = string_at(*data, "details");
    else if (!string_at(e, "message").empty() && string_at(e, "message") != string_at(e, "title"))
        out["details"] = string_at(e, "message");
    return out;
}

std::string describe_error(const json::object& error) {
    std::string text = std::string(error.at("code").as_string()) + " " + std::string(error.at("title").as_string());
    if (auto* d = error.if_contains("details")) text += " (" + std::string(d->as_string()) + ")";
    return text;
}

/// The profile names of value.contacts[], by wa_id.
std::vector<std::pair<std::string, std::string>> contact_names(const json::object& value) {
    std::vector<std::pair<std::string, std::string>> names;
    if (auto* contacts = array_at(value, "contacts"))
        for (auto& c : *contacts)
            if (auto* o = c.if_object())
                if (auto* profile = object_at(*o, "profile"))
                    names.emplace_back(string_at(*o, "wa_id"), string_at(*profile, "name"));
    return names;
}

json::object contact_of(std::string_view wa_id, const std::vector<std::pair<std::string, std::string>>& names) {
    json::object contact{{"provider_id", wa_id}};
    for (auto& [id, name] : names)
        if (id == wa_id && !name.empty()) contact["name"] = name;
    return contact;
}

/// Media objects (image, video, audio, document, sticker): an attachment, the caption as text.
void add_media(json::object& ev, const json::object& message, const std::string& type) {
    auto* media = object_at(message, type);
    if (!media) return;
    std::string kind = type == "audio" && media->contains("voice") && media->at("voice") == true ? "voice" : type;
    json::object a{{"type", kind}};
    for (const char* key : {"url", "mime_type", "filename", "sha256"})
        if (auto v = string_at(*media, key); !v.empty()) a[key] = v;
    if (auto id = string_at(*media, "id"); !id.empty()) a["media_id"] = id;
    if (auto* file = media->if_contains("file"); file && file->is_string()) a["file"] = *file;  // on-premise
    if (auto caption = string_at(*media, "caption"); !caption.empty()) ev["text"] = caption;
    ev["attachments"] = json::array{std::move(a)};
}

/// Fills the content of a customer message. @returns "" when understood, else the reason it is not.
std::string add_content(json::object& ev, const json::object& message, const json::object& value) {
    std::string type = string_at(message, "type");
    if (type == "text") {
        if (auto* text = object_at(message, "text")) ev["text"] = string_at(*text, "body");
    } else if (type == "image" || type == "video" || type == "audio" || type == "document" || type == "sticker") {
        add_media(ev, message, type);
    } else if (type == "location") {
        if (auto* loc = object_at(message, "location"))
            ev["attachments"] = json::array{json::object{{"type", "location"}, {"payload", *loc}}};
    } else if (type == "contacts") {
        if (auto* cards = message.if_contains("contacts"))
            ev["attachments"] = json::array{json::object{{"type", "contacts"}, {"payload", *cards}}};
    } else if (type == "button") {  // a quick-reply button of a template message
        if (auto* button = object_at(message, "button")) {
            ev["text"] = string_at(*button, "text");
            ev["quick_reply_payload"] = string_at(*button, "payload");
        }
    } else if (type == "interactive") {
        auto* interactive = object_at(message, "interactive");
        std::string kind = interactive ? string_at(*interactive, "type") : "";
        const json::object* reply = interactive ? object_at(*interactive, kind) : nullptr;
        if (reply && (kind == "button_reply" || kind == "list_reply")) {
            ev["text"] = string_at(*reply, "title");
            ev["postback"] = json::object{{"title", string_at(*reply, "title")}, {"payload", string_at(*reply, "id")},
                                          {"kind", kind}};
        } else if (auto err = first_error(message) ? first_error(message) : first_error(value)) {
            ev["unsupported"] = *err;
        } else {
            return "interactive message of type '" + kind + "'";
        }
    } else if (type == "unsupported") {
        auto err = first_error(message);
        if (!err) err = first_error(value);
        ev["unsupported"] = err ? *err : json::object{{"code", ""}, {"title", "unsupported message type"}};
    } else {
        return "message of type '" + type + "'";
    }
    if (!ev.contains("unsupported"))
        if (auto err = first_error(message)) ev["unsupported"] = *err;
    return {};
}

json::object normalize_message(const json::object& message, const json::object& value, std::string_view channel,
                               std::string_view account_id,
                               const std::vector<std::pair<std::string, std::string>>& names) {
    std::string id = string_at(message, "id"), from = string_at(message, "from");
    if (id.empty() || from.empty()) return unhandled_event(channel, "message without id or from", message);
    auto ts = timestamp_ms(message);
    if (string_at(message, "type") == "reaction") {
        auto* r = object_at(message, "reaction");
        json::object ev = base_event(reaction_event, channel);
        ev["account_id"] = account_id;
        ev["contact"] = contact_of(from, names);
        ev["reaction"] = json::object{{"message_id", r ? string_at(*r, "message_id") : ""},
                                      {"emoji", r ? string_at(*r, "emoji") : ""}};
        if (ts) ev["timestamp_ms"] = *ts;
        ev["dedupe_key"] = "reaction:" + id;
        ev["raw"] = message;
        return ev;
    }
    json::object ev = base_event(events::message_received, channel);
    ev["provider_message_id"] = id;
    ev["account_id"] = account_id;
    ev["contact"] = contact_of(from, names);
    if (ts) ev["timestamp_ms"] = *ts;
    if (std::string reason = add_content(ev, message, value); !reason.empty())
        return unhandled_event(channel, reason + " (" + id + ")", message);
    if (auto* context = object_at(message, "context")) {
        if (auto replied = string_at(*context, "id"); !replied.empty()) ev["reply_to"] = replied;
        if (context->contains("forwarded") || context->contains("frequently_forwarded")) ev["forwarded"] = true;
    }
    if (auto* referral = object_at(message, "referral")) ev["referral"] = *referral;
    ev["raw"] = message;
    return ev;
}

json::object normalize_status(const json::object& status, std::string_view channel, std::string_view account_id) {
    std::string id = string_at(status, "id"), state = string_at(status, "status");
    if (id.empty()) return unhandled_event(channel, "status without id", status);
    if (state != "sent" && state != "delivered" && state != "read" && state != "failed")
        return unhandled_event(channel, "status '" + state + "' of " + id, status);
    json::object ev = base_event(events::message_status, channel);
    ev["status"] = state;
    ev["provider_message_ids"] = json::array{json::value(id)};
    ev["account_id"] = account_id;
    ev["contact"] = json::object{{"provider_id", string_at(status, "recipient_id")}};
    if (auto ts = timestamp_ms(status)) ev["timestamp_ms"] = *ts;
    if (auto err = first_error(status)) {
        ev["error_code"] = err->at("code");
        ev["error_reason"] = describe_error(*err);
    }
    ev["dedupe_key"] = "status:" + id + ":" + state;
    ev["raw"] = status;
    return ev;
}

}  // namespace

std::vector<json::object> parse_value(const json::object& value, std::string_view channel,
                                      std::string_view account_id) {
    std::vector<json::object> out;
    std::string number(account_id);
    if (auto* metadata = object_at(value, "metadata"); metadata && !string_at(*metadata, "phone_number_id").empty())
        number = string_at(*metadata, "phone_number_id");
    auto names = contact_names(value);
    auto* messages = array_at(value, "messages");
    auto* statuses = array_at(value, "statuses");
    if (messages)
        for (auto& m : *messages)
            out.push_back(m.is_object() ? normalize_message(m.as_object(), value, channel, number, names)
                                        : unhandled_event(channel, "messages[] item is not an object", m));
    if (statuses)
        for (auto& s : *statuses)
            out.push_back(s.is_object() ? normalize_status(s.as_object(), channel, number)
                                        : unhandled_event(channel, "statuses[] item is not an object", s));
    if (out.empty()) {  // no messages[] / statuses[], or only empty ones: still stored, never silently
        auto err = first_error(value);
        out.push_back(unhandled_event(
            channel, err ? "value.errors: " + describe_error(*err) : "value without messages or statuses", value));
    }
    return out;
}

std::vector<json::object> parse_webhook(std::string_view raw_body, const parse_options& options) {
    const std::string_view channel = options.channel;
    json::value body;
    try {
        body = json::parse(raw_body);
    } catch (const std::exception&) {
        return {unhandled_event(channel, "body is not JSON", json::string(raw_body))};
    }
    auto* root = body.if_object();
    if (!root) return {unhandled_event(channel, "body is not a JSON object", body)};
    if (!root->contains("object") && (root->contains("messages") || root->contains("statuses")))
        return parse_value(*root, channel, "");  // the legacy on-premise shape (360dialog v1)
    if (string_at(*root, "object") != "whatsapp_business_account" || !array_at(*root, "entry"))
        return {unhandled_event(channel, "not a whatsapp_business_account notification", body)};
    std::vector<json::object> out;
    bool any_change = false;
    for (auto& entry : root->at("entry").as_array()) {
        auto* changes = entry.is_object() ? array_at(entry.as_object(), "changes") : nullptr;
        if (!changes) {
            out.push_back(unhandled_event(channel, "entry without changes[]", entry));
            continue;
        }
        for (auto& change : *changes) {
            any_change = true;
            auto* c = change.if_object();
            auto* value = c ? object_at(*c, "value") : nullptr;
            if (!value || string_at(*c, "field") != "messages") {
                out.push_back(unhandled_event(
                    channel, "change of field '" + (c ? string_at(*c, "field") : std::string()) + "'", change));
                continue;
            }
            auto* metadata = object_at(*value, "metadata");
            std::string number = metadata ? string_at(*metadata, "phone_number_id") : "";
            if (!options.own_phone_number_id.empty() && number != options.own_phone_number_id) {
                if (options.tenant_in_path)
                    out.push_back(unhandled_event(channel, "value for phone_number_id '" + number +
                                                               "', not this tenant's number", change));
                continue;
            }
            for (auto& ev : parse_value(*value, channel, number)) out.push_back(std::move(ev));
        }
    }
    if (!any_change && out.empty()) out.push_back(unhandled_event(channel, "notification without changes", body));
    return out;
}

std::vector<std::string> route_keys(const sdk::request& request) {
    std::vector<std::string> keys;
    if (request.method() != "POST") return keys;
    json::value body;
    try {
        body = json::parse(request.body());
    } catch (const std::exception&) {
        return keys;
    }
    auto* root = body.if_object();
    auto* entries = root ? array_at(*root, "entry") : nullptr;
    if (!entries) return keys;
    for (auto& entry : *entries) {
        auto* changes = entry.is_object() ? array_at(entry.as_object(), "changes") : nullptr;
        if (!changes) continue;
        for (auto& change : *changes) {
            auto* value = change.is_object() ? object_at(change.as_object(), "value") : nullptr;
            auto* metadata = value ? object_at(*value, "metadata") : nullptr;
            std::string number = metadata ? string_at(*metadata, "phone_number_id") : "";
            if (!number.empty() && std::find(keys.begin(), keys.end(), number) == keys.end()) keys.push_back(number);
        }
    }
    return keys;
}

}  // namespace switchboard::whatsapp
