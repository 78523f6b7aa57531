// switchboard/core/json_fields.hpp — reading fields of normalized events and commands (Boost.JSON
// objects), shared by the store, dispatch and delivery rooms: absent or mistyped fields read as the
// fallback, never throw. Include it from .cpp files only (it brings in Boost.JSON).
#pragma once

#include <boost/json.hpp>

#include <cmath>
#include <cstdint>
#include <string>

namespace switchboard::core::json_fields {

/// The string at `key`, or "" when absent or not a string.
inline std::string str(const boost::json::object& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

/// The integer at `key` (a double is truncated when representable), or `fallback`.
inline int64_t num(const boost::json::object& o, const char* key, int64_t fallback = 0) {
    auto it = o.find(key);
    if (it == o.end()) return fallback;
    const auto& v = it->value();
    if (v.is_int64()) return v.as_int64();
    if (v.is_uint64()) return v.as_uint64() <= static_cast<uint64_t>(INT64_MAX) ? static_cast<int64_t>(v.as_uint64()) : fallback;
    if (v.is_double() && std::isfinite(v.as_double()) && std::fabs(v.as_double()) < 9.0e18)
        return static_cast<int64_t>(v.as_double());
    return fallback;
}

/// The object at `key`, or nullptr.
inline const boost::json::object* obj(const boost::json::object& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_object() ? &it->value().as_object() : nullptr;
}

}  // namespace switchboard::core::json_fields
