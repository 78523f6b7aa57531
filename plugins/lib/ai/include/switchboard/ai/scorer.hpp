// switchboard/ai/scorer.hpp — the model tier of lead scoring (stage `score` of ai-openai and
// ai-anthropic): the customer's message goes to the model with instructions to answer with one
// strict JSON object, which is read here. sdk/lead_score.hpp holds the signal table and what is
// done with the result.
#pragma once

#include <switchboard/sdk/lead_score.hpp>

#include <optional>
#include <string_view>

namespace switchboard::ai {

/// The system prompt of a scoring request: names the signals and the answer's exact shape,
/// {"signals": [names], "sentiment": "positive"|"neutral"|"negative", "topic": "a few words"}.
std::string_view scoring_instructions() noexcept;

/**
 * Reads a model's scoring answer: exactly one JSON object of the shape scoring_instructions()
 * asks for, optionally inside one Markdown code fence (```json ... ```), which models add although
 * told not to. "signals" must be an array of signal names (sdk::lead::signal_name); "sentiment",
 * when present, one of positive, neutral, negative; "topic", when present, a string (kept to 80
 * bytes). Duplicate signals count once.
 * @returns nullopt for anything else (prose, unknown signals, wrong types): the caller falls back
 *          to keywords.
 */
std::optional<sdk::lead::assessment> read_assessment(std::string_view answer);

}  // namespace switchboard::ai
