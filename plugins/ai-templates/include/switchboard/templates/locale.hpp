// switchboard/templates/locale.hpp — the reply languages the template responder ships.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace switchboard::templates {

/// A reply language. Every intent has a reply in each of them (see share/templates/replies.json).
enum class locale : unsigned char {
    en,  ///< English
    mn   ///< Mongolian (Cyrillic script)
};

inline constexpr std::size_t locale_count = 2;

/// Every locale, in the order used for indexing and listing.
inline constexpr std::array<locale, locale_count> all_locales = {locale::en, locale::mn};

/// The code used in settings and JSON keys: "en" or "mn".
constexpr std::string_view locale_code(locale l) noexcept { return l == locale::mn ? "mn" : "en"; }

/// Parses a locale code ("en", "mn"; exact, lowercase). @returns nullopt for anything else.
constexpr std::optional<locale> parse_locale(std::string_view code) noexcept {
    for (locale l : all_locales)
        if (locale_code(l) == code) return l;
    return std::nullopt;
}

/// Index of a locale in arrays of locale_count entries.
constexpr std::size_t index_of(locale l) noexcept { return static_cast<std::size_t>(l); }

}  // namespace switchboard::templates
