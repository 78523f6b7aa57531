// @NAME@ — a Switchboard channel plugin.
//
// Receives the provider's webhooks, verifies them, turns them into normalized events, and sends
// replies through the provider's API. Replace the wire format below with your provider's:
//   webhook  POST /webhooks/@NAME@/<tenant>, header X-Webhook-Secret: <webhook_secret>,
//            body {"id": "<message id>", "from": "<sender id>", "text": "..."}
//   send     POST <send_url>, header Idempotency-Key: <call's idempotency key>,
//            body {"to": "...", "text": "..."}, answer {"id": "<provider message id>"}
//   typing   POST <send_url>, body {"to": "...", "action": "typing"}  (the command @NAME@.typing)
// What it shows of the SDK: the call context (idempotency key, stage parameters), a command of
// its own (@NAME@.typing), a list setting (escalation_keywords) and a daily quota kept with
// kv_increment that defers sends (retry after midnight) instead of failing them.
// Rules every plugin keeps (share/doc/switchboard/writing-plugins.md): no threads of your own,
// no blocking beyond the host's HTTP client, sends safe to repeat, never log message text.
#include <switchboard/sdk/plugin.hpp>
#include <switchboard/sdk/text.hpp>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

namespace {
namespace sdk = switchboard::sdk;
namespace json = boost::json;
namespace events = switchboard::sdk::events;

constexpr std::string_view typing_command = "@NAME@.typing";

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

class @IDENT@_instance : public sdk::instance {
public:
    /// Runs once per tenant that enables the plugin; settings are already validated and defaulted.
    @IDENT@_instance(const sdk::host& host, const sdk::settings& settings)
        : host_(host),
          webhook_secret_(settings.string("webhook_secret")),
          send_url_(settings.string("send_url")),
          send_timeout_ms_(settings.integer("send_timeout", 10'000)),
          daily_limit_(settings.integer("daily_send_limit", 0)),
          keywords_(settings.list("escalation_keywords")) {
        if (send_url_.rfind("http://", 0) != 0 && send_url_.rfind("https://", 0) != 0)
            throw sdk::plugin_error(sdk::error_kind::invalid, "send_url must start with http:// or https://");
        for (auto& k : keywords_) k = lower(k);
    }

    void handle_webhook(const sdk::request& request, sdk::webhook_result& out) override {
        if (request.method() != "POST") return out.respond(405, "use POST\n");
        auto secret = request.header("X-Webhook-Secret");
        if (!secret || !sdk::text::constant_time_equal(*secret, webhook_secret_)) {
            host_.warn("webhook refused with 401: missing or wrong X-Webhook-Secret");
            return out.respond(401, "missing or wrong X-Webhook-Secret\n");
        }
        // Authenticated from here on: whatever we cannot understand is stored as unhandled, so the
        // provider stops retrying and an admin can look at it.
        boost::system::error_code ec;
        json::value body = json::parse(request.body(), ec);
        const json::object* o = ec ? nullptr : body.if_object();
        auto* id = o ? sdk::string_field(*o, "id") : nullptr;
        auto* from = o ? sdk::string_field(*o, "from") : nullptr;
        if (!id || !from) {
            out.emit({{"type", events::webhook_unhandled},
                      {"reason", "body is not {\"id\",\"from\",\"text\"}"},
                      {"raw", std::string(request.body())}});
            return out.respond(200, "{\"ok\":true}", "application/json");
        }
        auto* text = sdk::string_field(*o, "text");
        out.emit({{"type", events::message_received},
                  {"provider_message_id", *id}, // the dedupe key of provider retries
                  {"contact", {{"provider_id", *from}}},
                  {"timestamp_ms", host_.now_ms()},
                  {"text", text ? *text : json::string()},
                  {"raw", *o}});
        out.respond(200, "{\"ok\":true}", "application/json");
    }

    /// Stage `triage`: a message containing one of escalation_keywords hands the conversation to a
    /// human (conversation.escalated, with `with: { reason: ... }` from the route, default "keyword").
    void run_stage(const sdk::call& call, std::string_view stage, const json::object& event, sdk::emitter& out) override {
        if (stage != "triage") throw sdk::plugin_error(sdk::error_kind::final, "unknown stage '" + std::string(stage) + "'");
        if (!sdk::has_type(event, events::message_received)) return;
        auto* text = sdk::string_field(event, "text");
        if (!text) return;
        std::string t = lower(std::string(*text));
        for (auto& k : keywords_)
            if (!k.empty() && t.find(k) != std::string::npos) {
                out.emit({{"type", events::conversation_escalated}, {"reason", call.param("reason", "keyword")}});
                return;
            }
    }

    json::object execute(const sdk::call& call, const json::object& command) override {
        const json::object* recipient = command.contains("recipient") ? command.at("recipient").if_object() : nullptr;
        auto* to = recipient ? sdk::string_field(*recipient, "provider_id") : nullptr;
        if (!to) throw sdk::plugin_error(sdk::error_kind::invalid, "command without recipient.provider_id");
        if (sdk::has_type(command, typing_command)) {
            post(call, {{"to", *to}, {"action", "typing"}});
            return {};
        }
        if (!sdk::has_type(command, events::message_send))
            throw sdk::plugin_error(sdk::error_kind::final, "@NAME@ executes message.send and @NAME@.typing");
        if (daily_limit_ > 0) {
            // One counter per UTC day, gone after midnight: over the limit, the send waits for the
            // next day without spending an attempt.
            int64_t now = host_.now_ms();
            int64_t sent = host_.kv_increment("sent:" + std::to_string(now / 86'400'000), 1, sdk::ms_until_utc_midnight(now));
            if (sent > daily_limit_)
                throw sdk::plugin_error::retry_after(sdk::ms_until_utc_midnight(now), "daily_send_limit reached");
        }
        auto* text = sdk::string_field(command, "text");
        json::value answer = post(call, {{"to", *to}, {"text", text ? *text : json::string()}});
        auto* id = answer.is_object() ? sdk::string_field(answer.as_object(), "id") : nullptr;
        host_.metric("messages_sent");
        return {{"provider_message_id", id ? *id : json::string(call.idempotency_key())}};
    }

private:
    /// POSTs `body` to send_url with the call's idempotency key. @returns the parsed answer.
    json::value post(const sdk::call& context, const json::object& body) {
        sdk::http_call call;
        call.url = send_url_;
        call.headers = {{"Content-Type", "application/json"}, {"Idempotency-Key", context.idempotency_key()}};
        call.body = json::serialize(body);
        call.timeout_ms = static_cast<unsigned>(std::min(send_timeout_ms_, context.remaining_ms(host_.now_ms(), send_timeout_ms_)));
        sdk::http_response response = host_.http(call); // throws retryable on timeouts
        if (response.status == 429 || response.status >= 500)
            throw sdk::plugin_error(sdk::error_kind::retryable, "provider answered HTTP " + std::to_string(response.status),
                                    std::to_string(response.status));
        if (response.status < 200 || response.status >= 300)
            throw sdk::plugin_error(sdk::error_kind::final, "provider refused the request: HTTP " +
                                                                std::to_string(response.status),
                                    std::to_string(response.status));
        boost::system::error_code ec;
        json::value answer = json::parse(response.body, ec);
        return ec ? json::value() : answer;
    }

    sdk::host host_;
    std::string webhook_secret_;
    std::string send_url_;
    int64_t send_timeout_ms_;
    int64_t daily_limit_;
    std::vector<std::string> keywords_;
};

using sdk::setting_type;
const sdk::plugin_info info{
    .name = "@NAME@",
    .version = "0.1.0",
    .license = "Apache-2.0",
    .description = "@NAME@ channel",
    .capabilities = SB_CAP_CHANNEL | SB_CAP_STAGE,
    .settings = {{.name = "webhook_secret", .required = true, .secret = true,
                  .description = "shared secret the provider sends in X-Webhook-Secret"},
                 {.name = "send_url", .required = true, .description = "where replies are POSTed"},
                 {.name = "send_timeout", .type = setting_type::duration, .default_value = "10s",
                  .description = "timeout of one send request"},
                 {.name = "daily_send_limit", .type = setting_type::integer, .default_value = "0",
                  .description = "replies per UTC day before sends wait for the next day (0 = no limit)"},
                 {.name = "escalation_keywords", .type = setting_type::list, .default_value = "[]",
                  .description = "words that hand a conversation to a human (stage @NAME@.triage)"}},
    .stages = {"triage"},
    .commands = {events::message_send.data(), typing_command.data()},
    .events = {events::message_received.data(), events::webhook_unhandled.data(), events::conversation_escalated.data()},
};

}  // namespace

SWITCHBOARD_PLUGIN(@IDENT@_instance, info)
