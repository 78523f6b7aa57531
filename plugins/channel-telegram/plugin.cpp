// Telegram channel plugin (Bot API webhooks and sendMessage; Bot API "Update", "setWebhook"
// secret_token). The parsing and the Bot API calls live in src/update.cpp.
#include <switchboard/sdk/events.hpp>
#include <switchboard/sdk/plugin.hpp>
#include <switchboard/sdk/text.hpp>
#include <switchboard/telegram/update.hpp>

#include <algorithm>
#include <optional>
#include <cstdio>
#include <random>
#include <string>

namespace {
namespace sdk = switchboard::sdk;
namespace events = switchboard::sdk::events;
namespace telegram = switchboard::telegram;
namespace json = boost::json;

class telegram_instance : public sdk::instance {
public:
    telegram_instance(const sdk::host& host, const sdk::settings& s)
        : host_(host), token_(s.string("bot_token")), secret_(s.string("webhook_secret")),
          api_base_(s.string("api_base", "https://api.telegram.org")), username_(s.string("bot_username")),
          webhook_url_(s.webhook_url()),
          send_timeout_ms_(s.integer("send_timeout", 10'000)) {
        if (api_base_.rfind("http://", 0) != 0 && api_base_.rfind("https://", 0) != 0)
            throw sdk::plugin_error(sdk::error_kind::invalid, "api_base must start with http:// or https://");
        if (token_.empty()) host_.warn("bot_token is not set (TELEGRAM_BOT_TOKEN): replies for this tenant will fail");
        if (secret_.empty())
            host_.warn("webhook_secret is not set (TELEGRAM_WEBHOOK_SECRET): webhooks for this tenant will be refused");
    }

    /// Bot API webhooks are POSTs of one Update; Telegram sends the setWebhook secret_token back in
    /// X-Telegram-Bot-Api-Secret-Token on each (there is no body signature).
    void handle_webhook(const sdk::request& request, sdk::webhook_result& out) override {
        if (request.method() != "POST") return out.respond(405, "use POST\n");
        if (secret_.empty()) {
            host_.warn("webhook refused with 403: webhook_secret is not set (TELEGRAM_WEBHOOK_SECRET)");
            return out.respond(403, "webhook secret not configured\n");
        }
        auto received = request.header("X-Telegram-Bot-Api-Secret-Token");
        if (!received || !sdk::text::constant_time_equal(*received, secret_)) {
            host_.warn(received ? "webhook refused with 401: X-Telegram-Bot-Api-Secret-Token does not match webhook_secret"
                                : "webhook refused with 401: no X-Telegram-Bot-Api-Secret-Token header");
            return out.respond(401, "invalid secret token\n");
        }
        for (auto& ev : telegram::parse_update(request.body())) out.emit(ev);
        out.respond(200, "ok");
    }

    /// Stage `link` (on a staff bot's message.received): `/start <code>` consumes a link code
    /// minted by telegram.link_code, once, and links the sender's chat to the staff id.
    void run_stage(const sdk::call& call, std::string_view stage, const json::object& event, sdk::emitter& out) override {
        if (stage != "link") throw sdk::plugin_error(sdk::error_kind::final, "unknown stage 'telegram." + std::string(stage) + "'");
        if (!sdk::has_type(event, events::message_received)) return;
        auto* text = sdk::string_field(event, "text");
        const std::string code = text ? telegram::start_code(*text) : "";
        if (code.empty()) return;
        const std::string chat = std::string(event.at("contact").at("provider_id").as_string());
        auto reply = [&](std::string_view words) {
            out.emit({{"type", events::message_send}, {"channel", event.at("channel")},
                      {"recipient", {{"provider_id", chat}}}, {"text", words}});
        };
        const auto scope = sdk::kv_scope::tenant;
        const std::string claim_key = "telegram.link-claim:" + code;
        std::optional<std::string> staff;
        // Single use, even when two updates race: the first increment wins. A re-run of the same
        // route (same idempotency key) finds its own claim and links again.
        if (host_.kv_increment(telegram::link_used_key(code), 1, 86'400'000, scope) == 1) {
            staff = host_.kv_get(telegram::link_key(code), scope);
            if (!staff) return reply("This link has expired or is unknown. Ask for a new one.");
            host_.kv_put(claim_key, call.idempotency_key() + "|" + *staff, 86'400'000, scope);
            host_.kv_delete(telegram::link_key(code), scope);
        } else if (auto claim = host_.kv_get(claim_key, scope);
                   claim && claim->rfind(call.idempotency_key() + "|", 0) == 0 && !call.idempotency_key().empty()) {
            staff = claim->substr(call.idempotency_key().size() + 1);
        } else {
            return reply("This link was already used. Ask for a new one.");
        }
        host_.kv_put(telegram::staff_chat_key(*staff), chat, 0, scope);
        out.emit({{"type", telegram::staff_linked}, {"staff", *staff}, {"chat_id", chat}});
        reply("Linked: alerts for you will arrive in this chat.");
    }

    json::object execute(const sdk::call& call, const json::object& command) override {
        if (sdk::has_type(command, telegram::link_code)) return mint_link_code(command);
        if (token_.empty())
            throw sdk::plugin_error(sdk::error_kind::final, "bot_token is not set (TELEGRAM_BOT_TOKEN)", "not_configured");
        const unsigned timeout = static_cast<unsigned>(
            std::clamp<int64_t>(call.remaining_ms(host_.now_ms(), send_timeout_ms_), 1, send_timeout_ms_));
        if (sdk::has_type(command, telegram::set_webhook)) {
            telegram::read_answer(
                host_.http(telegram::build_set_webhook(webhook_url_, secret_, api_base_, token_, timeout)));
            host_.info("webhook registered with Telegram: " + webhook_url_);
            return {{"url", webhook_url_}};
        }
        if (sdk::has_type(command, telegram::answer_callback)) {
            telegram::read_answer(host_.http(telegram::build_answer_callback(command, api_base_, token_, timeout)));
            return {};
        }
        if (!sdk::has_type(command, events::message_send))
            throw sdk::plugin_error(sdk::error_kind::final,
                                    "telegram executes message.send, telegram.answer_callback and telegram.set_webhook");
        json::value result = telegram::read_answer(host_.http(telegram::build_send(command, api_base_, token_, timeout)));
        const json::object* sent = result.if_object();
        const json::object* chat = sent && sent->contains("chat") ? sent->at("chat").if_object() : nullptr;
        if (!sent || !chat || !sent->contains("message_id"))
            throw sdk::plugin_error(sdk::error_kind::retryable, "sendMessage answered without the sent Message");
        host_.metric("messages_sent");
        return {{"provider_message_id",
                 json::serialize(chat->at("id")) + ":" + json::serialize(sent->at("message_id"))}};
    }

private:
    json::object mint_link_code(const json::object& command) const {
        auto* staff = sdk::string_field(command, "staff");
        if (!staff) throw sdk::plugin_error(sdk::error_kind::invalid, "telegram.link_code needs \"staff\"");
        int64_t ttl_s = 86'400;
        if (auto* t = command.if_contains("ttl_s"); t && t->is_int64() && t->as_int64() > 0) ttl_s = t->as_int64();
        std::random_device random;
        std::string code;
        for (int i = 0; i < 4; ++i) {
            char part[9];
            std::snprintf(part, sizeof part, "%08x", static_cast<unsigned>(random()));
            code += part;
        }
        host_.kv_put(telegram::link_key(code), std::string(*staff), ttl_s * 1000, sdk::kv_scope::tenant);
        json::object out{{"code", code}, {"staff", *staff}, {"expires_at_ms", host_.now_ms() + ttl_s * 1000}};
        if (!username_.empty()) out["link"] = "https://t.me/" + username_ + "?start=" + code;
        return out;
    }

    sdk::host host_;
    std::string token_, secret_, api_base_, username_, webhook_url_;
    int64_t send_timeout_ms_;
};

using sdk::setting_type;
const sdk::plugin_info info{
    .name = "telegram",
    .version = "0.1.0",
    .license = "Apache-2.0",
    .description = "Telegram channel (Bot API webhooks with secret_token, sendMessage, callback queries)",
    .capabilities = SB_CAP_CHANNEL | SB_CAP_STAGE,
    .settings = {{.name = "bot_token", .secret = true, .description = "the bot's token from @BotFather (Bot API)"},
                 {.name = "webhook_secret", .secret = true,
                  .description = "secret_token given to setWebhook; checked in X-Telegram-Bot-Api-Secret-Token"},
                 {.name = "bot_username", .description = "the bot's @username, for t.me deep links"},
                 {.name = "api_base", .default_value = "https://api.telegram.org", .description = "Bot API base URL"},
                 {.name = "send_timeout", .type = setting_type::duration, .default_value = "10s",
                  .description = "timeout of one Bot API request"},
                 {.name = "rate_limit", .type = setting_type::rate, .default_value = "30/1s",
                  .description = "messages per bot the host lets through (Bot API FAQ: about 30 messages/s)"},
                 {.name = "rate_limit_per_chat", .type = setting_type::rate, .default_value = "1/1s",
                  .description = "messages per chat (Bot API FAQ: avoid more than one message per second in a chat)"},
                 {.name = "rate_limit_per_group", .type = setting_type::rate, .default_value = "20/1m",
                  .description = "messages per group chat (Bot API FAQ: no more than 20 messages per minute)"}},
    .stages = {"link"},
    .commands = {events::message_send.data(), telegram::answer_callback.data(), telegram::set_webhook.data(),
                 telegram::link_code.data()},
    .events = {events::message_received.data(), telegram::edited_event.data(), telegram::callback_event.data(),
               telegram::staff_linked.data(), events::webhook_unhandled.data()},
    .rate_limits = {{.setting = "rate_limit", .scope = sdk::rate_scope::account},
                    {.setting = "rate_limit_per_chat", .scope = sdk::rate_scope::recipient},
                    // Group and supergroup chat ids are negative.
                    {.setting = "rate_limit_per_group", .scope = sdk::rate_scope::recipient, .recipient_prefix = "-"}},
};
}  // namespace

SWITCHBOARD_PLUGIN(telegram_instance, info)
