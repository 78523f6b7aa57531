// switchboard/sdk/compat.hpp — what the host, the plugin-side C++ layer and the SDK's fake host
// share: ABI string and error helpers, the descriptor compatibility check (with the refusal
// wording admins see) and the syntax of setting values. Header-only; depends on <switchboard/abi.h> and Boost.JSON.
#pragma once

#include <switchboard/abi.h>

#include <boost/json.hpp>

#include <cctype>
#include <cstddef>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::sdk {

/// The bytes of a borrowed ABI string (valid only during the call that handed it over).
inline std::string_view view(sb_str s) noexcept { return s.data ? std::string_view(s.data, s.size) : std::string_view(); }
/// Lends `s` across the ABI for the duration of one call.
inline sb_str borrow(std::string_view s) noexcept { return sb_str{s.data(), s.size()}; }

/// Case-insensitive ASCII comparison, for header names.
inline bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
    return true;
}

/// A zeroed sb_error with struct_size set, for the caller of an ABI function to hand over.
inline sb_error make_error() noexcept {
    sb_error e{};
    e.struct_size = sizeof(sb_error);
    return e;
}

/// Writes `code` and `message` into an ABI error (truncated to its fixed sizes), touching only the
/// fields inside the caller's struct_size; no-op for null.
inline void fill_error(sb_error* err, std::string_view code, std::string_view message) {
    if (!err) return;
    if (SB_HAS_FIELD(sb_error, err, code))
        std::snprintf(err->code, sizeof err->code, "%.*s", static_cast<int>(code.size()), code.data());
    if (SB_HAS_FIELD(sb_error, err, message))
        std::snprintf(err->message, sizeof err->message, "%.*s", static_cast<int>(message.size()), message.data());
}

/// Sets the deferral of an SB_ERR_RETRY_AFTER answer (when the caller's sb_error has the field).
inline void fill_retry_after(sb_error* err, int64_t retry_after_ms) noexcept {
    if (err && SB_HAS_FIELD(sb_error, err, retry_after_ms)) err->retry_after_ms = retry_after_ms;
}

/// The deferral an SB_ERR_RETRY_AFTER answer asked for, in ms (0 when the writer had no such field).
inline int64_t retry_after_of(const sb_error& err) noexcept {
    return SB_HAS_FIELD(sb_error, &err, retry_after_ms) && err.retry_after_ms > 0 ? err.retry_after_ms : 0;
}

/// Setting spec `i` of a descriptor, stepped by the plugin's struct_size.
inline const sb_setting_spec& setting_spec_at(const sb_plugin_descriptor& d, size_t i) noexcept {
    return *SB_ARRAY_AT(sb_setting_spec, d.settings, d.settings[0].struct_size, i);
}

/// The choices of an enum setting (empty when the writer had no such field).
inline std::vector<std::string_view> setting_choices(const sb_setting_spec& spec) {
    std::vector<std::string_view> out;
    if (!SB_HAS_FIELD(sb_setting_spec, &spec, choices_count) || !spec.choices) return out;
    for (size_t i = 0; i < spec.choices_count; ++i)
        if (spec.choices[i]) out.emplace_back(spec.choices[i]);
    return out;
}

/// True when `name` is among the `count` NUL-terminated strings at `list`.
inline bool declares(const char* const* list, size_t count, std::string_view name) noexcept {
    for (size_t i = 0; list && i < count; ++i)
        if (list[i] && name == list[i]) return true;
    return false;
}

/// Name of a setting type as admins read it ("string", "int", ..., "map"); "unknown" past the known ones.
inline const char* setting_type_name(uint32_t type) noexcept {
    static const char* names[] = {"string", "int", "bool", "duration", "float", "enum", "list", "map", "rate"};
    return type < sizeof names / sizeof names[0] ? names[type] : "unknown";
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

/// A send rate: `count` sends per `per_ms` milliseconds (SB_SETTING_RATE).
struct rate {
    int64_t count = 0;
    int64_t per_ms = 0;
};

/// Parses an SB_SETTING_RATE value: "COUNT/DURATION" ("80/1s", "20/1m", "1/6s"; a bare unit as
/// in "30/s" means one of it), or "off".
/// @returns the rate; a rate with count 0 for "off"; nullopt when `text` is neither.
inline std::optional<rate> parse_rate(std::string_view text) {
    if (text == "off") return rate{};
    auto slash = text.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash > 9) return std::nullopt;
    int64_t count = 0;
    for (char c : text.substr(0, slash)) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
        count = count * 10 + (c - '0');
    }
    std::string per(text.substr(slash + 1));
    if (!per.empty() && !std::isdigit(static_cast<unsigned char>(per[0]))) per = "1" + per;
    auto ms = parse_duration_ms(per);
    if (count <= 0 || !ms || *ms <= 0) return std::nullopt;
    return rate{count, *ms};
}

/// The i-th rate limit of a descriptor (ABI 2.1; check rate_limits_count first).
inline const sb_rate_limit& rate_limit_at(const sb_plugin_descriptor& d, size_t i) noexcept {
    return *SB_ARRAY_AT(sb_rate_limit, d.rate_limits, d.rate_limits[0].struct_size, i);
}

/// The number of rate limits a descriptor declares: 0 for a plugin built before ABI 2.1.
inline size_t rate_limit_count(const sb_plugin_descriptor& d) noexcept {
    return SB_HAS_FIELD(sb_plugin_descriptor, &d, rate_limits_count) && d.rate_limits ? d.rate_limits_count : 0;
}

