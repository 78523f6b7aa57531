// The templates plugin: deterministic replies from shipped, overridable templates (no network).
// Everything but the registration lives in switchboard_templates_core, where the unit tests reach it.
#include <switchboard/sdk/plugin.hpp>
#include <switchboard/templates/instance.hpp>

#include <iterator>

namespace {

namespace setting = switchboard::templates::setting;

constexpr sb_setting_spec settings_spec[] = {
    {setting::locale, SB_SETTING_STRING, 0, setting::locale_default,
     "reply language when detection is off or finds no letters: en or mn"},
    {setting::detect_language, SB_SETTING_BOOL, 0, setting::detect_language_default,
     "answer messages with Cyrillic letters in mn and Latin-only ones in en"},
    {setting::business_name, SB_SETTING_STRING, 0, setting::business_name_default,
     "replaces {business_name} in replies (the default reads 'манай дэлгүүр' in mn)"},
    {setting::templates_file, SB_SETTING_STRING, 0, nullptr,
     "JSON file shaped like share/templates/replies.json whose entries override the shipped replies"},
    {setting::templates, SB_SETTING_STRING, 0, nullptr,
     "the override JSON itself, as an alternative to templates_file"},
};

constexpr const char* stages[] = {"reply"};

const switchboard::sdk::plugin_info info{
    .name = "templates",
    .version = "0.1.0",
    .license = "Apache-2.0",
    .description = "Deterministic replies in English and Mongolian from keyword intents and templates",
    .capabilities = SB_CAP_AI | SB_CAP_STAGE,
    .settings = settings_spec,
    .settings_count = std::size(settings_spec),
    .stages = stages,
    .stages_count = std::size(stages),
};

}  // namespace

SWITCHBOARD_PLUGIN(switchboard::templates::templates_instance, info)
