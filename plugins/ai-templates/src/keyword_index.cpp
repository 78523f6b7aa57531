#include <switchboard/templates/keyword_index.hpp>
#include <switchboard/templates/locale.hpp>
#include <switchboard/templates/spelling.hpp>
#include <switchboard/templates/text.hpp>

#include "json_document.hpp"

#include <switchboard/sdk/plugin.hpp>

#include <algorithm>
#include <array>

namespace switchboard::templates {
namespace {

// A message word against a keyword word: equal, or one typo apart when the keyword is a Latin word
// long enough for a typo not to make it another word and the first letters agree (typos rarely hit
// the first letter). Cyrillic keywords are left exact: in Mongolian one letter more or less is a
// suffix that changes the meaning (ажилтан staff, ажилтанд to the staff; залга call, зага), and
// the spelling variants customers do use are folded away before comparing (spelling.hpp) — except
// in a Latin-typed message read as Mongolian, where a keyword of six letters or more also allows one
// typo, for there is no keyboard check at all ("hunte yarih").
constexpr std::size_t typo_min_letters = 5;

// A short word read loosely (о = у) turns into other words too often: "one" is not "үнэ".
constexpr std::size_t loose_min_letters = 4;

char32_t index_letter(char32_t first) noexcept { return first == U'у' ? U'о' : first; }

bool letters_equal(std::u32string_view a, std::u32string_view b, bool loose) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [&](char32_t x, char32_t y) { return same_letter(x, y, loose); });
}

bool could_be_typo(const word& k, bool loose) {
    return has_latin_letter(k) ? k.size() >= typo_min_letters : loose && k.size() > typo_min_letters;
}

// The message word stretched at its end ("hiii", "heyyy", "ууу") reads as the word itself.
bool stretched(std::u32string_view w, std::u32string_view k, bool loose) {
    if (k.empty() || w.size() <= k.size() || !letters_equal(w.substr(0, k.size()), k, loose)) return false;
    return std::all_of(w.begin() + static_cast<std::ptrdiff_t>(k.size()), w.end(),
                       [&](char32_t c) { return same_letter(c, k.back(), loose); });
}

bool word_matches(const word& w, const word& k, bool loose) {
    loose = loose && k.size() >= loose_min_letters;
    if (w.empty() || !same_letter(w.front(), k.front(), loose)) return false;  // every way to match needs it
    if (letters_equal(w, k, loose) || stretched(w, k, loose)) return true;
    return could_be_typo(k, loose) && within_one_typo(w, k, loose);
}

// A message word against a stem: it starts with the stem, or with something one typo from it.
bool starts_with(const word& w, const word& stem, bool loose) {
    loose = loose && stem.size() >= loose_min_letters;
    if (w.empty() || !same_letter(w.front(), stem.front(), loose)) return false;
    if (w.size() >= stem.size() && letters_equal(std::u32string_view(w).substr(0, stem.size()), stem, loose))
        return true;
    if (!could_be_typo(stem, loose)) return false;
    for (std::size_t n = stem.size() - 1; n <= stem.size() + 1 && n <= w.size(); ++n)
        if (within_one_typo(w.substr(0, n), stem, loose)) return true;
    return false;
}

}  // namespace

bool keyword_index::add(std::string_view raw, std::size_t tag) {
    const bool stem = !raw.empty() && raw.back() == '*';
    if (stem) raw.remove_suffix(1);
    keyword k{keyword_words(normalize_for_matching(raw)), stem};
    if (k.words.empty()) return false;
    k.open_end = stem || k.words.size() > 1;
    if (keywords_.size() <= tag) keywords_.resize(tag + 1);
    auto& list = keywords_[tag];
    if (std::find(list.begin(), list.end(), k) != list.end()) return true;
    by_first_letter_[index_letter(k.words.front().front())].emplace_back(tag, list.size());
    list.push_back(std::move(k));
    return true;
}

std::size_t keyword_index::count(std::size_t tag) const noexcept {
    return tag < keywords_.size() ? keywords_[tag].size() : 0;
}

