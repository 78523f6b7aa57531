// switchboard/sdk/lead_score.hpp — lead scoring every scoring stage shares: the signal table, the
// temperature classes, and the score accumulated on the contact, so a model tier and the keyword
// tier of one chain score alike and a CRM or an alert routes on one pair of events.
//
// Signals and their points: interested +10, urgent +15, budget_mentioned +20, decision_maker +15,
// comparing +5, not_interested −20, spam −50. The score is the sum over the contact's messages
// (kept in the tenant's kv by contact id, mirrored to the contact's "score"); its temperature is HOT at 70 or
// more, WARM at 40 or more, else COLD.
//
// Events (routable like any other):
//   lead.scored               {"channel", "contact": {"provider_id"}, "conversation_id"?, "score",
//                              "delta", "temperature", "signals": [names], "source", "sentiment"?,
//                              "topic"?} — whenever a message changed the score
//   lead.temperature_changed  {"channel", "contact": {"provider_id"}, "conversation_id"?, "score",
//                              "from", "to"} — when that change moved it to another class
// Header-only; depends on Boost.JSON and sdk/plugin.hpp.
#pragma once

#include <switchboard/sdk/events.hpp>
#include <switchboard/sdk/json_fields.hpp>
#include <switchboard/sdk/plugin.hpp>

#include <boost/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::sdk::lead {

/// What a customer's message says about their intent to buy.
enum class signal : unsigned char { interested, urgent, budget_mentioned, decision_maker, comparing, not_interested, spam };

inline constexpr std::size_t signal_count = 7;

/// Every signal, in table order.
inline constexpr std::array<signal, signal_count> all_signals = {signal::interested,     signal::urgent,
                                                                 signal::budget_mentioned, signal::decision_maker,
                                                                 signal::comparing,      signal::not_interested,
                                                                 signal::spam};

/// The signal's name in events and model answers: "interested", "urgent", "budget_mentioned",
/// "decision_maker", "comparing", "not_interested", "spam".
constexpr std::string_view signal_name(signal s) noexcept {
    constexpr std::array<std::string_view, signal_count> names = {
        "interested", "urgent", "budget_mentioned", "decision_maker", "comparing", "not_interested", "spam"};
    return names[static_cast<std::size_t>(s)];
}

/// The signal named `name` (exact, lowercase), or nullopt.
constexpr std::optional<signal> parse_signal(std::string_view name) noexcept {
    for (signal s : all_signals)
        if (signal_name(s) == name) return s;
    return std::nullopt;
}

/// The points a signal adds to the score (negative ones subtract).
constexpr int points(signal s) noexcept {
    constexpr std::array<int, signal_count> table = {10, 15, 20, 15, 5, -20, -50};
    return table[static_cast<std::size_t>(s)];
}

/// "HOT" for a score of 70 or more, "WARM" for 40 or more, else "COLD".
constexpr std::string_view temperature(int64_t score) noexcept {
    return score >= 70 ? "HOT" : score >= 40 ? "WARM" : "COLD";
}

/// Event type names (see the file comment for their fields).
inline constexpr std::string_view scored = events::lead_scored;
inline constexpr std::string_view temperature_changed = events::lead_temperature_changed;

/// What else a scorer knows about the message (both optional).
struct assessment {
    std::vector<signal> signals;  ///< each counts once per message, whatever the repetition
    std::string sentiment;        ///< "positive" | "neutral" | "negative", or ""
    std::string topic;            ///< a few words, or ""
};

/// The tenant-kv key of a contact's score, "lead.score:<contact id>" (one score whichever channel
/// the contact writes on); the contact is created when the host does not know it yet.
/// @throws plugin_error(retryable) on storage failure.
inline std::string score_key(const host& h, std::string_view channel, std::string_view provider_id) {
    auto contact = h.contact(channel, provider_id);
    if (!contact) {
        h.update_contact(channel, provider_id, boost::json::object{});
        contact = h.contact(channel, provider_id);
    }
    if (contact)
        if (auto id = json_fields::int_at(*contact, "id")) return "lead.score:" + std::to_string(*id);
    return "lead.score:" + std::string(channel) + ":" + std::string(provider_id);
}

/**
 * Adds the assessment's points to the score of the message's contact and emits lead.scored, plus
 * lead.temperature_changed when the class moved. Nothing happens when the points sum to 0.
 * Counted once per call: a stage re-run after a crash or a retry (same idempotency key) emits the
 * same events again without adding twice (host::kv_increment_once).
 * @param event   the message.received event scored ("channel", "contact.provider_id",
 *                "conversation.id" when the host added it)
 * @param source  who scored it, for the event: a provider name ("OpenAI") or "keywords"
 * @returns the new score, or nullopt when nothing was added (no signal, or no contact id)
 * @throws plugin_error(retryable) on storage failure; (final) from a host older than ABI 2.2.
 */
inline std::optional<int64_t> apply(const host& h, const call& c, const boost::json::object& event,
                                    const assessment& a, std::string_view source, emitter& out) {
    const std::string channel = json_fields::text_at(event, "channel");
    const auto* contact = json_fields::object_at(event, "contact");
    const std::string provider_id = contact ? json_fields::text_at(*contact, "provider_id") : "";
    if (channel.empty() || provider_id.empty()) return std::nullopt;
    int64_t delta = 0;
    boost::json::array names;
    std::array<bool, signal_count> seen{};
    for (signal s : a.signals) {
        if (seen[static_cast<std::size_t>(s)]) continue;
        seen[static_cast<std::size_t>(s)] = true;
        delta += points(s);
        names.emplace_back(signal_name(s));
    }
    if (delta == 0) return std::nullopt;
    // Without an idempotency key (a host test calling directly), the message id stands in.
    std::string once = c.idempotency_key().empty() ? json_fields::text_at(event, "provider_message_id") : c.idempotency_key();
    auto counted = h.kv_increment_once(score_key(h, channel, provider_id), delta, "lead.scored:" + once,
                                       30LL * 86'400'000, 0, kv_scope::tenant);
    const int64_t score = counted.value, before = score - delta;
    h.update_contact(channel, provider_id, {{"score", static_cast<double>(score)}});

    boost::json::object scored_event{{"type", scored},
                                     {"channel", channel},
                                     {"contact", {{"provider_id", provider_id}}},
                                     {"score", score},
                                     {"delta", delta},
                                     {"temperature", temperature(score)},
                                     {"signals", std::move(names)},
                                     {"source", source}};
    std::optional<int64_t> conversation_id;
    if (const auto* conv = json_fields::object_at(event, "conversation")) conversation_id = json_fields::int_at(*conv, "id");
    if (conversation_id) scored_event["conversation_id"] = *conversation_id;
    if (!a.sentiment.empty()) scored_event["sentiment"] = a.sentiment;
    if (!a.topic.empty()) scored_event["topic"] = a.topic;
    out.emit(scored_event);
    if (temperature(before) != temperature(score)) {
        boost::json::object changed{{"type", temperature_changed},
                                    {"channel", channel},
                                    {"contact", {{"provider_id", provider_id}}},
                                    {"score", score},
                                    {"from", temperature(before)},
                                    {"to", temperature(score)}};
        if (conversation_id) changed["conversation_id"] = *conversation_id;
        out.emit(changed);
    }
    return score;
}

}  // namespace switchboard::sdk::lead
