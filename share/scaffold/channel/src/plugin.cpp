// @NAME@ — a Switchboard channel plugin.
//
// Receives the provider's webhooks, verifies them, turns them into normalized events, and sends
// replies through the provider's API. Replace the wire format below with your provider's:
//   webhook  POST /webhooks/@NAME@/<tenant>, header X-Webhook-Secret: <webhook_secret>,
//            body {"id": "<message id>", "from": "<sender id>", "text": "..."}
//   send     POST <send_url>, header Idempotency-Key: <job id>, body {"to": "...", "text": "..."},
//            answer {"id": "<provider message id>"}
// Rules every plugin keeps (share/doc/switchboard/writing-plugins.md): no threads of your own,
// no blocking beyond the host's HTTP client, sends safe to repeat, never log message text.
#include <switchboard/sdk/plugin.hpp>
#include <switchboard/sdk/text.hpp>

#include <string>

namespace {
namespace sdk = switchboard::sdk;
namespace json = boost::json;
namespace events = switchboard::sdk::events;

class @IDENT@_instance : public sdk::instance {
public:
    /// Runs once per tenant that enables the plugin; settings are already validated and defaulted.
    @IDENT@_instance(const sdk::host& host, const sdk::settings& settings)
        : host_(host),
          webhook_secret_(settings.string("webhook_secret")),
          send_url_(settings.string("send_url")),
          send_timeout_ms_(settings.integer("send_timeout", 10'000)) {
        if (send_url_.rfind("http://", 0) != 0 && send_url_.rfind("https://", 0) != 0)
            throw sdk::plugin_error(sdk::error_kind::invalid, "send_url must start with http:// or https://");
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
        auto field = [&](const char* key) -> std::string {
            auto* v = o ? o->if_contains(key) : nullptr;
            return v && v->is_string() ? std::string(v->get_string()) : std::string();
        };
        std::string id = field("id"), from = field("from");
        if (id.empty() || from.empty()) {
            out.emit({{"type", events::webhook_unhandled},
                      {"reason", "body is not {\"id\",\"from\",\"text\"}"},
                      {"raw", std::string(request.body())}});
            return out.respond(200, "{\"ok\":true}", "application/json");
        }
        out.emit({{"type", events::message_received},
                  {"provider_message_id", id}, // the dedupe key of provider retries
                  {"contact", {{"provider_id", from}}},
                  {"timestamp_ms", host_.now_ms()},
                  {"text", field("text")},
                  {"raw", *o}});
        out.respond(200, "{\"ok\":true}", "application/json");
    }

    json::object execute(const json::object& command) override {
        auto type = command.if_contains("type");
        if (!type || !type->is_string() || type->get_string() != events::message_send)
            throw sdk::plugin_error(sdk::error_kind::final, "@NAME@ executes only message.send");
        auto text = [&](const json::object& o, const char* key) {
            auto* v = o.if_contains(key);
            return v && v->is_string() ? std::string(v->get_string()) : std::string();
        };
        const json::object* recipient = command.contains("recipient") ? command.at("recipient").if_object() : nullptr;
        std::string to = recipient ? text(*recipient, "provider_id") : "";
        std::string key = text(command, "idempotency_key");
        if (to.empty()) throw sdk::plugin_error(sdk::error_kind::invalid, "message.send without recipient.provider_id");

        sdk::http_call call;
        call.url = send_url_;
        call.headers = {{"Content-Type", "application/json"}, {"Idempotency-Key", key}};
        call.body = json::serialize(json::object{{"to", to}, {"text", text(command, "text")}});
        call.timeout_ms = static_cast<unsigned>(send_timeout_ms_);
        sdk::http_response response = host_.http(call); // throws retryable on timeouts

        if (response.status == 429 || response.status >= 500)
            throw sdk::plugin_error(sdk::error_kind::retryable, "provider answered HTTP " + std::to_string(response.status),
                                    std::to_string(response.status));
        if (response.status < 200 || response.status >= 300)
            throw sdk::plugin_error(sdk::error_kind::final, "provider refused the message: HTTP " +
                                                                std::to_string(response.status),
                                    std::to_string(response.status));
        boost::system::error_code ec;
        json::value answer = json::parse(response.body, ec);
        std::string id = !ec && answer.is_object() ? text(answer.get_object(), "id") : "";
        host_.metric("messages_sent");
        return {{"provider_message_id", id.empty() ? key : id}};
    }

private:
    sdk::host host_;
    std::string webhook_secret_;
    std::string send_url_;
    int64_t send_timeout_ms_;
};

const sb_setting_spec settings[] = {
    {"webhook_secret", SB_SETTING_STRING, SB_SETTING_REQUIRED | SB_SETTING_SECRET, nullptr,
     "shared secret the provider sends in X-Webhook-Secret"},
    {"send_url", SB_SETTING_STRING, SB_SETTING_REQUIRED, nullptr, "where replies are POSTed"},
    {"send_timeout", SB_SETTING_DURATION, 0, "10s", "timeout of one send request"},
};

const sdk::plugin_info info{
    .name = "@NAME@",
    .version = "0.1.0",
    .license = "Apache-2.0",
    .description = "@NAME@ channel",
    .capabilities = SB_CAP_CHANNEL,
    .settings = settings,
    .settings_count = std::size(settings),
};

}  // namespace

SWITCHBOARD_PLUGIN(@IDENT@_instance, info)
