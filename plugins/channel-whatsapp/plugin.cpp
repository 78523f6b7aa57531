// WhatsApp Cloud API channel plugin. Webhooks follow Meta "Webhooks – Getting Started" (GET
// subscription handshake with hub.verify_token; POST signed with X-Hub-Signature-256 by the Meta
// app secret); sends go to POST {api_base}/{phone-number-id}/messages with the access token as
// a bearer token. Parsing and the message mapping live in plugins/lib/whatsapp.
#include <switchboard/meta/signature.hpp>
#include <switchboard/sdk/events.hpp>
#include <switchboard/whatsapp/channel.hpp>

namespace {
namespace sdk = switchboard::sdk;
namespace meta = switchboard::meta;
namespace whatsapp = switchboard::whatsapp;

constexpr const char* default_api_base = "https://graph.facebook.com/v21.0";

class cloud_instance : public whatsapp::channel {
public:
    cloud_instance(const sdk::host& host, const sdk::settings& s)
        : channel(host, s, "whatsapp", "access_token (WHATSAPP_ACCESS_TOKEN)"), app_secret_(s.string("app_secret")),
          verify_token_(s.string("verify_token")), access_token_(s.string("access_token")),
          api_base_(s.base_url("api_base", default_api_base)) {
        if (app_secret_.empty())
            host_.warn("app_secret is not set (FACEBOOK_APP_SECRET): webhooks for this tenant will be refused");
        if (verify_token_.empty())
            host_.warn("verify_token is not set (WHATSAPP_VERIFY_TOKEN): the subscription handshake (GET) will be refused");
        if (access_token_.empty())
            host_.warn("access_token is not set (WHATSAPP_ACCESS_TOKEN): replies for this tenant will fail");
        if (phone_number_id_.empty())
            host_.warn("phone_number_id is not set (WHATSAPP_PHONE_NUMBER_ID): replies for this tenant will fail");
    }

    void handle_webhook(const sdk::request& request, sdk::webhook_result& out) override {
        if (request.method() == "GET") return handshake(request, out);
        if (request.method() != "POST") return out.respond(405, "use GET or POST\n");
        if (app_secret_.empty()) {
            host_.warn("webhook refused with 503: app_secret is not set (FACEBOOK_APP_SECRET)");
            return out.respond(503, "app secret not configured\n");
        }
        auto status = meta::verify_signature(request.header(meta::signature_header), app_secret_, request.body());
        if (status != meta::signature_status::valid) {
            host_.warn("webhook refused with 401: X-Hub-Signature-256 " + std::string(meta::to_string(status)));
            return out.respond(401, "invalid signature\n");
        }
        accept(request, out);
    }

private:
    /// Meta "Webhooks – Getting Started", §Verification Requests.
    void handshake(const sdk::request& request, sdk::webhook_result& out) {
        auto mode = request.query_param("hub.mode");
        auto token = request.query_param("hub.verify_token");
        if (verify_token_.empty() || mode != "subscribe" || !token || !meta::secrets_equal(*token, verify_token_)) {
            host_.warn(verify_token_.empty() ? "subscription handshake refused with 403: verify_token is not set "
                                               "(WHATSAPP_VERIFY_TOKEN)"
                                             : "subscription handshake refused with 403: hub.mode is not 'subscribe' "
                                               "or hub.verify_token does not match");
            return out.respond(403, "verification failed\n");
        }
        auto challenge = request.query_param("hub.challenge");
        if (!challenge) return out.respond(400, "hub.challenge is missing\n");
        out.respond(200, *challenge);
    }

    std::optional<whatsapp::send_target> target(unsigned timeout_ms) const override {
        if (access_token_.empty() || phone_number_id_.empty()) return std::nullopt;
        return whatsapp::send_target{api_base_ + "/" + phone_number_id_ + "/messages",
                                     {{"Authorization", "Bearer " + access_token_}}, timeout_ms};
    }

    std::string app_secret_, verify_token_, access_token_, api_base_;
};

const sdk::plugin_info info = whatsapp::plugin_info_for(
    "whatsapp", "WhatsApp Cloud API channel (signed webhooks, messages, statuses; text, media, interactive, templates)",
    {
        {.name = "app_secret", .secret = true,
         .description = "App Secret of the Meta app (FACEBOOK_APP_SECRET); verifies X-Hub-Signature-256"},
        {.name = "verify_token", .secret = true,
         .description = "Verify Token entered with the callback URL (WHATSAPP_VERIFY_TOKEN)"},
        {.name = "access_token", .secret = true,
         .description = "system user access token with whatsapp_business_messaging (WHATSAPP_ACCESS_TOKEN)"},
        {.name = "phone_number_id",
         .description = "Phone number ID of the business number (WHATSAPP_PHONE_NUMBER_ID); routes POST "
                        "/webhooks/whatsapp by metadata.phone_number_id"},
        {.name = "api_base", .default_value = default_api_base,
         .description = "Graph API base URL with version (WHATSAPP_API_BASE)"},
    });
}  // namespace

SWITCHBOARD_PLUGIN(cloud_instance, info)
