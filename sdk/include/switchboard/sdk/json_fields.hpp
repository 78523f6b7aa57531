// switchboard/sdk/json_fields.hpp — reading fields of untrusted provider JSON without throwing:
// providers write ids as strings or numbers, and any field may be missing or of another type.
// Header-only over Boost.JSON.
#pragma once

#include <boost/json.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::sdk::json_fields {

/// The text of `o[key]`: a string as is, an integer in decimal (ids written as numbers); "" when
/// absent or of another type.
inline std::string text_at(const boost::json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (!v) return {};
    if (auto* s = v->if_string()) return std::string(*s);
    if (auto* i = v->if_int64()) return std::to_string(*i);
    if (auto* u = v->if_uint64()) return std::to_string(*u);
    return {};
}

/// `o[key]` when it is an object, else nullptr.
inline const boost::json::object* object_at(const boost::json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v ? v->if_object() : nullptr;
}

/// `o[key]` when it is an array, else nullptr.
inline const boost::json::array* array_at(const boost::json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v ? v->if_array() : nullptr;
}

/// `o[key]` as a whole number: an integer, or a string of decimal digits with an optional '-'
/// (providers stringify numbers); nullopt otherwise.
inline std::optional<int64_t> int_at(const boost::json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (!v) return std::nullopt;
    if (v->is_int64()) return v->as_int64();
    if (v->is_uint64() && v->as_uint64() < (1ULL << 62)) return static_cast<int64_t>(v->as_uint64());
    if (auto* s = v->if_string()) {
        int64_t n = 0;
        auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), n);
        if (!s->empty() && ec == std::errc{} && end == s->data() + s->size()) return n;
    }
    return std::nullopt;
}

/// The customer's words a message.received event asks to answer: the texts of "burst" joined by
/// newlines when the host coalesced several messages into it (a tenant's reply_debounce), else
/// its "text"; "" when there is none.
inline std::string message_text(const boost::json::object& event) {
    if (const auto* burst = object_at(event, "burst"))
        if (const auto* texts = array_at(*burst, "texts")) {
            std::string joined;
            for (const auto& t : *texts)
                if (t.is_string() && !t.get_string().empty()) joined += (joined.empty() ? "" : "\n") + std::string(t.get_string());
            if (!joined.empty()) return joined;
        }
    return text_at(event, "text");
}

}  // namespace switchboard::sdk::json_fields
