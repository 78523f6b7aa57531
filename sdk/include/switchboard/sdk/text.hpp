// switchboard/sdk/text.hpp — small text helpers that the host, the SDK's fake host and plugins
// share: did-you-mean suggestions, a constant-time comparison for secrets, UTF-8 validation and
// log-safe rendering of untrusted strings. Header-only; depends only on the standard library.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::sdk::text {

/// Levenshtein distance: single-character insertions, deletions and substitutions that turn `a`
/// into `b`. Quadratic: meant for key and setting names, not message text.
inline std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

/// The candidate closest to `word` when it is close enough to be a likely misspelling (at most
/// max(2, |word|/3) edits; ties go to the earlier candidate), else nullopt.
template <typename Range>
std::optional<std::string> did_you_mean(std::string_view word, const Range& candidates) {
    std::optional<std::string> best;
    std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
    for (const auto& c : candidates) {
        std::size_t d = edit_distance(word, std::string_view(c));
        if (d < best_distance) {
            best_distance = d;
            best = std::string(c);
        }
    }
    return best;
}

/// Compares a presented secret (`received`: a verify token, a shared webhook secret) with the
/// configured one (`expected`) in time that depends only on the configured secret's length, so a
/// forger learns nothing from where the first difference is, nor from timing 401s.
/// @returns true when equal.
inline bool constant_time_equal(std::string_view received, std::string_view expected) noexcept {
    volatile unsigned char diff = received.size() == expected.size() ? 0 : 1;
    for (std::size_t i = 0; i < expected.size(); ++i)
        diff = diff | static_cast<unsigned char>(expected[i] ^ (i < received.size() ? received[i] : 0));
    return diff == 0;
}

namespace detail {
/// Length of the well-formed UTF-8 sequence at s[i], or 0 when none starts there.
inline std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) return 1;
    std::size_t n = c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2 : c >= 0xF0 && c <= 0xF4 ? 3 : 0;
    if (n == 0 || i + n >= s.size()) return 0;
    auto c1 = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F))
        return 0;
    for (std::size_t k = 1; k <= n; ++k)
        if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
    return n + 1;
}
}  // namespace detail

inline bool is_valid_utf8(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        std::size_t n = detail::utf8_sequence_length(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

/// `s` with every byte that does not start a well-formed UTF-8 sequence replaced by U+FFFD
/// (the replacement character); `s` itself when it is valid. For parsing authenticated payloads
/// that carry a stray Latin-1 byte: the text survives, marked where it was damaged.
inline std::string to_valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        std::size_t n = detail::utf8_sequence_length(s, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(s.substr(i, n));
            i += n;
        }
    }
    return out;
}

/// JSON text with every lone UTF-16 surrogate escape (a `\uD800`–`\uDFFF` that is not half of a
/// high+low pair, RFC 8259 §8.2) replaced by `\uFFFD`, so a parser that refuses them (Boost.JSON)
/// loses only that character rather than the whole document. Other text is unchanged.
inline std::string repair_lone_surrogates(std::string_view json) {
    auto hex4 = [&](std::size_t at) -> long {
        if (at + 6 > json.size() || json[at] != '\\' || json[at + 1] != 'u') return -1;
        long v = 0;
        for (std::size_t k = at + 2; k < at + 6; ++k) {
            char c = json[k];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) return -1;
            v = v * 16 + d;
        }
        return v;
    };
    std::string out;
    out.reserve(json.size());
    bool in_string = false;
    for (std::size_t i = 0; i < json.size();) {
        char c = json[i];
        if (!in_string) {
            in_string = c == '"';
            out += c;
            ++i;
            continue;
        }
        if (c == '"') {
            in_string = false;
            out += c;
            ++i;
            continue;
        }
        if (c != '\\' || i + 1 >= json.size()) {
            out += c;
            ++i;
            continue;
        }
        long v = hex4(i);
        if (v < 0) { // another escape: copy both characters, so an escaped backslash never starts a \\u
            out.append(json.substr(i, 2));
            i += 2;
            continue;
        }
        if (v >= 0xD800 && v <= 0xDBFF) {
            long low = hex4(i + 6);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                out.append(json.substr(i, 12));
                i += 12;
                continue;
            }
            out += "\\uFFFD";
        } else if (v >= 0xDC00 && v <= 0xDFFF) {
            out += "\\uFFFD";
        } else {
            out.append(json.substr(i, 6));
        }
        i += 6;
    }
    return out;
}

/// Authenticated JSON text made parseable where it is damaged: to_valid_utf8, then
/// repair_lone_surrogates. @returns nullopt when nothing needs repair (the common case: valid
/// UTF-8 without any \uD800–\uDFFF escape), so callers parse `json` itself without a copy.
inline std::optional<std::string> repaired_json_text(std::string_view json) {
    bool surrogate_escape = false;
    for (std::size_t i = json.find("\\u"); i != std::string_view::npos && !surrogate_escape; i = json.find("\\u", i + 2))
        surrogate_escape = i + 2 < json.size() && (json[i + 2] == 'd' || json[i + 2] == 'D');
    if (!surrogate_escape && is_valid_utf8(json)) return std::nullopt;
    return repair_lone_surrogates(to_valid_utf8(json));
}

/// `s` made safe to print in a log line or an error body: at most `max_bytes` bytes, control
/// characters, NUL and bytes outside printable ASCII replaced by '?', "…" appended when cut.
inline std::string printable(std::string_view s, std::size_t max_bytes = 64) {
    std::string out;
    for (std::size_t i = 0; i < s.size() && i < max_bytes; ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        out += c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?';
    }
    if (s.size() > max_bytes) out += "...";
    return out;
}

}  // namespace switchboard::sdk::text
