#include <switchboard/whatsapp/channel.hpp>

#include <switchboard/meta/webhook.hpp>

#include <switchboard/sdk/events.hpp>

#include <algorithm>

namespace switchboard::whatsapp {
namespace json = boost::json;
using sdk::error_kind;
using sdk::plugin_error;

std::vector<sdk::setting> common_settings() {
    using sdk::setting_type;
    return {
        {.name = "fallback_template",
         .description = "approved template sent instead of a reply outside the 24-hour customer service window "
                        "(no variables); unset: such replies fail with a clear reason"},
        {.name = "fallback_template_language", .default_value = "en_US",
         .description = "language code of fallback_template and of templates sent without one"},
        {.name = "messaging_window", .type = setting_type::duration, .default_value = "24h",
         .description = "free-form replies are allowed this long after the customer's last message (WhatsApp: 24 h)"},
        {.name = "send_timeout", .type = setting_type::duration, .default_value = "10s",
         .description = "timeout of one send request"},
        {.name = "rate_limit", .type = setting_type::rate, .default_value = "80/1s",
         .description = "sends per number the host lets through (Cloud API throughput: 80 messages/s by default)"},
    };
}

std::vector<sdk::rate_limit> rate_limits() { return {{.setting = "rate_limit", .scope = sdk::rate_scope::account}}; }

window_policy read_window_policy(const sdk::settings& settings) {
    window_policy p;
    p.window_ms = settings.integer("messaging_window", customer_service_window_ms);
    if (p.window_ms <= 0) throw plugin_error(error_kind::invalid, "messaging_window must be positive");
    p.fallback_template = settings.string("fallback_template");
    p.fallback_language = settings.string("fallback_template_language", "en_US");
    return p;
}

channel::channel(const sdk::host& host, const sdk::settings& settings, std::string_view plugin, std::string send_setting)
    : host_(host), plugin_(plugin), phone_number_id_(settings.string("phone_number_id")), policy_(read_window_policy(settings)),
      send_timeout_ms_(settings.integer("send_timeout", 10'000)), send_setting_(std::move(send_setting)) {}

std::vector<std::string> channel::account_ids() const {
    if (phone_number_id_.empty()) return {};
    return {phone_number_id_};
}

void channel::accept(const sdk::request& request, sdk::webhook_result& out) const {
    parse_options options;
    options.channel = plugin_;
    options.own_phone_number_id = phone_number_id_;
    options.tenant_in_path = !request.instance_name().empty() || meta::path_names_tenant(request.path(), plugin_);
    for (auto& ev : parse_webhook(request.body(), options)) out.emit(ev);
    out.respond(200, "EVENT_RECEIVED");
}

json::object channel::execute(const sdk::call& call, const json::object& command) {
    if (!sdk::has_type(command, sdk::events::message_send))
        throw plugin_error(error_kind::final, "this channel executes message.send only");
    const int64_t now = host_.now_ms();
    const unsigned timeout =
        static_cast<unsigned>(std::clamp<int64_t>(call.remaining_ms(now, send_timeout_ms_), 1, send_timeout_ms_));
    auto where = target(timeout);
    if (!where) throw plugin_error(error_kind::final, send_setting_ + " is not set", "not_configured");
    sdk::http_call request = build_send(command, *where, policy_, now);
    json::object result = read_send_response(host_.http(request));
    if (request.body.find("\"type\":\"template\"") != std::string::npos && !command.contains("template"))
        result["template"] = policy_.fallback_template;
    host_.metric("messages_sent");
    return result;
}

}  // namespace switchboard::whatsapp
