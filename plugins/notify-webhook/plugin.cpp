// Outbound webhooks to the business's own systems: every event a route forwards is POSTed to the
// tenant's URL as {"type", "timestamp", "data"}, signed per Standard Webhooks (standard_webhooks.hpp)
// and retried on its schedule. Private and loopback targets are refused unless allow_private.
#include <switchboard/notify_webhook/standard_webhooks.hpp>

#include <switchboard/sdk/events.hpp>
#include <switchboard/sdk/host_rules.hpp>
#include <switchboard/sdk/plugin.hpp>

#include <ctime>
#include <functional>

namespace {
namespace sdk = switchboard::sdk;
namespace events = switchboard::sdk::events;
namespace nw = switchboard::notify_webhook;
namespace json = boost::json;

// "2026-11-28T18:06:51.123Z"
std::string iso8601(int64_t ms) {
    std::time_t s = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&s, &tm);
    char out[40];
    std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S", &tm);
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms % 1000));
    return std::string(out) + frac;
}

class webhook_instance : public sdk::instance {
public:
    webhook_instance(const sdk::host& host, const sdk::settings& s)
        : host_(host), url_(s.string("url")), allow_private_(s.boolean("allow_private", false)),
          timeout_ms_(s.integer("timeout", 15'000)), disable_after_ms_(s.integer("disable_after", 5LL * 86'400'000)) {
        if (url_.empty()) host_.warn("url is not set (OUTBOUND_WEBHOOK_URL): forwarded events fail until it is");
        if (const auto secret = s.string("secret"); !secret.empty()) keys_.push_back(nw::secret_key(secret, "secret"));
        else host_.warn("secret is not set (OUTBOUND_WEBHOOK_SECRET): forwarded events fail until it is");
        if (const auto old = s.string("previous_secret"); !old.empty())
            keys_.push_back(nw::secret_key(old, "previous_secret"));  // signed with both while receivers rotate
        for (const auto& d : s.list("retry_schedule")) {
            auto ms = sdk::parse_duration_ms(d);
            if (!ms) throw sdk::plugin_error(sdk::error_kind::invalid, "retry_schedule: '" + d + "' is not a duration such as 5s or 2h");
            schedule_.push_back(*ms);
        }
        if (schedule_.empty()) schedule_ = nw::default_schedule_ms();
    }

    /// Stage `forward`: the routed event becomes a notification.send to this instance.
    void run_stage(const sdk::call& call, std::string_view stage, const json::object& event, sdk::emitter& out) override {
        if (stage != "forward") throw sdk::plugin_error(sdk::error_kind::final, "unknown stage '" + std::string(stage) + "'");
        json::object data = event;
        data.erase("raw");  // the provider's fragment stays with us
        out.emit({{"type", events::notification_send},
                  {"instance", call.instance_name()},
                  {"event_type", event.contains("type") ? event.at("type") : json::value("event")},
                  {"data", std::move(data)}});
    }

    json::object execute(const sdk::call& call, const json::object& command) override {
        if (!sdk::has_type(command, events::notification_send))
            throw sdk::plugin_error(sdk::error_kind::final, "the webhook sink executes notification.send only");
        if (url_.empty() || keys_.empty())
            throw sdk::plugin_error(sdk::error_kind::final, "url and secret must be set to send outbound webhooks");
        if (auto disabled = host_.kv_get("webhook.disabled"); disabled && *disabled == url_)
            throw sdk::plugin_error(sdk::error_kind::final, "the endpoint is disabled (it answered 410 Gone or failed for "
                                                            "disable_after); a new url re-enables the sink");
        const int64_t now = host_.now_ms();
        // A replay (switchboard webhooks replay) keeps the message's first id: receivers dedupe by it.
        const auto* replayed = command.if_contains("webhook_id");
        const std::string id = replayed && replayed->is_string() ? std::string(replayed->as_string())
                                                                 : "msg_" + call.idempotency_key();
        const auto* type = command.if_contains("event_type");
        const auto* data = command.if_contains("data");
        const std::string body = json::serialize(json::object{
            {"type", type && type->is_string() ? type->as_string() : json::string("event")},
            {"timestamp", iso8601(now)},
            {"data", data ? *data : json::value(json::object{})}});
        const int64_t timestamp_s = now / 1000;
        sdk::http_call request;
        request.url = url_;
        request.body = body;
        request.timeout_ms = static_cast<unsigned>(call.timeout_ms(now, static_cast<unsigned>(timeout_ms_), timeout_ms_));
        request.max_response_bytes = 64 * 1024;
        request.refuse_private_addresses = !allow_private_;
        request.headers = {{"Content-Type", "application/json"},
                           {"webhook-id", id},
                           {"webhook-timestamp", std::to_string(timestamp_s)},
                           {"webhook-signature", nw::signature_header(keys_, id, timestamp_s, body)}};
        // Attempts are ours to count: a deferral (the retry schedule) is not a host attempt.
        const auto attempt = static_cast<unsigned>(host_.kv_increment("webhook.attempts:" + call.idempotency_key(), 1,
                                                                      7LL * 86'400'000));
        int status = 0;
        std::optional<int64_t> retry_after;
        std::string failure;
        try {
            auto response = host_.http(request);
            status = response.status;
            if (response.retry_after_ms() > 0) retry_after = response.retry_after_ms();
        } catch (const sdk::plugin_error& e) {
            if (e.kind() != sdk::error_kind::retryable) throw;  // a refused private address, a bad URL: final
            failure = e.what();
        }
        const auto d = nw::decide(status, retry_after, attempt, schedule_, std::hash<std::string>{}(id));
        host_.metric(d.kind == nw::decision::delivered ? "webhooks_delivered" : "webhook_failures");
        if (d.kind == nw::decision::delivered) {
            host_.kv_delete("webhook.failing_since");
            return {{"status", status}, {"webhook_id", id}, {"attempts", attempt}};
        }
        // An endpoint that has failed every delivery for disable_after is switched off too.
        const auto since = host_.kv_get("webhook.failing_since");
        if (!since) host_.kv_put("webhook.failing_since", std::to_string(now));
        const bool failing_too_long = since && disable_after_ms_ > 0 && now - sdk::kv_counter_value(*since) >= disable_after_ms_;
        if (d.kind == nw::decision::disable || failing_too_long) {
            host_.kv_put("webhook.disabled", url_);
            const std::string why = d.kind == nw::decision::disable
                                        ? "answered 410 Gone"
                                        : "has failed every delivery for " + std::to_string(disable_after_ms_ / 1000) + " s";
            host_.warn("the outbound webhook endpoint " + why + ": it is disabled, later events fail at once");
            return {{"type", "notify.webhook.disabled"}, {"url", url_}, {"status", status}, {"webhook_id", id}, {"reason", why}};
        }
        if (d.kind == nw::decision::retry)
            throw sdk::plugin_error::retry_after(d.delay_ms, d.reason + (failure.empty() ? "" : " (" + failure + ")"));
        throw sdk::plugin_error(sdk::error_kind::final, d.reason);
    }

private:
    sdk::host host_;
    std::string url_;
    bool allow_private_;
    int64_t timeout_ms_;
    int64_t disable_after_ms_;  ///< failing this long (every delivery) disables the endpoint; 0 = never
    std::vector<std::string> keys_;
    std::vector<int64_t> schedule_;
};

using sdk::setting_type;

const sdk::plugin_info info{
    .name = "webhook",
    .version = "0.1.0",
    .license = "Apache-2.0",
    .description = "Signed outbound webhooks (Standard Webhooks) to the business's own URL, with a retry schedule",
    .capabilities = SB_CAP_NOTIFY | SB_CAP_STAGE,
    .settings = {
        {.name = "url", .description = "the business's HTTPS endpoint events are POSTed to"},
        {.name = "secret", .secret = true, .description = "whsec_<base64 key>: signs every delivery"},
        {.name = "previous_secret", .secret = true,
         .description = "the secret being rotated out: deliveries carry a signature under each until it is removed"},
        {.name = "allow_private", .type = setting_type::boolean, .default_value = "false",
         .description = "allow a loopback or private-network url (refused by default: SSRF)"},
        {.name = "timeout", .type = setting_type::duration, .default_value = "15s", .description = "per delivery attempt"},
        {.name = "disable_after", .type = setting_type::duration, .default_value = "120h",
         .description = "an endpoint that failed every delivery this long is disabled (notify.webhook.disabled); 0 = never"},
        {.name = "retry_schedule", .type = setting_type::list,
         .description = "waits after each failed attempt, e.g. [0s, 5s, 5m, 30m, 2h, 5h, 10h, 10h] (the default)"},
    },
    .stages = {"forward"},
    .commands = {events::notification_send.data()},
    .events = {"notify.webhook.disabled"},
};

}  // namespace

SWITCHBOARD_PLUGIN(webhook_instance, info)
