// switchboard/sdk/compat.hpp — what the host, the plugin-side C++ layer and the SDK's fake host
// share: ABI string and error helpers, the descriptor compatibility check (with the refusal
// wording admins see) and the syntax of setting values. Header-only; depends on nothing but <switchboard/abi.h>.
#pragma once

#include <switchboard/abi.h>

#include <cctype>
#include <cstddef>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::sdk {

/// The bytes of a borrowed ABI string (valid only during the call that handed it over).
inline std::string_view view(sb_str s) noexcept { return s.data ? std::string_view(s.data, s.size) : std::string_view(); }
/// Lends `s` across the ABI for the duration of one call.
inline sb_str borrow(std::string_view s) noexcept { return sb_str{s.data(), s.size()}; }

/// Writes `code` and `message` into an ABI error (truncated to its fixed sizes); no-op for null.
inline void fill_error(sb_error* err, std::string_view code, std::string_view message) {
    if (!err) return;
    std::snprintf(err->code, sizeof err->code, "%.*s", static_cast<int>(code.size()), code.data());
    std::snprintf(err->message, sizeof err->message, "%.*s", static_cast<int>(message.size()), message.data());
}

/// Parses a duration: digits followed by "ms" (or nothing), "s", "m"/"min" or "h".
/// @returns milliseconds, or nullopt when `text` is not such a duration (negative, empty, other unit).
inline std::optional<int64_t> parse_duration_ms(std::string_view text) {
    size_t pos = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos == 0 || pos > 15) return std::nullopt;
    int64_t n = std::stoll(std::string(text.substr(0, pos)));
    std::string_view unit = text.substr(pos);
    int64_t scale = unit.empty() || unit == "ms" ? 1
                    : unit == "s"                ? 1000
                    : unit == "m" || unit == "min" ? 60'000
                    : unit == "h"                ? 3'600'000
                                                 : 0;
    if (scale == 0 || n > INT64_MAX / scale) return std::nullopt; // unknown unit, or too long to represent
    return n * scale;
}

/// What a value of setting type `type` (sb_setting_type) must look like when `value` is not such a
/// value ("a whole number", "true or false", "a duration such as ..."), or nullopt when it is.
inline std::optional<std::string> setting_value_problem(uint32_t type, std::string_view value) {
    switch (type) {
    case SB_SETTING_INT: {
        size_t i = !value.empty() && value[0] == '-' ? 1 : 0;
        bool ok = i < value.size();
        for (size_t k = i; ok && k < value.size(); ++k) ok = std::isdigit(static_cast<unsigned char>(value[k])) != 0;
        return ok ? std::nullopt : std::optional<std::string>("a whole number");
    }
    case SB_SETTING_BOOL:
        return value == "true" || value == "false" ? std::nullopt : std::optional<std::string>("true or false");
    case SB_SETTING_DURATION:
        return parse_duration_ms(value) ? std::nullopt
                                        : std::optional<std::string>("a duration such as 500ms, 10s, 5m or 24h");
    default: return std::nullopt;
    }
}

/// "major.minor".
inline std::string abi_version_string(unsigned major, unsigned minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}

/// Why a plugin's descriptor cannot be used by this host, or nullopt when it can. Reads only the
/// leading version fields until the version is known to be compatible (ABI policy: same major,
/// plugin minor <= host minor, struct_size covering the fields of the plugin's version).
inline std::optional<std::string> descriptor_problem(const sb_plugin_descriptor* d) {
    const std::string host_abi = abi_version_string(SB_ABI_MAJOR, SB_ABI_MINOR);
    if (!d) return "the plugin's entry point returned no descriptor";
    if (d->struct_size < offsetof(sb_plugin_descriptor, name))
        return "corrupt descriptor (struct_size " + std::to_string(d->struct_size) + ")";
    const std::string plugin_abi = abi_version_string(d->abi_major, d->abi_minor);
    if (d->abi_major != SB_ABI_MAJOR)
        return "built against SDK ABI " + plugin_abi + " but this host implements ABI " + host_abi +
               ": rebuild it against SDK " + host_abi;
    if (d->abi_minor > SB_ABI_MINOR)
        return "built against SDK ABI " + plugin_abi + ", newer than this host's ABI " + host_abi +
               ": upgrade switchboard, or rebuild it against SDK " + host_abi;
    if (d->struct_size < offsetof(sb_plugin_descriptor, run_stage) + sizeof(d->run_stage))
        return "descriptor is smaller than ABI " + plugin_abi + " defines: rebuild it against SDK " + host_abi;
    bool name_ok = d->name && *d->name;
    for (const char* p = d->name; name_ok && *p; ++p)
        name_ok = std::islower(static_cast<unsigned char>(*p)) || std::isdigit(static_cast<unsigned char>(*p)) ||
                  *p == '-' || *p == '_';
    if (!name_ok) return "invalid plugin name: use lowercase letters, digits, '-' and '_'";
    if (!d->create || !d->destroy) return "descriptor lacks create/destroy";
    return std::nullopt;
}

}  // namespace switchboard::sdk
