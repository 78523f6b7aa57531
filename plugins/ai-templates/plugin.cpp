// The templates plugin: deterministic replies from shipped, overridable templates (no network).
// Everything but the registration lives in switchboard_templates_core, where the unit tests reach it.
#include <switchboard/sdk/plugin.hpp>
#include <switchboard/templates/instance.hpp>


namespace {

namespace setting = switchboard::templates::setting;

using switchboard::sdk::setting_type;

const switchboard::sdk::plugin_info info{
    .name = "templates",
    .version = "0.2.0",
    .license = "Apache-2.0",
    .description = "Deterministic replies in English and Mongolian from keyword intents and templates, and keyword lead scoring",
    .capabilities = SB_CAP_AI | SB_CAP_STAGE,
    .settings = {
        {.name = setting::locale, .type = setting_type::choice, .default_value = setting::locale_default,
         .description = "reply language when detection is off or finds no letters: en or mn", .choices = {"en", "mn"}},
        {.name = setting::detect_language, .type = setting_type::boolean, .default_value = setting::detect_language_default,
         .description = "answer messages with Cyrillic letters in mn and Latin-only ones in en"},
        {.name = setting::business_name, .default_value = setting::business_name_default,
         .description = "replaces {business_name} in replies (the default reads 'манай дэлгүүр' in mn)"},
        {.name = setting::templates_file,
         .description = "JSON file shaped like share/templates/replies.json whose entries override the shipped replies"},
        {.name = setting::templates, .description = "the override JSON itself, as an alternative to templates_file"},
        {.name = setting::escalation_keywords, .type = setting_type::list,
         .description = "words or phrases ('word', 'stem*', 'a phrase') that hand the conversation to a person, on top "
                        "of the shipped ones (human, operator, оператор...)"},
        {.name = setting::catalog_file,
         .description = "the tenant's products and FAQ (.csv or .yaml: name, price, stock, description, keywords); "
                        "price and availability questions are answered from it"},
        {.name = setting::auto_escalate_after, .type = setting_type::integer,
         .default_value = setting::auto_escalate_after_default,
         .description = "templates.handoff hands the conversation to a person after this many bot replies (0 = never)"},
    },
    .stages = {"reply", "score", "handoff"},
    .events = {switchboard::sdk::events::conversation_escalated.data(), switchboard::sdk::events::lead_scored.data(),
               switchboard::sdk::events::lead_temperature_changed.data()},
};

}  // namespace

SWITCHBOARD_PLUGIN(switchboard::templates::templates_instance, info)