/// True when `text` is a JSON array of strings (list settings) or, with `map`, a JSON object of
/// strings (map settings).
inline bool is_json_string_collection(std::string_view text, bool map) {
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec) return false;
    auto strings = [](const auto& values) {
        for (auto& x : values)
            if (!x.is_string()) return false;
        return true;
    };
    if (map) {
        if (!v.is_object()) return false;
        for (auto& [k, x] : v.as_object())
            if (!x.is_string()) return false;
        return true;
    }
    return v.is_array() && strings(v.as_array());
}

/// What a value of setting `spec` must look like when `value` is not such a value ("a whole
/// number", "true or false", "a duration such as ...", "one of: a, b"), or nullopt when it is.
inline std::optional<std::string> setting_value_problem(const sb_setting_spec& spec, std::string_view value) {
    switch (spec.type) {
    case SB_SETTING_FLOAT: {
        std::string text(value);
        char* end = nullptr;
        double d = text.empty() || std::isspace(static_cast<unsigned char>(text[0])) ? 0 : std::strtod(text.c_str(), &end);
        bool ok = end && *end == '\0' && d == d && d - d == 0; // whole text, not NaN or infinite
        return ok ? std::nullopt : std::optional<std::string>("a number such as 0.75");
    }
    case SB_SETTING_ENUM: {
        auto choices = setting_choices(spec);
        std::string list;
        for (auto c : choices) {
            if (c == value) return std::nullopt;
            list += (list.empty() ? "" : ", ") + std::string(c);
        }
        return "one of: " + list;
    }
    case SB_SETTING_LIST:
        return is_json_string_collection(value, false) ? std::nullopt
                                                       : std::optional<std::string>("a list of strings");
    case SB_SETTING_MAP:
        return is_json_string_collection(value, true) ? std::nullopt
                                                      : std::optional<std::string>("a map of strings to strings");
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
    case SB_SETTING_RATE:
        return parse_rate(value) ? std::nullopt
                                 : std::optional<std::string>("a rate such as 80/1s, 20/1m or 1/6s, or off");
    default: return std::nullopt;
    }
}

/// "major.minor".
inline std::string abi_version_string(unsigned major, unsigned minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}

/// Why a plugin that exports only the ABI 1.x symbol (SB_PLUGIN_EXPORT_NAME_V1) cannot be used:
/// the refusal names both versions. Reads only the leading version fields, which every major keeps.
inline std::string legacy_export_problem(const sb_plugin_descriptor* d) {
    const std::string host_abi = abi_version_string(SB_ABI_MAJOR, SB_ABI_MINOR);
    std::string plugin_abi = d ? abi_version_string(d->abi_major, d->abi_minor) : std::string("1.x");
    return "built against SDK ABI " + plugin_abi + " but this host implements ABI " + host_abi +
           ": rebuild it against SDK " + host_abi + " (the 2.0 boundary is described in writing-plugins.md)";
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
    if (!SB_HAS_FIELD(sb_plugin_descriptor, d, run_stage))
        return "descriptor is smaller than ABI " + plugin_abi + " defines: rebuild it against SDK " + host_abi;
    for (size_t i = 0; i < d->settings_count; ++i) {
        if (!d->settings || d->settings[0].struct_size < offsetof(sb_setting_spec, description) + sizeof(const char*))
            return "corrupt setting declarations (struct_size too small)";
        auto& spec = setting_spec_at(*d, i);
        if (!spec.name || !*spec.name) return "setting " + std::to_string(i) + " has no name";
        if (spec.type > SB_SETTING_RATE)
            return "setting '" + std::string(spec.name) + "' has an unknown type " + std::to_string(spec.type);
        if (spec.type == SB_SETTING_ENUM && setting_choices(spec).empty())
            return "enum setting '" + std::string(spec.name) + "' declares no choices";
        if (spec.default_value)
            if (auto problem = setting_value_problem(spec, spec.default_value))
                return "setting '" + std::string(spec.name) + "' has a default that is not " + *problem;
    }
    for (size_t i = 0; i < rate_limit_count(*d); ++i) {
        if (d->rate_limits[0].struct_size < offsetof(sb_rate_limit, recipient_prefix) + sizeof(const char*))
            return "corrupt rate limit declarations (struct_size too small)";
        auto& limit = rate_limit_at(*d, i);
        const sb_setting_spec* spec = nullptr;
        for (size_t k = 0; limit.setting && k < d->settings_count; ++k)
            if (std::string_view(setting_spec_at(*d, k).name) == limit.setting) spec = &setting_spec_at(*d, k);
        if (!spec || spec->type != SB_SETTING_RATE)
            return "rate limit " + std::to_string(i) + " names setting '" + (limit.setting ? limit.setting : "") +
                   "', which is not a declared rate setting";
        if (limit.scope > SB_RATE_RECIPIENT || limit.unit > SB_RATE_SMS_SEGMENTS)
            return "rate limit '" + std::string(limit.setting) + "' has an unknown scope or unit";
    }
    bool name_ok = d->name && *d->name;
    for (const char* p = d->name; name_ok && *p; ++p)
        name_ok = std::islower(static_cast<unsigned char>(*p)) || std::isdigit(static_cast<unsigned char>(*p)) ||
                  *p == '-' || *p == '_';
    if (!name_ok) return "invalid plugin name: use lowercase letters, digits, '-' and '_'";
    if (!d->create || !d->destroy) return "descriptor lacks create/destroy";
    return std::nullopt;
}

}  // namespace switchboard::sdk
