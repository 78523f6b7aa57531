// echo — a complete small channel plugin, built outside Switchboard against the installed SDK.
//
// Provider side (a made-up provider, small enough to read in one sitting):
//   inbound   POST /webhooks/echo/<tenant> with header X-Echo-Secret: <shared_secret> and the JSON
//             body {"id": "<message id>", "from": "<sender id>", "text": "..."}
//   outbound  POST <reply_url> with Idempotency-Key: <key> and {"to", "text", "idempotency_key"};
//             a 2xx answer may carry {"id": "<provider message id>"}
// Switchboard side: the webhook becomes a message.received event, the stage `echo.reply` turns it
// into a message.send command, and execute() delivers that command to reply_url.
#include <switchboard/sdk/events.hpp>
#include <switchboard/sdk/plugin.hpp>
#include <switchboard/sdk/text.hpp>

#include <boost/json.hpp>

#include <string>
#include <string_view>

namespace {

namespace sdk = switchboard::sdk;
namespace events = switchboard::sdk::events;
namespace json = boost::json;
using sdk::error_kind;
using sdk::plugin_error;

constexpr std::string_view channel = "echo";
constexpr std::string_view secret_header = "X-Echo-Secret";

using sdk::has_type;
using sdk::string_field;

json::object unhandled(std::string_view reason, json::value raw) {
    return {{"type", events::webhook_unhandled}, {"channel", channel}, {"reason", reason}, {"raw", std::move(raw)}};
}

/// The event for one authenticated webhook body: message.received, or webhook.unhandled (stored
/// and acknowledged, so the sender stops retrying) when the body is not what we expect.
json::object normalize(std::string_view body, int64_t now_ms) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec) return unhandled("body is not JSON: " + ec.message(), json::string(body));
    if (!v.is_object()) return unhandled("body is not a JSON object", std::move(v));
    const json::object& o = v.as_object();
    for (const char* key : {"id", "from"})
        if (!string_field(o, key)) return unhandled(std::string("\"") + key + "\" is missing or not a non-empty string", v);
    auto* text = o.if_contains("text");
    if (!text || !text->is_string()) return unhandled("\"text\" is missing or not a string", v);

    return {{"type", events::message_received},
            {"channel", channel},
            {"provider_message_id", *string_field(o, "id")},
            {"contact", {{"provider_id", *string_field(o, "from")}}},
            {"text", text->get_string()},
            {"timestamp_ms", now_ms},  // the provider sends no time: when we received it
            {"raw", v}};
}

class echo_instance : public sdk::instance {
public:
    /// @throws plugin_error(invalid) when reply_url is not an http(s) URL or timeout is not positive.
    echo_instance(const sdk::host& host, const sdk::settings& settings)
        : host_(host),
          secret_(settings.string("shared_secret")),
          reply_url_(settings.string("reply_url")),
          timeout_ms_(settings.integer("timeout", 5000)) {
        // The host refuses a config without the required settings; this guards direct callers.
        if (secret_.empty())
            throw plugin_error(error_kind::invalid, "shared_secret is empty: set it to the X-Echo-Secret senders use");
        if (reply_url_.rfind("http://", 0) != 0 && reply_url_.rfind("https://", 0) != 0)
            throw plugin_error(error_kind::invalid,
                               "reply_url must start with http:// or https://, got '" + reply_url_ + "'");
        if (timeout_ms_ <= 0 || timeout_ms_ > 0xFFFFFFFFLL)
            throw plugin_error(error_kind::invalid, "timeout must be a positive duration such as 5s");
    }

    void handle_webhook(const sdk::request& request, sdk::webhook_result& result) override {
        if (request.method() != "POST") {
            host_.warn("webhook with method " + std::string(request.method()) + " answered 405");
            result.respond(405, "only POST is accepted");
            return;
        }
        auto received = request.header(secret_header);
        if (!received || !switchboard::sdk::text::constant_time_equal(*received, secret_)) {
            host_.warn(received ? "webhook refused with 401: X-Echo-Secret does not match shared_secret"
                                : "webhook refused with 401: no X-Echo-Secret header");
            host_.metric("webhooks_refused");
            result.respond(401, "invalid X-Echo-Secret");
            return;
        }
        json::object event = normalize(request.body(), host_.now_ms());
        if (has_type(event, events::webhook_unhandled))
            host_.warn("webhook.unhandled stored: " + std::string(event.at("reason").as_string()));
        result.emit(event);
        host_.metric("webhook_events");
        result.respond(200, R"({"ok":true})", "application/json");
    }

