#include <switchboard/templates/evaluation.hpp>

#include <switchboard/sdk/plugin.hpp>

#include "json_document.hpp"

#include <fstream>

namespace switchboard::templates {

std::vector<labelled_message> read_labelled_set(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw sdk::plugin_error(sdk::error_kind::final, file.string() + ": cannot be read");
    std::vector<std::string_view> names;
    for (intent i : all_intents) names.push_back(intent_name(i));
    std::vector<labelled_message> set;
    std::string line;
    for (std::size_t n = 1; std::getline(in, line); ++n) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line.front() == '#') continue;
        const std::string at = file.string() + ":" + std::to_string(n) + ": ";
        const auto tab = line.find('\t');
        if (tab == std::string::npos)
            throw sdk::plugin_error(sdk::error_kind::invalid, at + "expected 'label<TAB>message'");
        const std::string label = line.substr(0, tab);
        auto which = parse_intent(label);
        if (!which || *which == intent::attachment)
            throw sdk::plugin_error(sdk::error_kind::invalid,
                                    at + "unknown label '" + label + "'" + detail::did_you_mean(label, names));
        std::string text = line.substr(tab + 1);
        if (text.empty()) throw sdk::plugin_error(sdk::error_kind::invalid, at + "the message is empty");
        set.push_back({*which, std::move(text), n});
    }
    return set;
}

evaluation evaluate(const intent_matcher& matcher, const std::vector<labelled_message>& set) {
    evaluation e;
    for (const auto& m : set) {
        const intent chosen = matcher.match(m.text).value_or(intent::fallback);
        ++e.total;
        ++e.expected_count[index_of(m.expected)];
        if (chosen == m.expected) {
            ++e.correct;
            ++e.correct_count[index_of(m.expected)];
            continue;
        }
        if (chosen != intent::fallback) ++e.confidently_wrong;
        e.misses.emplace_back(&m, chosen);
    }
    return e;
}

}  // namespace switchboard::templates