bool keyword_index::occurs_at(const keyword& kw, const std::vector<word>& words, std::size_t at, bool loose) {
    const std::size_t n = kw.words.size();
    if (at + n > words.size()) return false;
    for (std::size_t j = 0; j < n; ++j) {
        const bool open = kw.open_end && j + 1 == n;
        if (!(open ? starts_with(words[at + j], kw.words[j], loose) : word_matches(words[at + j], kw.words[j], loose)))
            return false;
    }
    return true;
}

std::vector<keyword_index::hit> keyword_index::find_all(std::string_view text) const {
    std::vector<hit> hits;
    if (by_first_letter_.empty()) return hits;
    const spelling_forms forms = forms_for_matching(normalize_for_matching(text));
    auto scan = [&](const std::vector<word>& words, bool loose) {
        for (std::size_t at = 0; at < words.size(); ++at) {
            // Every way of matching needs the first letters to agree: only those keywords are tried.
            auto candidates = by_first_letter_.find(index_letter(words[at].front()));
            if (candidates == by_first_letter_.end()) continue;
            for (const auto& [tag, k] : candidates->second)
                if (occurs_at(keywords_[tag][k], words, at, loose))
                    hits.push_back({tag, loose, at, at + keywords_[tag][k].words.size()});
        }
    };
    scan(forms.as_written, false);
    scan(forms.transliterated, true);
    std::stable_sort(hits.begin(), hits.end(), [](const hit& a, const hit& b) { return a.tag < b.tag; });
    return hits;
}

keyword_index keyword_index::from_catalog(const boost::json::value& catalog, std::string_view source,
                                          std::span<const std::string_view> names, std::string_view noun) {
    using sdk::error_kind;
    using sdk::plugin_error;
    const std::string where(source), what(noun);
    std::string names_list;
    for (auto n : names) names_list += (names_list.empty() ? "" : ", ") + std::string(n);
    if (!catalog.is_object())
        throw plugin_error(error_kind::invalid, where + ": the document is " + std::string(detail::describe_kind(catalog)) +
                                                    ", expected an object of locales (\"en\", \"mn\")");
    const std::array<std::string_view, locale_count> locale_codes = {locale_code(locale::en), locale_code(locale::mn)};

    keyword_index index;
    index.keywords_.resize(names.size());
    for (const auto& [locale_key, per_name] : catalog.as_object()) {
        const std::string lkey(locale_key);
        if (!parse_locale(lkey))
            throw plugin_error(error_kind::invalid, where + ": unknown locale '" + lkey + "'" +
                                                        detail::did_you_mean(lkey, locale_codes) + ": use en or mn");
        if (!per_name.is_object())
            throw plugin_error(error_kind::invalid, where + ": '" + lkey + "' is " +
                                                        std::string(detail::describe_kind(per_name)) +
                                                        ", expected an object of " + what + " → keyword list");
        for (const auto& [name, keywords] : per_name.as_object()) {
            const std::string key = lkey + "." + std::string(name);
            auto found = std::find(names.begin(), names.end(), std::string_view(name));
            if (found == names.end())
                throw plugin_error(error_kind::invalid, where + ": unknown " + what + " '" + key + "'" +
                                                            detail::did_you_mean(name, names) + "; " + what +
                                                            "s that take keywords are: " + names_list);
            if (!keywords.is_array())
                throw plugin_error(error_kind::invalid, where + ": '" + key + "' is " +
                                                            std::string(detail::describe_kind(keywords)) +
                                                            ", expected an array of keyword strings");
            std::size_t n = 0;
            for (const auto& kw : keywords.as_array()) {
                const std::string at = key + "[" + std::to_string(n++) + "]";
                if (!kw.is_string())
                    throw plugin_error(error_kind::invalid, where + ": '" + at + "' is " +
                                                                std::string(detail::describe_kind(kw)) +
                                                                ", expected a keyword string");
                if (!index.add(kw.as_string(), static_cast<std::size_t>(found - names.begin())))
                    throw plugin_error(error_kind::invalid,
                                       where + ": '" + at + "' has no letter or digit to match: remove it");
            }
        }
    }
    return index;
}

}  // namespace switchboard::templates
