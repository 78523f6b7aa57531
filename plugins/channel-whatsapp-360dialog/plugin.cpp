// 360dialog channel plugin (a WhatsApp Business Solution Provider). Its webhooks carry Cloud API
// bodies (or, on the legacy on-premise API, bare {"messages"|"statuses"} bodies) but no signature
// the business can verify: the Meta app belongs to 360dialog. 360dialog lets the webhook URL be
// registered with custom headers (POST /v1/configs/webhook {"url", "headers"}), so a shared secret
// goes in one, checked in constant time. Sends go to POST {api_base}/messages with D360-API-KEY.
#include <switchboard/sdk/events.hpp>
#include <switchboard/sdk/text.hpp>
#include <switchboard/whatsapp/channel.hpp>

namespace {
namespace sdk = switchboard::sdk;
namespace whatsapp = switchboard::whatsapp;

constexpr const char* default_api_base = "https://waba-v2.360dialog.io";
constexpr const char* default_secret_header = "X-Webhook-Secret";

class dialog360_instance : public whatsapp::channel {
public:
    dialog360_instance(const sdk::host& host, const sdk::settings& s)
        : channel(host, s, "whatsapp-360dialog", "api_key (D360_API_KEY)"), api_key_(s.string("api_key")),
          secret_(s.string("webhook_secret")), secret_header_(s.string("webhook_secret_header", default_secret_header)),
          api_base_(s.base_url("api_base", default_api_base)) {
        if (secret_.empty())
            host_.warn("webhook_secret is not set (D360_WEBHOOK_SECRET): webhooks for this tenant will be refused");
        if (api_key_.empty()) host_.warn("api_key is not set (D360_API_KEY): replies for this tenant will fail");
    }

    void handle_webhook(const sdk::request& request, sdk::webhook_result& out) override {
        if (request.method() != "POST") return out.respond(405, "use POST\n");
        if (secret_.empty()) {
            host_.warn("webhook refused with 403: webhook_secret is not set (D360_WEBHOOK_SECRET)");
            return out.respond(403, "webhook secret not configured\n");
        }
        auto received = request.header(secret_header_);
        if (!received || !sdk::text::constant_time_equal(*received, secret_)) {
            host_.warn("webhook refused with 401: " + secret_header_ +
                       (received ? " does not match webhook_secret" : " header is missing"));
            return out.respond(401, "invalid webhook secret\n");
        }
        accept(request, out);
    }

private:
    std::optional<whatsapp::send_target> target(unsigned timeout_ms) const override {
        if (api_key_.empty()) return std::nullopt;
        return whatsapp::send_target{api_base_ + "/messages", {{"D360-API-KEY", api_key_}}, timeout_ms};
    }

    std::string api_key_, secret_, secret_header_, api_base_;
};

const sdk::plugin_info info = whatsapp::plugin_info_for(
    "whatsapp-360dialog", "WhatsApp through 360dialog (Cloud API and legacy on-premise webhooks, D360-API-KEY sends)",
    {
        {.name = "api_key", .secret = true, .description = "the channel's 360dialog API key, sent as D360-API-KEY"},
        {.name = "webhook_secret", .secret = true,
         .description = "shared secret registered as a custom header of the 360dialog webhook URL"},
        {.name = "webhook_secret_header", .default_value = default_secret_header,
         .description = "name of that custom header"},
        {.name = "phone_number_id",
         .description = "phone_number_id of the number (routes POST /webhooks/whatsapp-360dialog by metadata)"},
        {.name = "api_base", .default_value = default_api_base,
         .description = "360dialog API base URL (Cloud API hosting)"},
    });
}  // namespace

SWITCHBOARD_PLUGIN(dialog360_instance, info)
