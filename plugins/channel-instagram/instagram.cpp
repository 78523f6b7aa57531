// Instagram Messaging channel plugin: registration only. Verification, normalization and the
// Send API live in plugins/meta-common (switchboard/meta/channel.hpp).
#include <switchboard/meta/channel.hpp>

namespace {
namespace meta = switchboard::meta;
const auto settings = meta::channel_settings(
    meta::instagram_profile,
    "access token of the Page linked to the Instagram account, with instagram_manage_messages",
    "id of the Instagram professional account this tenant owns; routes POST /webhooks/instagram");

class instagram_instance : public meta::meta_channel {
public:
    instagram_instance(const switchboard::sdk::host& host, const switchboard::sdk::settings& s)
        : meta_channel(host, s, meta::instagram_profile) {}
};

const switchboard::sdk::plugin_info info{
    .name = "instagram",
    .version = "0.1.0",
    .license = "Apache-2.0",
    .description = "Instagram Messaging channel (Messenger API for Instagram webhooks and Send API)",
    .capabilities = SB_CAP_CHANNEL,
    .settings = settings,
    .commands = {switchboard::sdk::events::message_send.data()},
    .events = {switchboard::sdk::events::message_received.data(), switchboard::sdk::events::message_echoed.data(),
               switchboard::sdk::events::message_status.data()},
    .route_keys = meta::route_keys,
    .rate_limits = meta::channel_rate_limits(),
};
}  // namespace

SWITCHBOARD_PLUGIN(instagram_instance, info)
