// switchboard/sdk/host_rules.hpp — what the host does with the events and commands a plugin hands
// over, shared by the host and the SDK's fake host so both apply the same rules. Header-only
// (Boost.JSON, as the rest of the C++ layer).
#pragma once

#include <switchboard/abi.h>
#include <switchboard/sdk/compat.hpp>
#include <switchboard/sdk/text.hpp>

#include <boost/json.hpp>

#include <stdexcept>
#include <string>

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
