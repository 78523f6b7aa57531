// switchboard/templates/text.hpp — the little Unicode the template responder needs.
//
// Customers write in English and Mongolian (Cyrillic), in any case, with punctuation and emoji.
// std::tolower works on single bytes and knows nothing of UTF-8, so lowercasing and word splitting
// are done here on code points. Invalid UTF-8 never throws: bad bytes are treated as separators.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace switchboard::templates {

/// Lowercases UTF-8 text: ASCII A–Z, Latin-1 À–Þ, and Cyrillic — Russian А–Я, Ѐ–Џ (Ё → ё), and the
/// paired letters of U+0460–U+052F, which include Mongolian Ө → ө and Ү → ү.
/// @returns the lowercased text; other code points are copied unchanged, invalid bytes as they are.
std::string utf8_lower(std::string_view text);

/// Prepares text for keyword matching:
///   - lowercases it (utf8_lower);
///   - folds ө → о, ү → у and ё → е, because many people type Mongolian on a Russian keyboard layout
///     that lacks ө and ү (and rarely type ё);
///   - keeps letters and digits (ASCII, Latin-1 and Latin Extended letters, Cyrillic, combining
///     marks) and turns everything else — spaces, punctuation, emoji, invalid bytes — into word
///     separators;
/// @returns the words joined by single spaces, without leading or trailing space ("" when none).
std::string normalize_for_matching(std::string_view text);

/// Decodes UTF-8 into code points; an invalid byte becomes U+FFFD.
std::u32string utf8_to_u32(std::string_view text);

/// Encodes code points as UTF-8 (the inverse of utf8_to_u32 for valid text).
std::string u32_to_utf8(std::u32string_view text);

/// How many letters of each script a text contains.
struct letter_counts {
    std::size_t latin = 0;     ///< ASCII letters plus Latin-1 / Latin Extended-A/B letters
    std::size_t cyrillic = 0;  ///< U+0400–U+052F
};

/// Counts Latin and Cyrillic letters in UTF-8 text (digits, punctuation and emoji count as neither).
letter_counts count_letters(std::string_view text);

}  // namespace switchboard::templates
