#include <switchboard/templates/responder.hpp>
#include <switchboard/templates/text.hpp>

#include <switchboard/sdk/events.hpp>
#include <switchboard/sdk/json_fields.hpp>

namespace switchboard::templates {
namespace {

using sdk::error_kind;
using sdk::plugin_error;

// Optional fields: absent, null or of another type all read as absent, so a channel that adds or
// omits something never stops the customer from getting a reply.
std::string_view optional_string(const boost::json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

const boost::json::object* optional_object(const boost::json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v && v->is_object() ? &v->get_object() : nullptr;
}

[[noreturn]] void missing(std::string_view field, std::string_view expected) {
    throw plugin_error(error_kind::invalid,
                       "templates.reply: the message.received event has no " + std::string(expected) + " '" +
                           std::string(field) + "' (the channel plugin or the host must provide it)");
}

// A payload that is exactly an intent name selects it, so page buttons can say "ORDER_STATUS" or
// "handoff" without relying on keywords; anything else ("TALK_TO_HUMAN") goes through the matcher.
std::optional<intent> payload_intent(std::string_view payload, const intent_matcher& matcher) {
    std::string lowered;
    for (char c : payload) lowered.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 0x20) : c);
    if (auto i = parse_intent(lowered); i && is_matchable(*i)) return i;
    return matcher.match(payload);
}

bool has_words(std::string_view text) { return !normalize_for_matching(text).empty(); }

}  // namespace

responder_config config_from_settings(const sdk::settings& settings) {
    responder_config config;
    const std::string code = settings.string(setting::locale, setting::locale_default);
    auto l = parse_locale(code);
    if (!l) throw plugin_error(error_kind::invalid, "locale '" + code + "' is not supported: use en or mn");
    config.tenant_locale = *l;
    config.detect_language = settings.boolean(setting::detect_language, true);
    config.business_name = settings.string(setting::business_name, setting::business_name_default);
    for (const auto& k : settings.list(setting::escalation_keywords))
        if (!config.escalation_keywords.add(k, 0))
            throw plugin_error(error_kind::invalid, "escalation_keywords: '" + k + "' has no letter or digit to match");
    config.auto_escalate_after = settings.integer(setting::auto_escalate_after, 0);
    if (const std::string file = settings.string(setting::catalog_file); !file.empty())
        config.catalog = std::make_shared<const product_catalog>(product_catalog::load_file(file));
    if (config.auto_escalate_after < 0)
        throw plugin_error(error_kind::invalid, "auto_escalate_after must be 0 (never) or a number of bot replies");
    return config;
}

std::string_view business_name_for(const responder_config& config, locale l) {
    if (config.business_name.empty() || config.business_name == setting::business_name_default)
        return l == locale::mn ? "манай дэлгүүр" : setting::business_name_default;
    return config.business_name;
}

intent classify(const boost::json::object& event, const intent_matcher& matcher) {
    const std::string whole_text = sdk::json_fields::message_text(event);
    const std::string_view text = whole_text;
    if (auto* postback = optional_object(event, "postback")) {
        if (auto i = payload_intent(optional_string(*postback, "payload"), matcher)) return *i;
        if (auto i = matcher.match(optional_string(*postback, "title"))) return *i;
        return intent::fallback;
    }
    if (auto* v = event.if_contains("quick_reply_payload"); v && v->is_string())
        if (auto i = payload_intent(v->get_string(), matcher)) return *i;
    if (auto i = matcher.match(text)) return *i;
    if (has_words(text)) return intent::fallback;
    if (auto* a = event.if_contains("attachments"); a && a->is_array() && !a->get_array().empty())
        return intent::attachment;
    if (event.contains("referral")) return intent::greeting;
    return intent::fallback;
}

locale reply_locale(const boost::json::object& event, const responder_config& config) {
    if (!config.detect_language) return config.tenant_locale;
    letter_counts counts = count_letters(optional_string(event, "text"));
    if (counts.latin == 0 && counts.cyrillic == 0)
        if (auto* postback = optional_object(event, "postback")) counts = count_letters(optional_string(*postback, "title"));
    if (counts.cyrillic > 0) return locale::mn;
    if (counts.latin > 0) return locale::en;
    return config.tenant_locale;
}

