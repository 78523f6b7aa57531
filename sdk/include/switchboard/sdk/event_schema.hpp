// switchboard/sdk/event_schema.hpp — the required fields of the SDK's events and commands
// (switchboard/sdk/events.hpp), checked. The SDK's fake host applies it to everything a plugin
// emits, so a misspelled field fails in the author's tests instead of silently in production.
// Header-only (Boost.JSON).
#pragma once

#include <switchboard/sdk/events.hpp>

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::sdk::events {

/// The value at a dotted path of an event ("contact.provider_id"), or nullptr when a step is
/// missing or not an object.
inline const boost::json::value* field_at(const boost::json::object& o, std::string_view path) {
    const boost::json::object* current = &o;
    while (true) {
        auto dot = path.find('.');
        auto* v = current->if_contains(path.substr(0, dot));
        if (!v || dot == std::string_view::npos) return v;
        current = v->if_object();
        if (!current) return nullptr;
        path = path.substr(dot + 1);
    }
}

namespace detail {
inline bool non_empty_string(const boost::json::object& o, std::string_view path) {
    auto* v = field_at(o, path);
    return v && v->is_string() && !v->get_string().empty();
}
}  // namespace detail

/// What is wrong with an event or command of one of the SDK's types, or nullopt when its required
/// fields are there with the right JSON types (other types are not checked: their plugins define them):
///   message.received / message.echoed: "provider_message_id" and "contact.provider_id" non-empty strings,
///     "timestamp_ms" a number when present, "text" a string when present;
///   message.status: "status" one of sent|delivered|read|failed, and "provider_message_ids" (array
///     of strings) or "watermark_ms" (integer); "error_code" a string when present;
///   message.send: "recipient.provider_id" a non-empty string, "text" a string or "attachments" an array;
///   conversation.escalated: "reason" a string when present;
///   lead.scored / lead.temperature_changed: "contact.provider_id" a non-empty string, "score" an integer;
///   webhook.unhandled: "reason" a non-empty string.
inline std::optional<std::string> schema_problem(const boost::json::object& e) {
    auto* t = e.if_contains("type");
    if (!t || !t->is_string()) return std::string("no string \"type\"");
    std::string_view type = t->get_string();
    auto need = [&](std::string_view path) -> std::optional<std::string> {
        if (detail::non_empty_string(e, path)) return std::nullopt;
        return std::string(type) + " needs a non-empty string \"" + std::string(path) + "\"";
    };
    auto optional_kind = [&](const char* field, bool (boost::json::value::*is)() const noexcept,
                             const char* kind) -> std::optional<std::string> {
        auto* v = e.if_contains(field);
        if (!v || (v->*is)()) return std::nullopt;
        return std::string(type) + " field \"" + field + "\" must be " + kind;
    };
    if (type == message_received || type == message_echoed) {
        if (auto p = need("provider_message_id")) return p;
        if (auto p = need("contact.provider_id")) return p;
        if (auto p = optional_kind("timestamp_ms", &boost::json::value::is_number, "a number (UTC ms)")) return p;
        return optional_kind("text", &boost::json::value::is_string, "a string");
    }
    if (type == message_status) {
        auto* st = e.if_contains("status");
        std::string_view s = st && st->is_string() ? std::string_view(st->get_string()) : std::string_view();
        if (s != "sent" && s != "delivered" && s != "read" && s != "failed")
            return std::string("message.status needs \"status\": sent, delivered, read or failed");
        if (auto* code = e.if_contains("error_code"); code && !code->is_string())
            return std::string("message.status \"error_code\" must be a string");
        auto* ids = e.if_contains("provider_message_ids");
        if (ids && ids->is_array()) {
            for (auto& id : ids->get_array())
                if (!id.is_string()) return std::string("message.status \"provider_message_ids\" must hold strings");
            return std::nullopt;
        }
        auto* wm = e.if_contains("watermark_ms");
        if (wm && (wm->is_int64() || wm->is_uint64())) return std::nullopt;
        return std::string("message.status needs \"provider_message_ids\" (array) or \"watermark_ms\" (whole ms)");
    }
    if (type == message_send) {
        if (auto p = need("recipient.provider_id")) return p;
        auto* text = e.if_contains("text");
        auto* attachments = e.if_contains("attachments");
        if ((text && text->is_string()) || (attachments && attachments->is_array())) return std::nullopt;
        return std::string("message.send needs a string \"text\" or an array \"attachments\"");
    }
    if (type == conversation_escalated) return optional_kind("reason", &boost::json::value::is_string, "a string");
    if (type == webhook_unhandled) return need("reason");
    if (type == lead_scored || type == lead_temperature_changed) {
        if (auto p = need("contact.provider_id")) return p;
        auto* score = e.if_contains("score");
        if (!score || !(score->is_int64() || score->is_uint64()))
            return std::string(type) + " needs an integer \"score\"";
    }
    return std::nullopt;
}

}  // namespace switchboard::sdk::events
