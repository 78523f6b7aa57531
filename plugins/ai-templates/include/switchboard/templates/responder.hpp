// switchboard/templates/responder.hpp — the `reply` stage as pure functions of an event.
//
// Nothing here touches the host: the same event and configuration always give the same commands,
// which is what makes a redelivered event safe (the host deduplicates the resulting job).
#pragma once

#include <switchboard/sdk/plugin.hpp>
#include <switchboard/templates/catalog.hpp>
#include <switchboard/templates/intent.hpp>
#include <switchboard/templates/locale.hpp>
#include <switchboard/templates/template_store.hpp>

#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::templates {

/// Setting names and defaults, shared by the registration (plugin.cpp) and config_from_settings().
namespace setting {
inline constexpr const char* locale = "locale";                  ///< "en" | "mn"
inline constexpr const char* locale_default = "en";
inline constexpr const char* detect_language = "detect_language";  ///< bool
inline constexpr const char* detect_language_default = "true";
inline constexpr const char* business_name = "business_name";    ///< replaces {business_name}
inline constexpr const char* business_name_default = "our shop";
inline constexpr const char* templates_file = "templates_file";  ///< optional override file (a path)
/// The override document itself. The host's config loader turns any `<name>_file: PATH` into
/// `<name>: <file contents>`, so a `templates_file` in switchboard.yaml may arrive as this.
inline constexpr const char* templates = "templates";
/// Words or phrases (keyword syntax of keyword_index.hpp) that hand a conversation to a person, on
/// top of the shipped handoff intent's. A list.
inline constexpr const char* escalation_keywords = "escalation_keywords";
/// Hand the conversation to a person after this many bot replies in it (0 = never). An integer.
inline constexpr const char* auto_escalate_after = "auto_escalate_after";
inline constexpr const char* auto_escalate_after_default = "0";
/// The tenant's product and FAQ catalog (catalog.hpp): a .csv, .yaml or .yml path.
inline constexpr const char* catalog_file = "catalog_file";
}  // namespace setting

/// The reason given on the conversation.escalated event of a handoff.
inline constexpr std::string_view handoff_reason = "customer asked for a human";

/// A tenant's responder settings, validated.
struct responder_config {
    locale tenant_locale = locale::en;  ///< the reply language when detection is off or inconclusive
    bool detect_language = true;        ///< answer Cyrillic text in mn and Latin-only text in en
    /// Replaces {business_name}. The untouched default ("our shop") is shown as "манай дэлгүүр"
    /// in Mongolian replies, so a tenant that did not set it never gets English inside Mongolian.
    std::string business_name = setting::business_name_default;
    keyword_index escalation_keywords;  ///< the tenant's own, tag 0
    int64_t auto_escalate_after = 0;    ///< bot replies before a handoff (0 = never)
    /// Product questions, and messages no keyword matches, are answered from its matching entries.
    std::shared_ptr<const product_catalog> catalog;
};

/// Reads and validates the settings, catalog_file included (templates_file is read by the instance).
/// @throws sdk::plugin_error(invalid) "locale 'xx' is not supported: use en or mn" for another locale,
///         for an escalation keyword without a letter or digit, or a negative auto_escalate_after.
responder_config config_from_settings(const sdk::settings& settings);

/// The value of {business_name} in a reply in locale `l`.
std::string_view business_name_for(const responder_config& config, locale l);

/**
 * The intent a message.received event asks for (its text being sdk::json_fields::message_text(),
 * which joins a debounced burst):
 *   - a postback: its payload, then its title;
 *   - a quick reply: its payload, then the message text;
 *   - otherwise the message text;
 * where a payload that is exactly an intent name in any case ("ORDER_STATUS") selects that intent
 * and anything else goes through `matcher`. When nothing matches: `attachment` if the message has
 * attachments (stickers arrive as attachments), `greeting` for a bare referral (the customer opened
 * the chat from a link or ad), else `fallback`.
 * @param event  the event; fields absent or not strings are treated as absent
 */
intent classify(const boost::json::object& event, const intent_matcher& matcher);

/// The reply locale: with detection on, the customer-visible text (message text, else postback
/// title) decides — any Cyrillic letter → mn, Latin letters only → en; without letters, or with
/// detection off, the tenant locale.
locale reply_locale(const boost::json::object& event, const responder_config& config);

/// Why a message.received event should be handed to a person, by its words: the shipped handoff
/// intent ("customer asked for a human", also from a button payload) or one of the tenant's
/// escalation_keywords ("escalation keyword"). @returns nullopt when neither.
std::optional<std::string_view> handoff_by_words(const boost::json::object& event, const responder_config& config,
                                                 const intent_matcher& matcher);

/// What a handoff emits: conversation.escalated {"channel","conversation_id","reason"}, then the
/// handoff notice as message.send (as respond() shapes it, intent "handoff"). `event` must have
/// passed respond()'s checks (see handoff_outputs' callers).
std::vector<boost::json::object> handoff_outputs(const boost::json::object& event, const responder_config& config,
                                                 const template_store& templates, std::string_view reason);

/**
 * The events and commands the `reply` stage emits for one message.received event, in order:
 *   - none when conversation.escalated is true (the bot is silent after a handoff);
 *   - for a handoff: conversation.escalated {"channel","conversation_id","reason"}, then the notice;
 *   - exactly one message.send {"channel","recipient":{"provider_id"},"conversation_id",
 *     "in_reply_to","text","intent","locale"}; for a product question, or a message no keyword
 *     matches, whose words find catalog entries, the text lists up to three of them (describe())
 *     and the intent is product_search.
 * @param event  a message.received event to which the host added "conversation": {"id","escalated"}
 * @throws sdk::plugin_error(invalid) naming the field when the event is not message.received or
 *         lacks channel, contact.provider_id, provider_message_id, conversation.id (an integer) or
 *         conversation.escalated (a bool).
 */
std::vector<boost::json::object> respond(const boost::json::object& event, const responder_config& config,
                                         const template_store& templates, const intent_matcher& matcher);

}  // namespace switchboard::templates
