// Twilio channel plugin: SMS and WhatsApp through Twilio Programmable Messaging. Webhooks are
// checked against X-Twilio-Signature over the public URL Twilio called (server.public_url + path)
// and the form parameters; sends go through the Messages resource with StatusCallback pointing
// back at this instance's webhook. The wire formats live in src/twilio.cpp.
#include <switchboard/sdk/events.hpp>
#include <switchboard/sdk/plugin.hpp>
#include <switchboard/sdk/reply.hpp>
#include <switchboard/twilio/twilio.hpp>

#include <algorithm>

namespace {
namespace sdk = switchboard::sdk;
namespace events = switchboard::sdk::events;
namespace twilio = switchboard::twilio;
namespace json = boost::json;

class twilio_instance : public sdk::instance {
public:
    twilio_instance(const sdk::host& host, const sdk::settings& s) : host_(host) {
        o_.api_base = s.base_url("api_base", "https://api.twilio.com");
        o_.account_sid = s.string("account_sid");
        o_.auth_token = s.string("auth_token");
        o_.whatsapp_from = s.string("whatsapp_number");
        o_.sms_from = s.string("sms_number");
        o_.messaging_service_sid = s.string("messaging_service_sid");
        o_.status_callback = s.webhook_url();
        o_.fallback_content_sid = s.string("fallback_content_sid");
        o_.window_ms = s.integer("messaging_window", o_.window_ms);
        send_timeout_ms_ = s.integer("send_timeout", 10'000);
        if (o_.auth_token.empty())
            host_.warn("auth_token is not set (TWILIO_AUTH_TOKEN): webhooks for this tenant will be refused");
        if (o_.account_sid.empty())
            host_.warn("account_sid is not set (TWILIO_ACCOUNT_SID): replies for this tenant will fail");
        if (o_.status_callback.empty())
            host_.warn("server.public_url is not set (SWITCHBOARD_PUBLIC_URL): X-Twilio-Signature cannot be checked, "
                       "so webhooks will be refused, and sends carry no StatusCallback");
    }

    std::vector<std::string> account_ids() const override {
        std::vector<std::string> ids;  // the To of inbound messages: our numbers as Twilio writes them
        if (!o_.sms_from.empty()) ids.push_back(o_.sms_from);
        if (!o_.whatsapp_from.empty())
            ids.push_back(o_.whatsapp_from.starts_with("whatsapp:") ? o_.whatsapp_from : "whatsapp:" + o_.whatsapp_from);
        return ids;
    }

    void handle_webhook(const sdk::request& request, sdk::webhook_result& out) override {
        if (request.method() != "POST") return out.respond(405, "use POST\n");
        if (o_.auth_token.empty()) {
            host_.warn("webhook refused with 403: auth_token is not set (TWILIO_AUTH_TOKEN)");
            return out.respond(403, "auth token not configured\n");
        }
        if (request.public_url().empty()) {
            host_.warn("webhook refused with 503: server.public_url is not set (SWITCHBOARD_PUBLIC_URL), so the URL "
                       "Twilio signed is unknown");
            return out.respond(503, "public URL not configured\n");
        }
        auto header = request.header("X-Twilio-Signature");
        if (!twilio::verify_signature(header, o_.auth_token, request.public_url(), request.body())) {
            host_.warn(std::string("webhook refused with 401: ") +
                       (header ? "X-Twilio-Signature does not match (is server.public_url the URL configured at "
                                 "Twilio?)"
                               : "no X-Twilio-Signature header"));
            return out.respond(401, "invalid signature\n");
        }
        auto events_out = twilio::parse_webhook(request.body());
        for (auto& ev : events_out) {
            if (sdk::has_type(ev, twilio::opted_out_event)) record_opt_out(ev.at("contact").at("provider_id").as_string());
            out.emit(ev);
        }
        // Twilio reads the answer as TwiML: an empty Response sends nothing back by itself.
        out.respond(200, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>", "text/xml");
    }

    json::object execute(const sdk::call& call, const json::object& command) override {
        if (!sdk::has_type(command, events::message_send))
            throw sdk::plugin_error(sdk::error_kind::final, "twilio executes message.send only");
        if (o_.account_sid.empty() || o_.auth_token.empty())
            throw sdk::plugin_error(sdk::error_kind::final, "account_sid and auth_token must be set (TWILIO_ACCOUNT_SID, "
                                                            "TWILIO_AUTH_TOKEN)", "not_configured");
        const std::string to = sdk::reply::recipient_id(command);
        if (auto contact = host_.contact("twilio", to)) {
            auto* attrs = contact->if_contains("attributes");
            if (attrs && attrs->is_object() && attrs->as_object().contains("opted_out"))
                throw sdk::plugin_error(sdk::error_kind::final,
                                        "the recipient unsubscribed (replied STOP); not sent", "21610");
        }
        const int64_t now = host_.now_ms();
        twilio::send_options o = o_;
        o.timeout_ms = call.timeout_ms(now, send_timeout_ms_);
        sdk::http_call request = twilio::build_send(command, o, now);
        try {
            json::object result = twilio::read_send_response(host_.http(request));
            host_.metric("messages_sent");
            return result;
        } catch (const sdk::plugin_error& e) {
            if (e.code() == "21610") record_opt_out(to);
            throw;
        }
    }

private:

    void record_opt_out(std::string_view provider_id) const {
        if (provider_id.empty()) return;
        host_.update_contact("twilio", provider_id,
                             {{"attributes", {{"opted_out", true}, {"opted_out_at_ms", host_.now_ms()}}}});
        host_.info("recipient opted out (Twilio 21610): further sends to it are refused");
    }

    sdk::host host_;
    twilio::send_options o_;
    int64_t send_timeout_ms_ = 10'000;
};

using sdk::setting_type;
const sdk::plugin_info info{
    .name = "twilio",
    .version = "0.1.0",
    .license = "Apache-2.0",
    .description = "SMS and WhatsApp through Twilio (signed webhooks and status callbacks, Messages API)",
    .capabilities = SB_CAP_CHANNEL,
    .settings = {{.name = "account_sid", .description = "Account SID, AC... (TWILIO_ACCOUNT_SID)"},
                 {.name = "auth_token", .secret = true,
                  .description = "Auth Token (TWILIO_AUTH_TOKEN): verifies X-Twilio-Signature, authenticates sends"},
                 {.name = "whatsapp_number", .description = "WhatsApp sender, whatsapp:+E.164 (TWILIO_WHATSAPP_NUMBER)"},
                 {.name = "sms_number", .description = "SMS sender: +E.164 long code or short code (TWILIO_SMS_NUMBER)"},
                 {.name = "messaging_service_sid", .description = "Messaging Service SID (MG...) used when no number is set"},
                 {.name = "fallback_content_sid",
                  .description = "approved WhatsApp template (Content SID, HX...) sent outside the 24-hour window"},
                 {.name = "messaging_window", .type = setting_type::duration, .default_value = "24h",
                  .description = "WhatsApp free-form replies are allowed this long after the customer's last message"},
                 {.name = "api_base", .default_value = "https://api.twilio.com", .description = "Twilio REST API base URL (TWILIO_API_BASE)"},
                 {.name = "send_timeout", .type = setting_type::duration, .default_value = "10s",
                  .description = "timeout of one Messages request"},
                 {.name = "rate_limit_sms", .type = setting_type::rate, .default_value = "1/1s",
                  .description = "SMS segments per second the host lets through (a US long code: 1 segment/s)"},
                 {.name = "rate_limit_whatsapp", .type = setting_type::rate, .default_value = "80/1s",
                  .description = "WhatsApp messages per second the host lets through"}},
    .commands = {events::message_send.data()},
    .events = {events::message_received.data(), events::message_status.data(), twilio::opted_out_event.data(),
               events::webhook_unhandled.data()},
    // SMS recipients are E.164 ("+1..."), WhatsApp ones "whatsapp:+1...".
    .rate_limits = {{.setting = "rate_limit_sms", .scope = sdk::rate_scope::account, .unit = sdk::rate_unit::sms_segments,
                     .recipient_prefix = "+"},
                    {.setting = "rate_limit_whatsapp", .scope = sdk::rate_scope::account, .recipient_prefix = "whatsapp:"}},
};
}  // namespace

SWITCHBOARD_PLUGIN(twilio_instance, info)
