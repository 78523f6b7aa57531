// switchboard/whatsapp/channel.hpp — the per-tenant instance both WhatsApp plugins run: the
// WhatsApp Cloud API (`whatsapp`, Meta-signed webhooks, Graph API sends) and 360dialog
// (`whatsapp-360dialog`, a shared-secret header on webhooks, D360-API-KEY on sends). They share
// the webhook parsing (webhook.hpp), the message mapping and error handling (send.hpp), and differ
// in how a webhook is authenticated and where a send goes.
#pragma once

#include <switchboard/whatsapp/send.hpp>
#include <switchboard/whatsapp/warmup.hpp>
#include <switchboard/whatsapp/webhook.hpp>

#include <switchboard/sdk/plugin.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::whatsapp {

/// The settings both plugins declare after their own: the window fallback, the send timeout and
/// the send rate limit (rate_limit, "80/1s").
std::vector<sdk::setting> common_settings();

/// The plugin_info of a WhatsApp plugin: `name`, `description` and its own settings followed by
/// common_settings(); message.send; message.received, message.status, message.reaction and
/// webhook.unhandled; route_keys by phone_number_id; the rate_limit setting as a per-number limit.
sdk::plugin_info plugin_info_for(const char* name, const char* description, std::vector<sdk::setting> own_settings);

/// Reads warmup_start, warmup_daily_limits and time_zone. @throws sdk::plugin_error(invalid) per
/// validate() or for a limit that is not a whole number.
warmup_policy read_warmup_policy(const sdk::settings& settings);

/// Reads common_settings() into a window_policy. @throws sdk::plugin_error(invalid) for a
/// non-positive messaging_window.
window_policy read_window_policy(const sdk::settings& settings);

/// The shared instance. Subclasses authenticate webhooks and say where sends go.
class channel : public sdk::instance {
public:
    /// The configured phone_number_id, or nothing (then POST /webhooks/<plugin> cannot route here).
    std::vector<std::string> account_ids() const override;

    /// message.send (see send.hpp build_message for the mapping and the 24-hour window), within the
    /// number's warm-up quota when warmup_start is set: a send past the day's limit is deferred to
    /// the next local midnight (retry_after, code "warmup_quota"); the gauges
    /// switchboard_plugin_warmup_daily_limit and _warmup_sent_today show the day's state.
    /// @returns {"provider_message_id": wamid, "recipient_id"?}.
    /// @throws sdk::plugin_error: final "not_configured" when the send credentials are unset, else as
    ///         build_send / read_send_response; transport errors are retryable (host http()).
    boost::json::object execute(const sdk::call& call, const boost::json::object& command) override;

protected:
    /// @param plugin        the plugin's name: the "channel" of its events, the segment of its webhook path.
    /// @param send_setting  the credential a send needs ("access_token", "api_key") and its
    ///                      variable, for the error when it is unset.
    channel(const sdk::host& host, const sdk::settings& settings, std::string_view plugin, std::string send_setting);

    /// Where a send goes and its authentication headers; nullopt when a credential is unset.
    virtual std::optional<send_target> target(unsigned timeout_ms) const = 0;

    /// Emits the events of an authenticated body and answers 200 "EVENT_RECEIVED".
    void accept(const sdk::request& request, sdk::webhook_result& out) const;

    sdk::host host_;
    std::string plugin_;
    std::string phone_number_id_;

private:
    /// Counts a send against today's warm-up quota. @returns the day's counter key ("" without a
    /// warm-up), to give the send back if it fails. @throws plugin_error::retry_after when used up.
    std::string take_warmup_quota(int64_t now_ms);

    window_policy policy_;
    warmup_policy warmup_;
    int64_t send_timeout_ms_;
    std::string send_setting_;
};

}  // namespace switchboard::whatsapp
