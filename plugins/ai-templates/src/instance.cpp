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
        sdk::lead::assessment a{signals_.signals(sdk::json_fields::message_text(event)), {}, {}};
        if (sdk::lead::apply(host_, call, event, a, "keywords", out)) host_.metric("leads_scored");
        return;
    }
    if (stage == handoff_stage) return handoff(call, event, out);
    if (stage != reply_stage)
        throw sdk::plugin_error(sdk::error_kind::final, "unknown stage 'templates." + std::string(stage) +
                                                            "': the templates plugin provides templates.reply, "
                                                            "templates.score and templates.handoff");
    if (call.answered_earlier()) return;  // a handoff stage before this one sent its notice
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

void templates_instance::handoff(const sdk::call& call, const boost::json::object& event, sdk::emitter& out) {
    if (!sdk::has_type(event, sdk::events::message_received)) return;
    const auto* conversation = sdk::json_fields::object_at(event, "conversation");
    const auto conversation_id = conversation ? sdk::json_fields::int_at(*conversation, "id") : std::nullopt;
    if (!conversation_id) return;
    // Bot replies since the last handoff: every message this stage lets through gets one.
    const std::string replies_key = "handoff.bot_replies:" + std::to_string(*conversation_id);
    std::optional<std::string_view> reason = handoff_by_words(event, config_, matcher_);
    std::string counted;
    if (!reason && config_.auto_escalate_after > 0) {
        const int64_t replies = host_.kv_increment(replies_key, 0);
        if (replies >= config_.auto_escalate_after) {
            counted = "auto_escalate_after " + std::to_string(config_.auto_escalate_after) + " bot replies";
            reason = counted;
        }
    }
    if (!reason) {
        if (config_.auto_escalate_after > 0)
            host_.kv_increment_once(replies_key, 1, "handoff.counted:" + call.idempotency_key());
        return;
    }
    auto items = handoff_outputs(event, config_, templates_, *reason);
    if (items.empty()) return;  // already with a person
    for (const auto& item : items) out.emit(item);
    host_.kv_delete(replies_key);  // counting starts again when the conversation is released
    host_.metric("handoffs");
}

}  // namespace switchboard::templates
