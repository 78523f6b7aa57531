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
        {.name = "warmup_start",
         .description = "local date (YYYY-MM-DD) a new number began sending: turns on its warm-up quota; unset = none"},
        {.name = "warmup_daily_limits", .type = setting_type::list, .default_value = R"(["20","50","100","1000"])",
         .description = "sends per day in warm-up week 1, 2, ...; the last holds from then on"},
        {.name = "time_zone", .default_value = "UTC",
         .description = "the tenant's IANA time zone: warm-up days reset at its midnight (e.g. Asia/Ulaanbaatar)"},
    };
}

sdk::plugin_info plugin_info_for(const char* name, const char* description, std::vector<sdk::setting> own_settings) {
    for (auto& c : common_settings()) own_settings.push_back(c);
    return {
        .name = name,
        .version = "0.1.0",
        .license = "Apache-2.0",
        .description = description,
        .capabilities = SB_CAP_CHANNEL,
        .settings = std::move(own_settings),
        .commands = {sdk::events::message_send.data()},
        .events = {sdk::events::message_received.data(), sdk::events::message_status.data(), reaction_event.data(),
                   sdk::events::webhook_unhandled.data()},
        .route_keys = route_keys,
        .rate_limits = {{.setting = "rate_limit", .scope = sdk::rate_scope::account}},
    };
}

warmup_policy read_warmup_policy(const sdk::settings& settings) {
    warmup_policy p;
    p.start = settings.string("warmup_start");
    p.time_zone = settings.string("time_zone", "UTC");
    if (settings.has("warmup_daily_limits")) {
        p.daily_limits.clear();
        for (auto& item : settings.list("warmup_daily_limits")) {
            try {
                size_t used = 0;
                p.daily_limits.push_back(std::stoll(item, &used));
                if (used != item.size()) throw std::invalid_argument(item);
            } catch (const std::exception&) {
                throw plugin_error(error_kind::invalid, "warmup_daily_limits must list whole numbers, got '" + item + "'");
            }
        }
    }
    validate(p);
    return p;
}

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
      warmup_(read_warmup_policy(settings)),
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
    const unsigned timeout = call.timeout_ms(now, send_timeout_ms_);
    auto where = target(timeout);
    if (!where) throw plugin_error(error_kind::final, send_setting_ + " is not set", "not_configured");
    sdk::http_call request = build_send(command, *where, policy_, now);
    const std::string counter = take_warmup_quota(now);
    json::object result;
    try {
        result = read_send_response(host_.http(request));
    } catch (...) {
        if (!counter.empty()) host_.kv_increment(counter, -1);  // not sent: the quota is not spent
        throw;
    }
    // Free text outside the window went as the fallback template (build_message throws without one).
    if (!command.contains("template") && outside_window(command, policy_.window_ms, now))
        result["template"] = policy_.fallback_template;
    host_.metric("messages_sent");
    return result;
}

std::string channel::take_warmup_quota(int64_t now_ms) {
    if (warmup_.start.empty()) return {};
    const warmup_day day = warmup_today(warmup_, now_ms);
    const std::string counter = "whatsapp.warmup:" + day.date;
    const int64_t sent = host_.kv_increment(counter, 1, 3 * 86'400'000);
    host_.gauge("warmup_daily_limit", static_cast<double>(day.limit));
    if (sent > day.limit) {
        host_.kv_increment(counter, -1);
        host_.gauge("warmup_sent_today", static_cast<double>(day.limit));
        host_.metric("warmup_deferrals");
        throw plugin_error::retry_after(day.next_reset_ms - now_ms + 1000,
                                        "warm-up quota of " + std::to_string(day.limit) + " sends on " + day.date +
                                            " (week " + std::to_string(day.week + 1) + ") used up; sent after local midnight (" +
                                            warmup_.time_zone + ")",
                                        "warmup_quota");
    }
    host_.gauge("warmup_sent_today", static_cast<double>(sent));
    return counter;
}

}  // namespace switchboard::whatsapp
