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
          api_base_(s.base_url("api_base", "https://api.telegram.org")), username_(s.string("bot_username")),
          webhook_url_(s.webhook_url()),
          send_timeout_ms_(s.integer("send_timeout", 10'000)) {
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

    void run_stage(const sdk::call& call, std::string_view stage, const json::object& event, sdk::emitter& out) override {
        if (stage == "link") return link(call, event, out);
        if (stage == "staff_action") return staff_action(event, out);
        throw sdk::plugin_error(sdk::error_kind::final, "unknown stage 'telegram." + std::string(stage) + "'");
    }

private:
    /// Stage `staff_action` (on a staff bot's telegram.callback): a linked staff member pressed an
    /// alert's button → the event telegram.staff_action, the callback answered (the spinner on the
    /// button stops) and the alert edited to show the outcome in place of its buttons. A press from
    /// a chat that is not linked is only answered.
    void staff_action(const json::object& event, sdk::emitter& out) {
        if (!sdk::has_type(event, telegram::callback_event)) return;
        auto* data = sdk::string_field(event, "data");
        auto parsed = data ? telegram::parse_alert_callback(*data) : std::nullopt;
        const std::string callback_id = sdk::string_field(event, "callback_query_id")
                                            ? std::string(*sdk::string_field(event, "callback_query_id")) : "";
        auto answer = [&](std::string text) {
            out.emit({{"type", telegram::answer_callback}, {"channel", event.at("channel")},
                      {"callback_query_id", callback_id}, {"text", std::move(text)}});
        };
        if (!parsed) return;
        const std::string chat = event.contains("chat_id") ? json_text(event.at("chat_id")) : "";
        auto staff = chat.empty() ? std::nullopt : host_.kv_get(telegram::chat_staff_key(chat), sdk::kv_scope::tenant);
        if (!staff) return answer("This chat is not linked to a staff member.");
        auto& [action, ref] = *parsed;
        json::object ev{{"type", telegram::staff_action}, {"staff", *staff}, {"action", action}, {"ref", ref},
                        {"chat_id", chat}};
        const std::string message_id = event.contains("message_id") ? json_text(event.at("message_id")) : "";
        if (!message_id.empty() && message_id.find_first_not_of("0123456789") == std::string::npos &&
            message_id.size() < 16) {
            const int64_t m = std::stoll(message_id);
            ev["message_id"] = m;
            std::string text = host_.kv_get(telegram::alert_key(chat, message_id), sdk::kv_scope::tenant).value_or("");
            text += (text.empty() ? "" : "\n\n") + std::string("\u2714 ") + action + " (" + *staff + ")";
            out.emit({{"type", telegram::edit_message}, {"channel", event.at("channel")}, {"chat_id", chat},
                      {"message_id", m}, {"text", text}});
        }
        out.emit(ev);
        answer("Done: " + action);
    }

    static std::string json_text(const json::value& v) {
        return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
    }

    /// Stage `link` (on a staff bot's message.received): `/start <code>` consumes a link code
    /// minted by telegram.link_code, once, and links the sender's chat to the staff id.
    void link(const sdk::call& call, const json::object& event, sdk::emitter& out) {
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
        host_.kv_put(telegram::chat_staff_key(chat), *staff, 0, scope);
        out.emit({{"type", telegram::staff_linked}, {"staff", *staff}, {"chat_id", chat}});
        reply("Linked: alerts for you will arrive in this chat.");
    }

public:
    json::object execute(const sdk::call& call, const json::object& command) override {
        if (sdk::has_type(command, telegram::link_code)) return mint_link_code(command);
        if (token_.empty())
            throw sdk::plugin_error(sdk::error_kind::final, "bot_token is not set (TELEGRAM_BOT_TOKEN)", "not_configured");
        const unsigned timeout = call.timeout_ms(host_.now_ms(), send_timeout_ms_);
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
        if (sdk::has_type(command, telegram::edit_message)) {
            telegram::read_answer(host_.http(telegram::build_edit(command, api_base_, token_, timeout)));
            return {};
        }
        if (sdk::has_type(command, telegram::alert)) return send_alert(command, timeout);
        if (!sdk::has_type(command, events::message_send))
            throw sdk::plugin_error(sdk::error_kind::final,
                                    "telegram executes message.send, telegram.alert, telegram.edit_message, "
                                    "telegram.answer_callback, telegram.set_webhook and telegram.link_code");
        auto [chat, message_id] = sent_message(host_.http(telegram::build_send(command, api_base_, token_, timeout)));
        host_.metric("messages_sent");
        return {{"provider_message_id", chat + ":" + message_id}};
    }

private:
    /// The chat id and message_id of the Message a send answered with.
    static std::pair<std::string, std::string> sent_message(const sdk::http_response& response) {
        json::value result = telegram::read_answer(response);
        const json::object* sent = result.if_object();
        const json::object* chat = sent && sent->contains("chat") ? sent->at("chat").if_object() : nullptr;
        if (!sent || !chat || !sent->contains("message_id"))
            throw sdk::plugin_error(sdk::error_kind::retryable, "the Bot API answered without the sent Message");
        return {json::serialize(chat->at("id")), json::serialize(sent->at("message_id"))};
    }

    json::object send_alert(const json::object& command, unsigned timeout) {
        auto* staff = sdk::string_field(command, "staff");
        if (!staff) throw sdk::plugin_error(sdk::error_kind::invalid, "telegram.alert needs \"staff\"");
        auto chat = host_.kv_get(telegram::staff_chat_key(*staff), sdk::kv_scope::tenant);
        if (!chat)
            throw sdk::plugin_error(sdk::error_kind::final,
                                    "staff '" + std::string(*staff) + "' has no linked chat: mint a code with "
                                    "`switchboard telegram link-code` and have them send /start <code> to the bot",
                                    "staff_not_linked");
        auto [chat_id, message_id] = sent_message(host_.http(telegram::build_alert(command, *chat, api_base_, token_, timeout)));
        // Kept 30 days: what the edit after a button press starts from.
        host_.kv_put(telegram::alert_key(chat_id, message_id), std::string(command.at("text").as_string()),
                     30LL * 86'400'000, sdk::kv_scope::tenant);
        host_.metric("alerts_sent");
        return {{"provider_message_id", chat_id + ":" + message_id}, {"chat_id", chat_id},
                {"message_id", std::stoll(message_id)}};
    }

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
    .stages = {"link", "staff_action"},
    .commands = {events::message_send.data(), telegram::answer_callback.data(), telegram::set_webhook.data(),
                 telegram::link_code.data(), telegram::alert.data(), telegram::edit_message.data()},
    .events = {events::message_received.data(), telegram::edited_event.data(), telegram::callback_event.data(),
               telegram::staff_linked.data(), telegram::staff_action.data(), events::webhook_unhandled.data()},
    .rate_limits = {{.setting = "rate_limit", .scope = sdk::rate_scope::account},
                    {.setting = "rate_limit_per_chat", .scope = sdk::rate_scope::recipient},
                    // Group and supergroup chat ids are negative.
                    {.setting = "rate_limit_per_group", .scope = sdk::rate_scope::recipient, .recipient_prefix = "-"}},
};
}  // namespace

SWITCHBOARD_PLUGIN(telegram_instance, info)