namespace {

// The fields respond() needs, checked: what a channel or the host failed to provide is named.
struct checked_event {
    const boost::json::value* conversation_id;
    bool escalated;
    std::string_view channel;
    const boost::json::object* contact;
    const boost::json::value* recipient;
    std::string_view message_id;
};

checked_event check(const boost::json::object& event) {
    const std::string_view type = optional_string(event, "type");
    if (type != sdk::events::message_received)
        throw plugin_error(error_kind::invalid, "templates answers message.received events, not '" + std::string(type) +
                                                    "': route it with 'on: message.received'");
    const auto* conversation = optional_object(event, "conversation");
    if (!conversation) missing("conversation", "object");
    const auto* escalated = conversation->if_contains("escalated");
    if (!escalated || !escalated->is_bool()) missing("conversation.escalated", "boolean");
    const auto* conversation_id = conversation->if_contains("id");
    if (!conversation_id || !(conversation_id->is_int64() || conversation_id->is_uint64()))
        missing("conversation.id", "integer");
    checked_event c{conversation_id, escalated->get_bool(), optional_string(event, "channel"), nullptr, nullptr, {}};
    if (c.escalated) return c;
    if (c.channel.empty()) missing("channel", "string");
    c.contact = optional_object(event, "contact");
    c.recipient = c.contact ? c.contact->if_contains("provider_id") : nullptr;
    if (!c.recipient || !(c.recipient->is_string() || c.recipient->is_int64() || c.recipient->is_uint64()) ||
        (c.recipient->is_string() && c.recipient->get_string().empty()))
        missing("contact.provider_id", "string");
    c.message_id = optional_string(event, "provider_message_id");
    if (c.message_id.empty()) missing("provider_message_id", "string");
    return c;
}

boost::json::object reply_to(const boost::json::object& event, const checked_event& c, const responder_config& config,
                             const template_store& templates, intent which) {
    const locale lang = reply_locale(event, config);
    const placeholder values[] = {
        {"business_name", business_name_for(config, lang)},
        {"contact_name", optional_string(*c.contact, "name")},
    };
    std::string text = render(templates.text(lang, which), values);
    if (config.catalog && (which == intent::product_search || which == intent::fallback))
        if (auto found = config.catalog->search(sdk::json_fields::message_text(event)); !found.empty()) {
            text = lang == locale::mn ? "Манайд байгаа:" : "Here is what we have:";
            for (const auto* e : found) text += "\n• " + describe(*e, locale_code(lang));
            which = intent::product_search;
        }
    return {{"type", sdk::events::message_send},
            {"channel", c.channel},
            {"recipient", {{"provider_id", *c.recipient}}},
            {"conversation_id", *c.conversation_id},
            {"in_reply_to", c.message_id},
            {"text", std::move(text)},
            {"intent", intent_name(which)},
            {"locale", locale_code(lang)}};
}

std::vector<boost::json::object> escalate(const boost::json::object& event, const checked_event& c,
                                          const responder_config& config, const template_store& templates,
                                          std::string_view reason) {
    return {{{"type", sdk::events::conversation_escalated},
             {"channel", c.channel},
             {"conversation_id", *c.conversation_id},
             {"reason", reason}},
            reply_to(event, c, config, templates, intent::handoff)};
}

}  // namespace

std::optional<std::string_view> handoff_by_words(const boost::json::object& event, const responder_config& config,
                                                 const intent_matcher& matcher) {
    if (classify(event, matcher) == intent::handoff) return handoff_reason;
    if (config.escalation_keywords.count(0) > 0) {
        std::string text = sdk::json_fields::message_text(event);
        if (auto* postback = optional_object(event, "postback"); postback && text.empty())
            text = optional_string(*postback, "title");
        if (!config.escalation_keywords.find_all(text).empty()) return std::string_view("escalation keyword");
    }
    return std::nullopt;
}

std::vector<boost::json::object> handoff_outputs(const boost::json::object& event, const responder_config& config,
                                                 const template_store& templates, std::string_view reason) {
    const checked_event c = check(event);
    if (c.escalated) return {};
    return escalate(event, c, config, templates, reason);
}

std::vector<boost::json::object> respond(const boost::json::object& event, const responder_config& config,
                                         const template_store& templates, const intent_matcher& matcher) {
    const checked_event c = check(event);
    if (c.escalated) return {};
    if (auto reason = handoff_by_words(event, config, matcher)) return escalate(event, c, config, templates, *reason);
    return {reply_to(event, c, config, templates, classify(event, matcher))};
}

}  // namespace switchboard::templates
