// switchboard/templates/keyword_index.hpp — keywords and phrases found in customer messages the way
// customers spell them. The intent matcher (intent.hpp) and the lead signal matcher (signals.hpp)
// are both a keyword_index whose tags are their intents or signals.
#pragma once

#include <boost/json/value.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace switchboard::templates {

/**
 * Keywords, each under a tag (an index chosen by the owner), found in text.
 *
 * Matching works on normalize_for_matching() text (see text.hpp): case-insensitive for Latin and
 * Cyrillic, punctuation and emoji ignored; words are then compared as spelling.hpp describes, so
 * Mongolian typed without ө/ү, with э/е or й/ы/и mixed up, with colloquial abbreviations ("бн") or
 * in Latin letters ("sain bn uu", "une hed ve") matches the Cyrillic keywords. A keyword matches
 *   - "word"        when the message contains that whole word ("hi" matches "hi!" but not "this");
 *   - "stem*"       when a word of the message starts with the stem, for inflected languages
 *                   ("захиалг*" matches "захиалга", "захиалгаа", "захиалгын");
 *   - "two words"   (any keyword with a space) when the words occur in a row; the last may run into
 *                   a suffix ("хүнтэй ярих" matches "хүнтэй ярихыг").
 * A Latin keyword word of five letters or more also matches a word one typo away with the same first
 * letter (a letter wrong, added, missing or two swapped: "delivry", "refnd"), and a stem a word
 * beginning one typo away from it; a word stretched at its end ("hiii", "heyyy") matches the word;
 * a Latin-typed word read as Mongolian also takes о and у as one letter ("tulbur" → төлбөр).
 */
class keyword_index {
public:
    /// Where a keyword occurred: its tag, which reading of the message, and the words it covered.
    struct hit {
        std::size_t tag;
        bool transliterated;  ///< found in the Latin-typed-as-Mongolian reading
        std::size_t begin, end;
        /// True when `other` covers this hit's words and more, in the same reading.
        bool inside(const hit& other) const noexcept {
            return transliterated == other.transliterated && other.begin <= begin && end <= other.end &&
                   other.end - other.begin > end - begin;
        }
    };

    /// Adds a keyword ("word", "stem*", "a phrase") under `tag`; a duplicate under the same tag is
    /// ignored. @returns false (nothing added) when it has no letter or digit to match.
    bool add(std::string_view keyword, std::size_t tag);

    /// Number of distinct keywords under `tag`.
    std::size_t count(std::size_t tag) const noexcept;

    /// Every occurrence of every keyword in `text` (UTF-8), ordered by tag (stable otherwise).
    std::vector<hit> find_all(std::string_view text) const;

    /**
     * Fills an index from a catalog shaped {"<locale>": {"<name>": ["keyword", ...], ...}, ...}, the
     * shape of share/templates/intents.json and signals.json; a keyword under names[i] gets tag i.
     * @param source  what to call the document in error messages (a file name)
     * @param noun    what the names are, for error messages ("intent", "signal")
     * @throws sdk::plugin_error(invalid) naming `source` and the key when the document is not of that
     *         shape, names a locale other than en and mn or a name not in `names`, or holds a keyword
     *         without a letter or digit.
     */
    static keyword_index from_catalog(const boost::json::value& catalog, std::string_view source,
                                      std::span<const std::string_view> names, std::string_view noun);

private:
    struct keyword {
        std::vector<std::u32string> words;  ///< folded words (spelling.hpp keyword_words)
        bool open_end = false;              ///< the last word may run into a suffix (stems, phrases)
        bool operator==(const keyword&) const = default;
    };
    /// True when `kw` matches the words starting at `at` (loose: the words are a Latin-typed
    /// reading, see spelling.hpp).
    static bool occurs_at(const keyword& kw, const std::vector<std::u32string>& words, std::size_t at, bool loose);

    std::vector<std::vector<keyword>> keywords_;  ///< by tag
    /// (tag, keyword index) by the first letter of the keyword, у and о as one (see same_letter).
    std::unordered_map<char32_t, std::vector<std::pair<std::size_t, std::size_t>>> by_first_letter_;
};

}  // namespace switchboard::templates
