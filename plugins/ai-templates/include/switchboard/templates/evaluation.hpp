// switchboard/templates/evaluation.hpp — measuring an intent catalog against labelled messages.
//
// A labelled set is a UTF-8 text file of `label<TAB>message` lines ('#' starts a comment line,
// blank lines are skipped), where label is an intent name (intent_name(): "greeting", "return",
// "fallback", ...). tests/data/intents/ holds the project's sets, one per language group; the
// unit tests hold the shipped catalog to an accuracy floor on them and bench/template_intents
// prints the figures.
#pragma once

#include <switchboard/templates/intent.hpp>

#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace switchboard::templates {

/// One customer message and the intent a person would answer it with.
struct labelled_message {
    intent expected;
    std::string text;
    std::size_t line;  ///< 1-based line in its file
};

/// Reads a labelled set.
/// @throws sdk::plugin_error(invalid) "FILE:LINE: ..." for a line without a tab, an unknown label
///         (with a suggestion) or an empty message; (final) when the file cannot be read.
std::vector<labelled_message> read_labelled_set(const std::filesystem::path& file);

/// How a catalog did on a labelled set. A message whose text matches no keyword counts as
/// `fallback` (what the responder answers); `attachment` is never expected.
struct evaluation {
    std::size_t total = 0;
    std::size_t correct = 0;
    /// Messages answered with a keyword intent although labelled fallback, or with another intent
    /// than their label: the confident wrong replies to keep at zero.
    std::size_t confidently_wrong = 0;
    std::array<std::size_t, intent_count> expected_count{};  ///< per expected intent
    std::array<std::size_t, intent_count> correct_count{};   ///< per expected intent
    std::vector<std::pair<const labelled_message*, intent>> misses;  ///< each miss and what was chosen

    /// correct / total (0 for an empty set).
    double accuracy() const noexcept { return total ? static_cast<double>(correct) / static_cast<double>(total) : 0.0; }
};

/// Classifies every message with `matcher` (nothing matched → fallback). The returned misses point
/// into `set`, which must outlive the result.
evaluation evaluate(const intent_matcher& matcher, const std::vector<labelled_message>& set);

}  // namespace switchboard::templates
