// switchboard/sdk/codec.hpp — the encodings every provider needs: form bodies
// (application/x-www-form-urlencoded, with PHP-style bracket keys such as data[FIELDS][ID] as
// Bitrix24 sends them), base64 and base64url (RFC 4648 §4, §5), hex. Header-only; base64 comes
// from OpenSSL (link OpenSSL::Crypto; Switchboard::sdk does).
#pragma once

#include <boost/json.hpp>
#include <openssl/evp.h>

#include <cctype>
#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::sdk::codec {

namespace detail {
/// The value of hex digit `h` (either case), or -1.
inline int hex_digit(char h) noexcept {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;
}
}  // namespace detail

/// Form fields in order, as (name, value) pairs.
using form_fields = std::vector<std::pair<std::string, std::string>>;

/// Percent-encodes one form component (WHATWG application/x-www-form-urlencoded serializer:
/// ALPHA / DIGIT / "*-._" kept, space as '+', every other byte as %XX in upper case).
inline std::string form_escape(std::string_view in) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(in.size());
    for (unsigned char c : in) {
        if (std::isalnum(c) || c == '*' || c == '-' || c == '.' || c == '_') out.push_back(static_cast<char>(c));
        else if (c == ' ') out.push_back('+');
        else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

/// Decodes one form component: '+' is a space, %XX a byte; a '%' not followed by two hex digits
/// is kept as it is (as browsers do).
inline std::string form_unescape(std::string_view in) {
    using detail::hex_digit;
    std::string out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '+') out.push_back(' ');
        else if (c == '%' && i + 2 < in.size() && hex_digit(in[i + 1]) >= 0 && hex_digit(in[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_digit(in[i + 1]) * 16 + hex_digit(in[i + 2])));
            i += 2;
        } else out.push_back(c);
    }
    return out;
}

/// Encodes fields as a form body: "a=1&b=x+y".
inline std::string form_encode(const form_fields& fields) {
    std::string out;
    for (auto& [k, v] : fields) {
        if (!out.empty()) out.push_back('&');
        out += form_escape(k);
        out.push_back('=');
        out += form_escape(v);
    }
    return out;
}

/// Parses a form body (or a URL's query) into its fields, in order; empty pairs are skipped, a
/// name without '=' has the value "".
inline form_fields form_decode(std::string_view body) {
    form_fields out;
    while (!body.empty()) {
        auto amp = body.find('&');
        std::string_view pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        out.emplace_back(form_unescape(pair.substr(0, eq)),
                         eq == std::string_view::npos ? std::string() : form_unescape(pair.substr(eq + 1)));
    }
    return out;
}

/// The first value of field `name`, or nullopt.
inline std::optional<std::string> form_value(const form_fields& fields, std::string_view name) {
    for (auto& [k, v] : fields)
        if (k == name) return v;
    return std::nullopt;
}

/// Nests form fields with bracket keys into JSON, as PHP does: "data[FIELDS][ID]=5" becomes
/// {"data":{"FIELDS":{"ID":"5"}}}, "tags[]=a&tags[]=b" becomes {"tags":["a","b"]}; values stay
/// strings. A key that is first a value and then a container (or the reverse) keeps the later
/// one. At most 32 levels; deeper brackets stay part of the last key.
inline boost::json::object form_to_json(const form_fields& fields) {
    boost::json::object root;
    for (auto& [key, value] : fields) {
        std::vector<std::string> path;
        auto open = key.find('[');
        path.push_back(key.substr(0, open));
        while (open != std::string::npos && path.size() < 32) {
            auto close = key.find(']', open);
            if (close == std::string::npos) {
                path.back() += key.substr(open); // unbalanced: the rest is part of the name
                break;
            }
            path.push_back(key.substr(open + 1, close - open - 1));
            open = close + 1 < key.size() && key[close + 1] == '[' ? close + 1 : std::string::npos;
            if (open == std::string::npos && close + 1 < key.size()) path.back() += key.substr(close + 1);
        }
        boost::json::value* node = nullptr;
        boost::json::object* obj = &root;
        for (size_t i = 0; i < path.size(); ++i) {
            const bool last = i + 1 == path.size();
            const std::string& part = path[i];
            if (node && node->is_array()) { // "name[]": append
                auto& arr = node->as_array();
                if (last) {
                    arr.emplace_back(value);
                    break;
                }
                arr.emplace_back(boost::json::object{});
                obj = &arr.back().as_object();
                node = nullptr;
                continue;
            }
            if (last) {
                (*obj)[part] = value;
                break;
            }
            const bool next_is_append = path[i + 1].empty();
            auto& slot = (*obj)[part];
            if (next_is_append ? !slot.is_array() : !slot.is_object()) {
                if (next_is_append) slot = boost::json::array{};
                else slot = boost::json::object{};
            }
            node = &slot;
            if (slot.is_object()) obj = &slot.as_object();
        }
    }
    return root;
}