    /// Stage `reply`: answers an echo message.received with "echo: <text>". Events of other
    /// channels and types pass untouched, so the stage can sit in a route shared with them.
    /// With `with: { prefix: "..." }` in the route, replies start with that instead of "echo: ".
    void run_stage(const sdk::call& call, std::string_view stage, const json::object& event, sdk::emitter& out) override {
        if (stage != "reply") throw plugin_error(error_kind::final, "unknown stage 'echo." + std::string(stage) + "'");
        auto* event_channel = event.if_contains("channel");
        if (!has_type(event, events::message_received) || !event_channel || !event_channel->is_string() ||
            event_channel->get_string() != channel)
            return;
        auto* contact = event.if_contains("contact");
        auto* from = contact && contact->is_object() ? string_field(contact->get_object(), "provider_id") : nullptr;
        auto* text = event.if_contains("text");
        if (!from || !text || !text->is_string()) {
            host_.debug("echo.reply skipped a message.received without contact.provider_id or text");
            return;
        }
        json::object send{{"type", events::message_send},
                          {"channel", channel},
                          {"recipient", {{"provider_id", *from}}},
                          {"text", call.param("prefix", "echo: ") + std::string(text->get_string())}};
        if (auto* conversation = event.if_contains("conversation"); conversation && conversation->is_object())
            if (auto* id = conversation->get_object().if_contains("id")) send["conversation_id"] = *id;
        if (auto* mid = event.if_contains("provider_message_id")) send["in_reply_to"] = *mid;
        out.emit(send);
    }

    /// message.send → POST reply_url. Safe to repeat: the receiver deduplicates on Idempotency-Key,
    /// the call's idempotency key (the same on every retry, derived from the inbound message id).
    /// @returns {"provider_message_id": the response's "id", or the idempotency key when it has none}.
    /// @throws plugin_error: (invalid) for another command or missing fields; (retryable) on
    ///         transport failure, 429 and 5xx; (final, code "http_<status>") for any other non-2xx.
    json::object execute(const sdk::call& context, const json::object& command) override {
        if (!has_type(command, events::message_send))
            throw plugin_error(error_kind::invalid, "the echo channel executes only message.send");
        auto* recipient = command.if_contains("recipient");
        auto* to = recipient && recipient->is_object() ? string_field(recipient->get_object(), "provider_id") : nullptr;
        auto* text = string_field(command, "text");
        const std::string& key = context.idempotency_key();
        if (!to || !text)
            throw plugin_error(error_kind::invalid, "message.send needs recipient.provider_id and a non-empty text");
        if (key.empty()) throw plugin_error(error_kind::invalid, "the call has no idempotency key");

        sdk::http_call call;
        call.method = "POST";
        call.url = reply_url_;
        call.headers = {{"Content-Type", "application/json"}, {"Idempotency-Key", key}};
        call.body = json::serialize(json::object{{"to", *to}, {"text", *text}, {"idempotency_key", key}});
        call.timeout_ms = static_cast<unsigned>(timeout_ms_);
        sdk::http_response response = host_.http(call);

        const int status = response.status;
        if (status >= 200 && status < 300) {
            host_.metric("messages_sent");
            boost::system::error_code ec;
            json::value body = json::parse(response.body, ec);
            const json::string* id = !ec && body.is_object() ? string_field(body.as_object(), "id") : nullptr;
            return {{"provider_message_id", id ? json::string(*id) : json::string(key)}};
        }
        host_.metric("send_failures");
        // The response body is not quoted: a receiver may echo the message text back in it.
        std::string why = "reply_url answered HTTP " + std::to_string(status);
        if (status == 429 || status >= 500)
            throw plugin_error(error_kind::retryable, why + "; will retry", "http_" + std::to_string(status));
        throw plugin_error(error_kind::final, why + "; check reply_url and what the receiver expects",
                           "http_" + std::to_string(status));
    }

private:
    sdk::host host_;
    std::string secret_;
    std::string reply_url_;
    int64_t timeout_ms_;
};

const sdk::plugin_info info{
    .name = "echo",
    .version = "0.1.0",
    .license = "Apache-2.0",
    .description = "Example channel: shared-secret webhooks in, replies POSTed to a configurable URL",
    .capabilities = SB_CAP_CHANNEL | SB_CAP_STAGE,
    .settings = {{.name = "shared_secret", .required = true, .secret = true,
                  .description = "value the sender puts in the X-Echo-Secret header of every webhook"},
                 {.name = "reply_url", .required = true,
                  .description = "http(s) URL replies are POSTed to as JSON {to, text, idempotency_key}"},
                 {.name = "timeout", .type = sdk::setting_type::duration, .default_value = "5s",
                  .description = "timeout of one POST to reply_url"}},
    .stages = {"reply"},
    .commands = {events::message_send.data()},
    .events = {events::message_received.data(), events::webhook_unhandled.data()},
};

}  // namespace

SWITCHBOARD_PLUGIN(echo_instance, info)
