// Facebook Messenger channel plugin: registration only. Verification, normalization and the
// Send API live in plugins/meta-common (switchboard/meta/channel.hpp).
#include <switchboard/meta/channel.hpp>

namespace {
namespace meta = switchboard::meta;
const auto settings = meta::channel_settings(
    meta::messenger_profile,
    "Page access token with pages_messaging, used by the Send API",
    "id of the Facebook Page this tenant owns; routes POST /webhooks/messenger by entry id");

class messenger_instance : public meta::meta_channel {
public:
    messenger_instance(const switchboard::sdk::host& host, const switchboard::sdk::settings& s)
        : meta_channel(host, s, meta::messenger_profile) {}
};

const switchboard::sdk::plugin_info info{
    .name = "messenger",
    .version = "0.1.0",
    .license = "Apache-2.0",
    .description = "Facebook Messenger channel (Messenger Platform webhooks and Send API)",
    .capabilities = SB_CAP_CHANNEL | SB_CAP_STAGE,
    .settings = settings,
    .stages = {"comment_reply"},
    .commands = {switchboard::sdk::events::message_send.data(), meta::comment_reply_command.data()},
    .events = {switchboard::sdk::events::message_received.data(), switchboard::sdk::events::message_echoed.data(),
               switchboard::sdk::events::message_status.data(), meta::comment_received.data()},
    .route_keys = meta::route_keys,
    .rate_limits = meta::channel_rate_limits(),
};
}  // namespace

SWITCHBOARD_PLUGIN(messenger_instance, info)