/// Flattens JSON into form fields with bracket keys (the inverse of form_to_json): objects as
/// name[key], arrays as name[0], name[1]...; strings as they are, integers and booleans as JSON
/// writes them, other numbers in their shortest decimal form ("12.5"), null as "". What Bitrix24's REST API takes (fields[TITLE]=...).
inline form_fields json_to_form(const boost::json::object& o) {
    form_fields out;
    auto walk = [&](auto& self, const std::string& name, const boost::json::value& v) -> void {
        if (v.is_object()) {
            for (auto& [k, x] : v.as_object()) self(self, name + "[" + std::string(k) + "]", x);
        } else if (v.is_array()) {
            size_t i = 0;
            for (auto& x : v.as_array()) self(self, name + "[" + std::to_string(i++) + "]", x);
        } else if (v.is_string()) {
            out.emplace_back(name, std::string(v.as_string()));
        } else if (v.is_double()) { // shortest round-trip form, "12.5" (JSON would write 1.25E1)
            char buf[32];
            auto end = std::to_chars(buf, buf + sizeof buf, v.as_double()).ptr;
            out.emplace_back(name, std::string(buf, end));
        } else {
            out.emplace_back(name, v.is_null() ? std::string() : boost::json::serialize(v));
        }
    };
    for (auto& [k, v] : o) walk(walk, std::string(k), v);
    return out;
}

/// Standard base64 with padding (RFC 4648 §4).
inline std::string base64_encode(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

/// Decodes standard base64 (padding optional, no whitespace). @returns nullopt when `text` is not base64.
inline std::optional<std::string> base64_decode(std::string_view text) {
    std::string padded(text);
    if (padded.size() % 4 == 1) return std::nullopt;
    while (padded.size() % 4) padded.push_back('=');
    for (size_t i = 0; i < padded.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(padded[i]);
        bool pad_ok = c == '=' && i + 2 >= padded.size() && (i + 1 == padded.size() || padded[i + 1] == '=');
        if (!std::isalnum(c) && c != '+' && c != '/' && !pad_ok) return std::nullopt;
    }
    std::string out(padded.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(padded.data()), static_cast<int>(padded.size()));
    if (n < 0) return std::nullopt;
    size_t pad = 0;
    for (size_t i = padded.size(); i > 0 && padded[i - 1] == '='; --i) ++pad;
    out.resize(static_cast<size_t>(n) - pad);
    return out;
}

/// URL- and filename-safe base64 without padding (RFC 4648 §5, as JWT and Web Push use it).
inline std::string base64url_encode(std::string_view bytes) {
    std::string s = base64_encode(bytes);
    while (!s.empty() && s.back() == '=') s.pop_back();
    for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
    return s;
}

/// Decodes base64url, padded or not. @returns nullopt when `text` is not base64url.
inline std::optional<std::string> base64url_decode(std::string_view text) {
    std::string s(text);
    for (char& c : s) {
        if (c == '+' || c == '/') return std::nullopt;
        c = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    return base64_decode(s);
}

/// Lower-case hex of `bytes`.
inline std::string hex_encode(std::string_view bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

/// Decodes hex (either case). @returns nullopt on an odd length or a non-hex digit.
inline std::optional<std::string> hex_decode(std::string_view text) {
    if (text.size() % 2) return std::nullopt;
    using detail::hex_digit;
    std::string out;
    out.reserve(text.size() / 2);
    for (size_t i = 0; i < text.size(); i += 2) {
        int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
    }
    return out;
}

}  // namespace switchboard::sdk::codec
