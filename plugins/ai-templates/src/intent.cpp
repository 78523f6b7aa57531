#include <switchboard/templates/intent.hpp>
#include <switchboard/templates/locale.hpp>
#include <switchboard/templates/shipped_data.hpp>

#include "json_document.hpp"

#include <switchboard/sdk/plugin.hpp>

#include <algorithm>

namespace switchboard::templates {
namespace {

constexpr std::array<std::string_view, intent_count> names = {
    "handoff",  "complaint",  "return",         "order_status", "payment",   "shipping",
    "size_guide", "product_search", "greeting", "fallback",     "attachment"};

}  // namespace

std::string_view intent_name(intent i) noexcept { return names[index_of(i)]; }

std::optional<intent> parse_intent(std::string_view name) noexcept {
    for (intent i : all_intents)
        if (names[index_of(i)] == name) return i;
    return std::nullopt;
}

intent_matcher intent_matcher::from_json(const boost::json::value& catalog, std::string_view source) {
    // Tags are intent indexes; fallback and attachment, last in the enum, take no keywords.
    std::vector<std::string_view> matchable_names;
    for (intent i : matchable_intents) matchable_names.push_back(intent_name(i));
    intent_matcher m;
    m.keywords_ = keyword_index::from_catalog(catalog, source, matchable_names, "intent");
    return m;
}

const intent_matcher& intent_matcher::shipped() {
    static const intent_matcher catalog =
        detail::from_embedded(shipped::intents_json(), "share/templates/intents.json", "intent catalog", from_json);
    return catalog;
}

std::optional<intent> intent_matcher::match(std::string_view text) const {
    // Hits come in tag order, which is priority order. The highest-priority intent wins, except over
    // a keyword that is part of a longer one the message also holds: "хүргэлтийн төлбөр" (delivery
    // fee) is shipping, though "төлбөр" is payment.
    const auto hits = keywords_.find_all(text);
    for (const auto& h : hits)
        if (std::none_of(hits.begin(), hits.end(), [&](const auto& other) { return h.inside(other); }))
            return matchable_intents[h.tag];
    return std::nullopt;
}

}  // namespace switchboard::templates
