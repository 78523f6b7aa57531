#include <switchboard/templates/shipped_data.hpp>
#include <switchboard/templates/signals.hpp>

#include "json_document.hpp"

namespace switchboard::templates {

namespace lead = sdk::lead;

signal_matcher signal_matcher::from_json(const boost::json::value& catalog, std::string_view source) {
    std::vector<std::string_view> names;
    for (lead::signal s : lead::all_signals) names.push_back(lead::signal_name(s));
    signal_matcher m;
    m.keywords_ = keyword_index::from_catalog(catalog, source, names, "signal");
    return m;
}

const signal_matcher& signal_matcher::shipped() {
    static const signal_matcher catalog =
        detail::from_embedded(shipped::signals_json(), "share/templates/signals.json", "signal catalog", from_json);
    return catalog;
}

std::vector<lead::signal> signal_matcher::signals(std::string_view text) const {
    std::vector<lead::signal> found;
    for (const auto& h : keywords_.find_all(text))  // in tag order
        if (found.empty() || found.back() != lead::all_signals[h.tag]) found.push_back(lead::all_signals[h.tag]);
    return found;
}

}  // namespace switchboard::templates
