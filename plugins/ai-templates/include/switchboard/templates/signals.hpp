// switchboard/templates/signals.hpp — the keyword tier of lead scoring: which lead signals
// (sdk/lead_score.hpp) a customer's message shows, from share/templates/signals.json. The `score`
// stage of the templates plugin, and a model tier's fallback, use it.
#pragma once

#include <switchboard/templates/keyword_index.hpp>

#include <switchboard/sdk/lead_score.hpp>

#include <boost/json/value.hpp>

#include <cstddef>
#include <string_view>
#include <vector>

namespace switchboard::templates {

/// Finds lead signals by keyword (matching as keyword_index.hpp describes).
class signal_matcher {
public:
    /// Builds a matcher from a catalog shaped like share/templates/signals.json:
    /// {"<locale>": {"<signal name>": ["keyword", "stem*", "a phrase", ...], ...}, ...}.
    /// @throws sdk::plugin_error(invalid) naming `source` and the key when the document is not of that
    ///         shape, names an unknown locale or signal, or holds a keyword without a letter or digit.
    static signal_matcher from_json(const boost::json::value& catalog, std::string_view source);

    /// The catalog embedded at build time from share/templates/signals.json, parsed on first use.
    /// @throws sdk::plugin_error(final) if the embedded catalog is malformed (a build defect).
    static const signal_matcher& shipped();

    /// The signals whose keywords occur in `text` (UTF-8), each once, in table order.
    std::vector<sdk::lead::signal> signals(std::string_view text) const;

    /// Number of keywords held for a signal (all locales together).
    std::size_t keyword_count(sdk::lead::signal s) const noexcept { return keywords_.count(static_cast<std::size_t>(s)); }

private:
    keyword_index keywords_;  ///< tags: the signal's index in sdk::lead::all_signals
};

}  // namespace switchboard::templates
