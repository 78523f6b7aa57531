#include <switchboard/templates/intent.hpp>
#include <switchboard/templates/locale.hpp>
#include <switchboard/templates/shipped_data.hpp>
#include <switchboard/templates/spelling.hpp>
#include <switchboard/templates/text.hpp>

#include "json_document.hpp"

#include <switchboard/sdk/plugin.hpp>

#include <algorithm>

namespace switchboard::templates {
namespace {

constexpr std::array<std::string_view, intent_count> names = {
    "handoff",  "complaint",  "return",         "order_status", "payment",   "shipping",
    "size_guide", "product_search", "greeting", "fallback",     "attachment"};

std::string_view matchable_names_list() {
    static const std::string list = [] {
        std::string s;
        for (intent i : matchable_intents) s += (s.empty() ? "" : ", ") + std::string(intent_name(i));
        return s;
    }();
    return list;
}

}  // namespace

std::string_view intent_name(intent i) noexcept { return names[index_of(i)]; }

std::optional<intent> parse_intent(std::string_view name) noexcept {
    for (intent i : all_intents)
        if (names[index_of(i)] == name) return i;
    return std::nullopt;
}

intent_matcher intent_matcher::from_json(const boost::json::value& catalog, std::string_view source) {
    using sdk::error_kind;
    using sdk::plugin_error;
    const std::string where(source);
    if (!catalog.is_object())
        throw plugin_error(error_kind::invalid, where + ": the document is " + std::string(detail::describe_kind(catalog)) +
                                                    ", expected an object of locales (\"en\", \"mn\")");
    std::vector<std::string_view> matchable_names;
    for (intent i : matchable_intents) matchable_names.push_back(intent_name(i));
    const std::array<std::string_view, locale_count> locale_codes = {locale_code(locale::en), locale_code(locale::mn)};

    intent_matcher m;
    for (const auto& [locale_key, per_intent] : catalog.as_object()) {
        const std::string lkey(locale_key);
        if (!parse_locale(lkey))
            throw plugin_error(error_kind::invalid, where + ": unknown locale '" + lkey + "'" +
                                                        detail::did_you_mean(lkey, locale_codes) + ": use en or mn");
        if (!per_intent.is_object())
            throw plugin_error(error_kind::invalid, where + ": '" + lkey + "' is " +
                                                        std::string(detail::describe_kind(per_intent)) +
                                                        ", expected an object of intent → keyword list");
        for (const auto& [intent_key, keywords] : per_intent.as_object()) {
            const std::string key = lkey + "." + std::string(intent_key);
            auto which = parse_intent(intent_key);
            if (!which || !is_matchable(*which))
                throw plugin_error(error_kind::invalid,
                                   where + ": unknown intent '" + key + "'" +
                                       detail::did_you_mean(intent_key, matchable_names) +
                                       "; intents that take keywords are: " + std::string(matchable_names_list()));
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
                std::string_view raw = kw.as_string();
                const bool stem = !raw.empty() && raw.back() == '*';
                if (stem) raw.remove_suffix(1);
                keyword k{keyword_words(normalize_for_matching(raw)), stem};
                if (k.words.empty())
                    throw plugin_error(error_kind::invalid,
                                       where + ": '" + at + "' has no letter or digit to match: remove it");
                k.open_end = stem || k.words.size() > 1;
                auto& list = m.keywords_[index_of(*which)];
                if (std::find(list.begin(), list.end(), k) == list.end()) list.push_back(std::move(k));
            }
        }
    }
    for (intent i : matchable_intents)
        for (std::size_t k = 0; k < m.keywords_[index_of(i)].size(); ++k)
            m.by_first_letter_[index_letter(m.keywords_[index_of(i)][k].words.front().front())].emplace_back(
                index_of(i), k);
    return m;
}

const intent_matcher& intent_matcher::shipped() {
    static const intent_matcher catalog = [] {
        try {
            return from_json(detail::parse_json_document(shipped::intents_json(), "share/templates/intents.json",
                                                         sdk::error_kind::final),
                             "share/templates/intents.json");
        } catch (const sdk::plugin_error& e) {
            throw sdk::plugin_error(sdk::error_kind::final, std::string("the embedded intent catalog is broken: ") +
                                                                e.what() + " (fix it and rebuild the plugin)");
        }
    }();
    return catalog;
}

