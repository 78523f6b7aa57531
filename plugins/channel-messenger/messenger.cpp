// Facebook Messenger channel plugin: registration only. Verification, normalization and the
// Send API live in plugins/meta-common (switchboard/meta/channel.hpp).
#include <switchboard/meta/channel.hpp>

namespace {
namespace meta = switchboard::meta;
using meta::setting::app_secret, meta::setting::verify_token, meta::setting::page_access_token,
    meta::setting::graph_api_base, meta::setting::messaging_window, meta::setting::send_timeout;

// None is required: a tenant without secrets still starts; the instance logs what is missing
// and refuses webhooks (503) or sends (final error) until it is set.
const sb_setting_spec settings[] = {
    {app_secret, SB_SETTING_STRING, SB_SETTING_SECRET, nullptr,
     "App Secret of the Meta app (App Dashboard > Settings > Basic); verifies X-Hub-Signature-256"},
    {verify_token, SB_SETTING_STRING, SB_SETTING_SECRET, nullptr,
     "Verify Token entered with the callback URL in the App Dashboard (GET subscription handshake)"},
    {page_access_token, SB_SETTING_STRING, SB_SETTING_SECRET, nullptr,
     "Page access token with pages_messaging, used by the Send API"},
    {"page_id", SB_SETTING_STRING, 0, nullptr,
     "id of the Facebook Page this tenant owns; routes POST /webhooks/messenger by entry id"},
    {graph_api_base, SB_SETTING_STRING, 0, meta::default_graph_api_base, "Graph API base URL, with version"},
    {messaging_window, SB_SETTING_DURATION, 0, "86400000",
     "refuse replies this long after the customer's last message (Meta's standard window is 24 h)"},
    {send_timeout, SB_SETTING_DURATION, 0, "10000", "timeout of one Send API request"},
};

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
    .capabilities = SB_CAP_CHANNEL,
    .settings = settings,
    .settings_count = std::size(settings),
    .route_keys = meta::route_keys,
};
}  // namespace

SWITCHBOARD_PLUGIN(messenger_instance, info)
