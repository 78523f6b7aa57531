// switchboard/templates/intent.hpp — what a customer's message asks for, and how we recognise it.
//
// Recognition is deliberately keyword based and deterministic: the same message always selects the
// same intent, so a redelivered event produces the same reply (the durability contract relies on
// replies being repeatable). The keywords live in data (share/templates/intents.json), not in code.
#pragma once

#include <switchboard/templates/keyword_index.hpp>

#include <array>
#include <boost/json/value.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::templates {

/// The intents the responder answers. The declaration order of the matchable ones is their priority:
/// when a message matches several, the earliest wins (a damaged parcel plus "where is my order" is a
/// complaint first; anyone asking for a human gets one, whatever else they wrote).
enum class intent : unsigned char {
    handoff,         ///< the customer asks for a human; the conversation is escalated
    complaint,       ///< something went wrong (damaged, broken, angry)
    return_request,  ///< return, refund, exchange, cancellation ("return" in JSON)
    order_status,    ///< where is my order, tracking
    payment,         ///< how to pay, invoices, QPay, bank account
    shipping,        ///< delivery options, fees, times
    size_guide,      ///< sizes and fit
    product_search,  ///< prices, availability, products
    greeting,        ///< hello, get started
    fallback,        ///< nothing matched
    attachment       ///< an attachment or sticker without text to match
};

inline constexpr std::size_t intent_count = 11;

/// Every intent, in declaration order (index order of intent-indexed arrays).
inline constexpr std::array<intent, intent_count> all_intents = {
    intent::handoff,    intent::complaint,      intent::return_request, intent::order_status,
    intent::payment,    intent::shipping,       intent::size_guide,     intent::product_search,
    intent::greeting,   intent::fallback,       intent::attachment};

/// The intents words can select, highest priority first. fallback and attachment are chosen by the
/// responder from the shape of the message, never by keywords.
inline constexpr std::array<intent, 9> matchable_intents = {
    intent::handoff,  intent::complaint,  intent::return_request, intent::order_status, intent::payment,
    intent::shipping, intent::size_guide, intent::product_search, intent::greeting};

/// The name used in JSON keys, in message.send's "intent" field and in postback payloads:
/// "handoff", "complaint", "return", "order_status", "payment", "shipping", "size_guide",
/// "product_search", "greeting", "fallback", "attachment".
std::string_view intent_name(intent i) noexcept;

/// Parses an intent name (exact, lowercase). @returns nullopt for unknown names.
std::optional<intent> parse_intent(std::string_view name) noexcept;

/// Index of an intent in arrays of intent_count entries.
constexpr std::size_t index_of(intent i) noexcept { return static_cast<std::size_t>(i); }

/// True for intents keywords can select (see matchable_intents).
constexpr bool is_matchable(intent i) noexcept { return i != intent::fallback && i != intent::attachment; }

/**
 * Recognises intents from keywords and phrases (keyword_index.hpp says how keywords match the way
 * customers spell). Keywords of every locale are checked, whatever the reply locale will be.
 * When several intents match, the highest-priority one wins unless its keyword lies inside a
 * longer keyword of another intent ("хүргэлтийн төлбөр", delivery fee, is shipping, not payment).
 */
class intent_matcher {
public:
    /// An empty matcher: match() always returns nullopt.
    intent_matcher() = default;

    /// Builds a matcher from a catalog shaped like share/templates/intents.json:
    /// {"<locale>": {"<intent>": ["keyword", "stem*", "a phrase", ...], ...}, ...}.
    /// @param catalog  the parsed document
    /// @param source   what to call the document in error messages (a file name)
    /// @throws sdk::plugin_error(invalid) naming `source` and the key when the document is not of that
    ///         shape, names an unknown locale or intent (fallback and attachment take no keywords), or
    ///         holds a keyword without a letter or digit.
    static intent_matcher from_json(const boost::json::value& catalog, std::string_view source);

    /// The catalog embedded at build time from share/templates/intents.json, parsed on first use.
    /// @throws sdk::plugin_error(final) if the embedded catalog is malformed (a build defect).
    static const intent_matcher& shipped();

    /// The highest-priority intent one of whose keywords occurs in `text` (UTF-8).
    /// @returns nullopt when no keyword occurs.
    std::optional<intent> match(std::string_view text) const;

    /// Number of keywords held for an intent (all locales together).
    std::size_t keyword_count(intent i) const noexcept { return keywords_.count(index_of(i)); }

private:
    keyword_index keywords_;  ///< tags: index_of(intent)
};

}  // namespace switchboard::templates
