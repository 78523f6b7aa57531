#include <switchboard/templates/instance.hpp>

namespace switchboard::templates {

templates_instance::templates_instance(const sdk::host& host, const sdk::settings& settings)
    : host_(host),
      config_(config_from_settings(settings)),
      templates_(template_store::shipped()),
      matcher_(intent_matcher::shipped()),
      signals_(signal_matcher::shipped()) {
    const std::string file = settings.string(setting::templates_file);
    const std::string document = settings.string(setting::templates);
    if (!file.empty() && !document.empty())
        throw sdk::plugin_error(sdk::error_kind::invalid,
                                "both templates_file and templates are set: keep one of them (templates_file names "
                                "a JSON file, templates holds the JSON itself)");
    if (!file.empty())
        templates_.apply_overrides_file(file);
    else if (!document.empty())
        templates_.apply_overrides_json(document, "setting 'templates' (the contents of templates_file)");
}

void templates_instance::run_stage(const sdk::call& call, std::string_view stage, const boost::json::object& event,
                                   sdk::emitter& out) {
    if (stage == score_stage) {
        if (!sdk::has_type(event, sdk::events::message_received)) return;
        sdk::lead::assessment a{signals_.signals(sdk::json_fields::text_at(event, "text")), {}, {}};
        if (sdk::lead::apply(host_, call, event, a, "keywords", out)) host_.metric("leads_scored");
        return;
    }
    if (stage != reply_stage)
        throw sdk::plugin_error(sdk::error_kind::final, "unknown stage 'templates." + std::string(stage) +
                                                            "': the templates plugin provides templates.reply and "
                                                            "templates.score");
    auto items = respond(event, config_, templates_, matcher_);
    if (items.empty()) {
        host_.metric("replies_suppressed_escalated");
        return;
    }
    for (const auto& item : items) out.emit(item);
    // Intent and locale only: the message text is the customer's and never reaches the log.
    const auto& reply = items.back();
    host_.debug("replied with intent '" + std::string(reply.at("intent").as_string()) + "' in locale '" +
                std::string(reply.at("locale").as_string()) + "'");
    host_.metric("replies");
    if (items.size() > 1) host_.metric("handoffs");
}

}  // namespace switchboard::templates
