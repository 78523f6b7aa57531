// switchboard/templates/spelling.hpp — how customers actually spell, for keyword matching.
//
// Customers of Mongolian shops write Mongolian in Cyrillic with or without ө/ү, with colloquial
// abbreviations ("бн" for "байна"), and very often in Latin letters with no standard ("sain bn uu",
// "une hed ve", "hvrgelt", "tulbur"); English customers make typos ("delivry", "refnd"). The
// matcher compares words after the steps below, so one Cyrillic keyword list serves all of them.
//
// Every function works on text already passed through normalize_for_matching() (lowercase words
// separated by single spaces), decoded to code points.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace switchboard::templates {

/// One word for matching, as code points.
using word = std::u32string;

/// Decodes normalize_for_matching() output (valid UTF-8) into its space-separated words.
std::vector<word> split_words(std::string_view normalized);

/// Folds a Cyrillic word to the spelling-insensitive form keywords and messages are compared in:
/// э → е, й and ы → и, "ии" → и, "тс" → ц (typed "ts" in Latin: гэмтсэн, gemtsen), ь and ъ dropped (besides the ө → о, ү → у, ё → е of
/// normalize_for_matching). Other code points are unchanged. @returns "" when nothing is left.
word fold_cyrillic(const word& w);

/**
 * Transliterates a Latin-script Mongolian word to Cyrillic the way phone users type it:
 * sh ш, ch ч, ts ц, kh х, zh ж, ya я, yu ю, yo ё, ye е; c ц, h х, x х, j ж, q ө, w в, y и,
 * e э, u у, ö ө, ü ү, and v as ү before a consonant or at the end unless it follows a vowel
 * ("vne" үнэ, "hvn" хүн) and as в otherwise ("ve" вэ, "avmaar" авмаар). Non-Latin code points are
 * copied. The result is then folded (fold_cyrillic), so ambiguous letters (e э, i й ы) agree.
 */
word latin_to_cyrillic(const word& w);

/// True when the word contains a Latin letter (a–z, or Latin-1 / Latin Extended).
bool has_latin_letter(const word& w);

/// Expands the colloquial abbreviations of folded Cyrillic words into the words they stand for:
/// бн / бна → баина, бну / бнуу → баина уу, ю → юу, болху(у) → болох уу, бгаа → баигаа, бх → баих, бхгуи → баихгуи, сн → саин,
/// сну / снуу → саин уу, хедве → хед ве. Words not in the table are kept as they are.
std::vector<word> expand_abbreviations(std::vector<word> words);

/// The forms a message is matched in: its folded, expanded words; and, when it has Latin words,
/// the same with those words transliterated (latin_to_cyrillic) — the Mongolian reading of them.
struct spelling_forms {
    std::vector<word> as_written;      ///< folded Cyrillic, Latin words unchanged
    std::vector<word> transliterated;  ///< empty when the message has no Latin word
};

/// Builds both forms from normalize_for_matching() output.
spelling_forms forms_for_matching(std::string_view normalized);

/// The keyword form of normalize_for_matching() output: folded and expanded like a message's
/// as_written form, so a keyword always matches the text it was written as.
std::vector<word> keyword_words(std::string_view normalized);

/// Compares code points for matching. In `loose` mode (a Latin-typed word read as Mongolian) о and
/// у are one letter, because people type ө and ү, о and у all as "o" or "u" ("tulbur", "tolbor").
bool same_letter(char32_t a, char32_t b, bool loose) noexcept;

/// True when `a` and `b` are equal or one typo apart (one substitution, insertion, deletion or
/// swap of adjacent letters: optimal string alignment distance ≤ 1), comparing with same_letter().
bool within_one_typo(const word& a, const word& b, bool loose) noexcept;

}  // namespace switchboard::templates
