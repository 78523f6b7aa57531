// switchboard/sdk/host_rules.hpp — what the host does with the events and commands a plugin hands
// over, shared by the host and the SDK's fake host so both apply the same rules. Header-only
// (Boost.JSON, as the rest of the C++ layer).
#pragma once

#include <switchboard/abi.h>
#include <switchboard/sdk/compat.hpp>
#include <switchboard/sdk/text.hpp>

#include <boost/json.hpp>

#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>
#include <string>
#include <string_view>

namespace switchboard::sdk {

/// Parses an emitted event or command (JSON object text) and fills "tenant" (always) and
/// "channel" (when absent, with the plugin's name). Bytes that are not UTF-8 become U+FFFD, so
/// one damaged text never makes the whole event unusable.
/// @throws std::runtime_error "emitted value is not a JSON object" / "emitted object has no \"type\"".
inline boost::json::object complete_event(sb_str text, const std::string& tenant, const std::string& plugin) {
    std::string_view raw = view(text);
    std::string repaired;
    if (!text::is_valid_utf8(raw)) raw = repaired = text::to_valid_utf8(raw);
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(raw, ec);
    if (ec || !v.is_object()) throw std::runtime_error("emitted value is not a JSON object");
    auto& o = v.as_object();
    auto* type = o.if_contains("type");
    if (!type || !type->is_string()) throw std::runtime_error("emitted object has no \"type\"");
    o["tenant"] = tenant;
    if (!o.contains("channel")) o["channel"] = plugin;
    return std::move(o);
}

/// The kv namespace of SB_KV_TENANT keys (instance names never start with '@'), and of
/// SB_KV_INSTANCE keys: the instance's own name.
inline std::string kv_namespace(uint32_t scope, const std::string& instance) {
    return scope == SB_KV_TENANT ? "@tenant" : instance;
}

/// The integer a kv value holds for kv_increment: decimal digits with an optional '-', else 0.
inline int64_t kv_counter_value(std::string_view v) {
    size_t i = !v.empty() && v[0] == '-' ? 1 : 0;
    if (i == v.size() || v.size() > 19) return 0;
    for (size_t k = i; k < v.size(); ++k)
        if (v[k] < '0' || v[k] > '9') return 0;
    return std::stoll(std::string(v));
}

/// Trims a conversation history (a JSON array of {"direction","text","at_ms","status"}, oldest
/// first) to at most `max_chars` characters of text counted from the newest message (0 = no limit):
/// older messages that do not fit are dropped; a single newest message longer than the limit keeps
/// its last `max_chars` bytes on a UTF-8 boundary.
inline void trim_history(boost::json::array& messages, size_t max_chars) {
    if (max_chars == 0) return;
    size_t used = 0, keep_from = messages.size();
    while (keep_from > 0) {
        auto* t = messages[keep_from - 1].as_object().if_contains("text");
        size_t n = t && t->is_string() ? t->as_string().size() : 0;
        if (used + n > max_chars) {
            if (keep_from == messages.size()) { // the newest alone is too long: keep its tail
                std::string text(t->as_string());
                size_t cut = text.size() - max_chars;
                while (cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) ++cut;
                messages.back().as_object()["text"] = text.substr(cut);
                keep_from = messages.size() - 1;
            }
            break;
        }
        used += n;
        --keep_from;
    }
    messages.erase(messages.begin(), messages.begin() + static_cast<std::ptrdiff_t>(keep_from));
}

/// Merges a contact patch (JSON text: an object with any of "name", "phone", "email" (strings or
/// null), "tags" (array of strings), "score" (number or null), "attributes" (object; a null value
/// removes that key)) into `contact` (the sb_host_api.contact_get shape).
/// @returns why the patch is refused, or nullopt when it was applied.
inline std::optional<std::string> merge_contact_patch(boost::json::object& contact, std::string_view patch_text) {
    boost::system::error_code ec;
    auto v = boost::json::parse(patch_text, ec);
    if (ec || !v.is_object()) return std::string("a contact patch must be a JSON object");
    auto& patch = v.as_object();
    for (auto& [k, val] : patch) {
        if (k == "name" || k == "phone" || k == "email") {
            if (!val.is_string() && !val.is_null()) return "contact field '" + std::string(k) + "' must be a string";
            contact[k] = val.is_null() ? boost::json::value("") : val;
        } else if (k == "tags") {
            if (!val.is_array()) return std::string("contact field 'tags' must be a list of strings");
            for (auto& t : val.as_array())
                if (!t.is_string()) return std::string("contact field 'tags' must be a list of strings");
            contact[k] = val;
        } else if (k == "score") {
            if (!val.is_number() && !val.is_null()) return std::string("contact field 'score' must be a number");
            contact[k] = val.is_null() ? boost::json::value(nullptr) : boost::json::value(val.to_number<double>());
        } else if (k == "attributes") {
            if (!val.is_object()) return std::string("contact field 'attributes' must be an object");
            auto* current = contact.if_contains("attributes");
            boost::json::object merged = current && current->is_object() ? current->as_object() : boost::json::object{};
            for (auto& [ak, av] : val.as_object()) {
                if (av.is_null()) merged.erase(ak);
                else merged[ak] = av;
            }
            contact["attributes"] = std::move(merged);
        } else {
            return "unknown contact field '" + std::string(k) + "' (name, phone, email, tags, score, attributes)";
        }
    }
    return std::nullopt;
}

/// complete_event for what an instance receives (webhook events, command results): "tenant" and
/// "instance" set; "channel" filled with the instance name when absent, and forced to it for a
/// named instance (instance != plugin, e.g. `staff-bot: {use: telegram}`), so that instance's
/// conversations, routes and replies stay apart. A stage's outputs get complete_event only: an
/// "instance" there names the target of a command, never the stage.
inline boost::json::object complete_instance_event(sb_str text, const std::string& tenant, const std::string& instance,
                                                   const std::string& plugin) {
    auto ev = complete_event(text, tenant, instance);
    if (instance != plugin) ev["channel"] = instance;
    ev["instance"] = instance;
    return ev;
}

/// The first output of execute(), the command's result: a JSON object kept as it is, or, when it
/// has a "type" (an event such as payment.invoice.created), completed as an event.
/// @throws std::runtime_error "a command's result must be a JSON object".
inline boost::json::object complete_result(sb_str text, const std::string& tenant, const std::string& instance,
                                           const std::string& plugin) {
    boost::system::error_code ec;
    auto v = boost::json::parse(view(text), ec);
    if (ec || !v.is_object()) throw std::runtime_error("a command's result must be a JSON object");
    if (v.as_object().contains("type")) return complete_instance_event(text, tenant, instance, plugin);
    return std::move(v.as_object());
}

/// The C view of an inbound request for handle_webhook/route_keys, as the host and the fake host
/// build it: `Request` has method, path, query, body, public_url and peer_address strings; `hs`
/// holds its headers (borrowed) and yields content_type; `instance` is the instance the URL named.
template <class Request>
sb_http_request request_view(const Request& r, const std::vector<sb_header>& hs, std::string_view instance) {
    sb_http_request req{};
    req.struct_size = sizeof req;
    req.method = borrow(r.method);
    req.path = borrow(r.path);
    req.query = borrow(r.query);
    req.headers = hs.data();
    req.header_count = hs.size();
    req.body = borrow(r.body);
    req.public_url = borrow(r.public_url);
    req.peer_address = borrow(r.peer_address);
    for (auto& h : hs)
        if (iequals(view(h.name), "content-type")) {
            req.content_type = h.value;
            break;
        }
    req.instance = borrow(instance);
    return req;
}

/// Borrowed sb_header views of (name, value) pairs (valid while `headers` lives).
inline std::vector<sb_header> header_array(const std::vector<std::pair<std::string, std::string>>& headers) {
    std::vector<sb_header> hs;
    hs.reserve(headers.size());
    for (auto& [k, v] : headers) hs.push_back({borrow(k), borrow(v)});
    return hs;
}

/// Calls into a plugin through the C ABI: an exception that escapes the plugin (which its thunks
/// must never let happen) is caught here and reported as SB_ERR_FINAL in `err`.
/// @returns what `call` returned, or SB_ERR_FINAL.
template <typename Call>
sb_status guarded_call(sb_error* err, Call&& call) noexcept {
    try {
        return call();
    } catch (...) {
        fill_error(err, "", "exception crossed the ABI boundary");
        return SB_ERR_FINAL;
    }
}

}  // namespace switchboard::sdk
