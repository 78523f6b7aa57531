#include <switchboard/templates/intent.hpp>
#include <switchboard/templates/locale.hpp>
#include <switchboard/templates/shipped_data.hpp>
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
                std::string words = normalize_for_matching(raw);
                if (words.empty())
                    throw plugin_error(error_kind::invalid,
                                       where + ": '" + at + "' has no letter or digit to match: remove it");
                const bool phrase = words.find(' ') != std::string::npos;
                // Whole single words need a space after them; stems and phrases may run into a suffix.
                std::string needle = " " + words + (stem || phrase ? "" : " ");
                auto& list = m.needles_[index_of(*which)];
                if (std::find(list.begin(), list.end(), needle) == list.end()) list.push_back(std::move(needle));
            }
        }
    }
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

std::optional<intent> intent_matcher::match(std::string_view text) const {
    const std::string words = normalize_for_matching(text);
    if (words.empty()) return std::nullopt;
    const std::string haystack = " " + words + " ";
    for (intent i : matchable_intents)
        for (const std::string& needle : needles_[index_of(i)])
            if (haystack.find(needle) != std::string::npos) return i;
    return std::nullopt;
}

}  // namespace switchboard::templates