namespace {

// A message word against a keyword word: equal, or one typo apart when the keyword is a Latin word
// long enough for a typo not to make it another word and the first letters agree (typos rarely hit
// the first letter). Cyrillic keywords are left exact: in Mongolian one letter more or less is a
// suffix that changes the meaning (ажилтан staff, ажилтанд to the staff; залга call, зага), and
// the spelling variants customers do use are folded away before comparing (spelling.hpp) — except
// in a Latin-typed message read as Mongolian, where a keyword of six letters or more also allows one
// typo, for there is no keyboard check at all ("hunte yarih").
constexpr std::size_t typo_min_letters = 5;

bool letters_equal(std::u32string_view a, std::u32string_view b, bool loose) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [&](char32_t x, char32_t y) { return same_letter(x, y, loose); });
}

bool could_be_typo(const word& w, const word& k, bool loose) {
    const bool typo_prone = has_latin_letter(k) ? k.size() >= typo_min_letters : loose && k.size() > typo_min_letters;
    return typo_prone && !w.empty() && same_letter(w.front(), k.front(), loose);
}

// The message word stretched at its end ("hiii", "heyyy", "ууу") reads as the word itself.
bool stretched(std::u32string_view w, std::u32string_view k, bool loose) {
    if (k.empty() || w.size() <= k.size() || !letters_equal(w.substr(0, k.size()), k, loose)) return false;
    return std::all_of(w.begin() + static_cast<std::ptrdiff_t>(k.size()), w.end(),
                       [&](char32_t c) { return same_letter(c, k.back(), loose); });
}

// A short word read loosely (о = у) turns into other words too often: "one" is not "үнэ".
constexpr std::size_t loose_min_letters = 4;

bool word_matches(const word& w, const word& k, bool loose) {
    loose = loose && k.size() >= loose_min_letters;
    if (w.empty() || !same_letter(w.front(), k.front(), loose)) return false;  // every way to match needs it
    if (letters_equal(w, k, loose) || stretched(w, k, loose)) return true;
    return could_be_typo(w, k, loose) && within_one_typo(w, k, loose);
}

// A message word against a stem: it starts with the stem, or with something one typo from it.
bool starts_with(const word& w, const word& stem, bool loose) {
    loose = loose && stem.size() >= loose_min_letters;
    if (w.empty() || !same_letter(w.front(), stem.front(), loose)) return false;
    if (w.size() >= stem.size() && letters_equal(std::u32string_view(w).substr(0, stem.size()), stem, loose))
        return true;
    if (!could_be_typo(w, stem, loose)) return false;
    for (std::size_t n = stem.size() - 1; n <= stem.size() + 1 && n <= w.size(); ++n)
        if (within_one_typo(w.substr(0, n), stem, loose)) return true;
    return false;
}

// Where a keyword occurred: in which form of the message, and which words it covered.
struct hit {
    intent which;
    bool transliterated;
    std::size_t begin, end;
    bool inside(const hit& other) const {
        return transliterated == other.transliterated && other.begin <= begin && end <= other.end &&
               other.end - other.begin > end - begin;
    }
};

}  // namespace

char32_t intent_matcher::index_letter(char32_t first) noexcept { return first == U'у' ? U'о' : first; }

bool intent_matcher::occurs_at(const keyword& kw, const std::vector<word>& words, std::size_t at, bool loose) {
    const std::size_t n = kw.words.size();
    if (at + n > words.size()) return false;
    for (std::size_t j = 0; j < n; ++j) {
        const bool open = kw.open_end && j + 1 == n;
        if (!(open ? starts_with(words[at + j], kw.words[j], loose) : word_matches(words[at + j], kw.words[j], loose)))
            return false;
    }
    return true;
}

std::optional<intent> intent_matcher::match(std::string_view text) const {
    const spelling_forms forms = forms_for_matching(normalize_for_matching(text));
    if (forms.as_written.empty()) return std::nullopt;
    std::vector<hit> hits;
    auto scan = [&](const std::vector<word>& words, bool loose) {
        for (std::size_t at = 0; at < words.size(); ++at) {
            // Every way of matching needs the first letters to agree: only those keywords are tried.
            auto candidates = by_first_letter_.find(index_letter(words[at].front()));
            if (candidates == by_first_letter_.end()) continue;
            for (const auto& [which, k] : candidates->second)
                if (occurs_at(keywords_[which][k], words, at, loose))
                    hits.push_back({all_intents[which], loose, at, at + keywords_[which][k].words.size()});
        }
    };
    scan(forms.as_written, false);
    scan(forms.transliterated, true);
    // The highest-priority intent wins, except over a keyword that is part of a longer one the
    // message also holds: "хүргэлтийн төлбөр" (delivery fee) is shipping, though "төлбөр" is payment.
    std::stable_sort(hits.begin(), hits.end(), [](const hit& a, const hit& b) { return a.which < b.which; });
    for (const hit& h : hits)
        if (std::none_of(hits.begin(), hits.end(), [&](const hit& other) { return h.inside(other); })) return h.which;
    return std::nullopt;
}

}  // namespace switchboard::templates
