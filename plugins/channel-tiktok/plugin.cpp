// TikTok Business Messaging channel plugin: signed webhooks (Tiktok-Signature over the timestamp
// and raw body, with a freshness window), direct messages in and out, and TikTok's own messaging
// rules enforced before a send: the customer writes first, replies only within the window after
// their last message, and at most daily_limit_per_user messages per customer per UTC day (a send
// beyond it is deferred to the next day, not failed). Wire formats live in src/tiktok.cpp.
#include <switchboard/sdk/events.hpp>
#include <switchboard/sdk/plugin.hpp>
#include <switchboard/sdk/reply.hpp>
#include <switchboard/tiktok/tiktok.hpp>

#include <algorithm>

namespace {
namespace sdk = switchboard::sdk;
namespace events = switchboard::sdk::events;
namespace tiktok = switchboard::tiktok;
namespace json = boost::json;

constexpr int64_t day_ms = 86'400'000;

class tiktok_instance : public sdk::instance {
public:
    tiktok_instance(const sdk::host& host, const sdk::settings& s)
        : host_(host), client_secret_(s.string("client_secret")), window_ms_(s.integer("messaging_window", day_ms)),
          daily_limit_(s.integer("daily_limit_per_user", 10)), tolerance_ms_(s.integer("signature_tolerance", 300'000)),
          send_timeout_ms_(s.integer("send_timeout", 10'000)) {
        o_.api_base = s.base_url("api_base", "https://business-api.tiktok.com");
        o_.access_token = s.string("access_token");
        o_.business_id = s.string("business_id");
        if (client_secret_.empty())
            host_.warn("client_secret is not set (TIKTOK_CLIENT_SECRET): webhooks for this tenant will be refused");
        if (o_.access_token.empty() || o_.business_id.empty())
            host_.warn("access_token or business_id is not set (TIKTOK_ACCESS_TOKEN, TIKTOK_BUSINESS_ID): replies "
                       "for this tenant will fail");
    }

    std::vector<std::string> account_ids() const override {
        if (o_.business_id.empty()) return {};
        return {o_.business_id};
    }

    void handle_webhook(const sdk::request& request, sdk::webhook_result& out) override {
        if (request.method() != "POST") return out.respond(405, "use POST\n");
        if (client_secret_.empty()) {
            host_.warn("webhook refused with 403: client_secret is not set (TIKTOK_CLIENT_SECRET)");
            return out.respond(403, "client secret not configured\n");
        }
        auto status = tiktok::verify_signature(request.header("Tiktok-Signature"), client_secret_, request.body(),
                                               host_.now_ms(), tolerance_ms_);
        if (status != tiktok::signature_status::valid) {
            host_.warn("webhook refused with 401: Tiktok-Signature " + std::string(tiktok::to_string(status)));
            return out.respond(401, "invalid signature\n");
        }
        for (auto& ev : tiktok::parse_webhook(request.body(), o_.business_id)) out.emit(ev);
        out.respond(200, "ok");
    }

    json::object execute(const sdk::call& call, const json::object& command) override {
        if (!sdk::has_type(command, events::message_send))
            throw sdk::plugin_error(sdk::error_kind::final, "tiktok executes message.send only");
        if (o_.access_token.empty() || o_.business_id.empty())
            throw sdk::plugin_error(sdk::error_kind::final, "access_token and business_id must be set", "not_configured");
        const int64_t now = host_.now_ms();
        check_window(command, now);
        const std::string conversation = sdk::reply::recipient_id(command);
        // The daily limit per customer: counted before sending, given back if the send fails.
        const std::string counter = "tiktok.sent:" + conversation + ":" + std::to_string(now / day_ms);
        if (daily_limit_ > 0 && host_.kv_increment(counter, 1, 2 * day_ms) > daily_limit_) {
            host_.kv_increment(counter, -1, 2 * day_ms);
            host_.metric("daily_limit_deferrals");
            throw sdk::plugin_error::retry_after(sdk::ms_until_utc_midnight(now) + 1000,
                                                 "TikTok allows " + std::to_string(daily_limit_) +
                                                     " messages per customer per day; sent when the day turns (UTC)",
                                                 "daily_limit");
        }
        tiktok::send_options o = o_;
        o.timeout_ms = call.timeout_ms(now, send_timeout_ms_);
        try {
            auto result = tiktok::read_send_response(host_.http(tiktok::build_send(command, o)));
            host_.metric("messages_sent");
            return result;
        } catch (...) {
            if (daily_limit_ > 0) host_.kv_increment(counter, -1, 2 * day_ms);
            throw;
        }
    }

private:

    /// TikTok lets a business answer only a customer who wrote first, within the window.
    void check_window(const json::object& command, int64_t now) const {
        auto* last = command.if_contains("last_inbound_ms");
        if (!last || !last->is_int64())
            throw sdk::plugin_error(sdk::error_kind::final,
                                    "TikTok lets a business message only customers who wrote first", "user_not_first");
        if (now - last->as_int64() > window_ms_)
            throw sdk::plugin_error(sdk::error_kind::final,
                                    "outside TikTok's messaging window (" + std::to_string(window_ms_ / 3'600'000) +
                                        " h after the customer's last message)",
                                    "messaging_window");
    }

    sdk::host host_;
    tiktok::send_options o_;
    std::string client_secret_;
    int64_t window_ms_, daily_limit_, tolerance_ms_, send_timeout_ms_;
};

using sdk::setting_type;
const sdk::plugin_info info{
    .name = "tiktok",
    .version = "0.1.0",
    .license = "Apache-2.0",
    .description = "TikTok Business Messaging channel (signed webhooks, direct messages, TikTok's messaging rules)",
    .capabilities = SB_CAP_CHANNEL,
    .settings = {{.name = "client_key", .description = "the app's client key (TIKTOK_CLIENT_KEY)"},
                 {.name = "client_secret", .secret = true,
                  .description = "the app's client secret (TIKTOK_CLIENT_SECRET): verifies Tiktok-Signature"},
                 {.name = "access_token", .secret = true,
                  .description = "Business API access token of the business account (TIKTOK_ACCESS_TOKEN)"},
                 {.name = "business_id", .description = "the TikTok Business account's id (TIKTOK_BUSINESS_ID)"},
                 {.name = "api_base", .default_value = "https://business-api.tiktok.com",
                  .description = "Business API base URL (TIKTOK_API_BASE)"},
                 {.name = "messaging_window", .type = setting_type::duration, .default_value = "24h",
                  .description = "replies are allowed this long after the customer's last message"},
                 {.name = "daily_limit_per_user", .type = setting_type::integer, .default_value = "10",
                  .description = "messages per customer per UTC day; more wait for the next day (0 = no limit)"},
                 {.name = "signature_tolerance", .type = setting_type::duration, .default_value = "5m",
                  .description = "how far a Tiktok-Signature timestamp may be from now (replay protection)"},
                 {.name = "send_timeout", .type = setting_type::duration, .default_value = "10s",
                  .description = "timeout of one send request"}},
    .commands = {events::message_send.data()},
    .events = {events::message_received.data(), events::message_echoed.data(), events::message_status.data(),
               events::webhook_unhandled.data()},
};
}  // namespace

SWITCHBOARD_PLUGIN(tiktok_instance, info)
