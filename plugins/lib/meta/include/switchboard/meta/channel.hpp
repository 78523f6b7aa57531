// switchboard/meta/channel.hpp — the per-tenant instance shared by the Messenger and Instagram
// plugins: settings, the webhook endpoint (subscription handshake + signed notifications) and
// the message.send command.
//
// The decisions live in pure functions (read_config, handle_webhook_request) so tests can run
// them without a host; meta_channel only forwards their results to the host's log and sinks.
#pragma once

#include <switchboard/meta/conversations.hpp>
#include <switchboard/meta/graph.hpp>
#include <switchboard/meta/profile.hpp>
#include <switchboard/meta/signature.hpp>
#include <switchboard/meta/webhook.hpp>

#include <switchboard/sdk/plugin.hpp>

#include <boost/json.hpp>

#include <array>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::meta {

/// Setting names shared by both plugins (the account id setting is channel_profile::account_setting).
namespace setting {
inline constexpr const char* app_secret = "app_secret";
inline constexpr const char* verify_token = "verify_token";
inline constexpr const char* page_access_token = "page_access_token";
inline constexpr const char* graph_api_base = "graph_api_base";
inline constexpr const char* messaging_window = "messaging_window";
inline constexpr const char* send_timeout = "send_timeout";
}  // namespace setting

/// Default of graph_api_base: the Graph API version this code was checked against.
inline constexpr const char* default_graph_api_base = "https://graph.facebook.com/v21.0";
/// Command (Messenger): a public reply to a Page comment. Fields: "comment_id", "text".
/// Result: {"comment_id": the new comment's id}.
inline constexpr std::string_view comment_reply_command = "messenger.comment_reply";

/// Default of send_timeout, in milliseconds.
inline constexpr int64_t default_send_timeout_ms = 10000;

/// The settings schema every Meta channel declares. None is required: a tenant without secrets
/// still starts; the instance logs what is missing and refuses webhooks (503) or sends (final
/// error) until it is set. `token_doc` and `account_doc` describe the page access token and the
/// account id setting (profile.account_setting) for this channel.
inline std::vector<sdk::setting> channel_settings(const channel_profile& profile, const char* token_doc,
                                                  const char* account_doc) {
    using sdk::setting_type;
    return {
        {.name = setting::app_secret, .secret = true,
         .description = "App Secret of the Meta app (App Dashboard > Settings > Basic); verifies X-Hub-Signature-256"},
        {.name = setting::verify_token, .secret = true,
         .description = "Verify Token entered with the callback URL in the App Dashboard (GET subscription handshake)"},
        {.name = setting::page_access_token, .secret = true, .description = token_doc},
        {.name = profile.account_setting.data(), .description = account_doc},
        {.name = setting::graph_api_base, .default_value = default_graph_api_base,
         .description = "Graph API base URL, with version"},
        {.name = setting::messaging_window, .type = setting_type::duration, .default_value = "86400000",
         .description = "refuse replies this long after the customer's last message (Meta's standard window is 24 h)"},
        {.name = setting::send_timeout, .type = setting_type::duration, .default_value = "10000",
         .description = "timeout of one Send API request"},
        {.name = "rate_limit", .type = setting_type::rate, .default_value = "300/1s",
         .description = "Send API calls per page the host lets through (Meta: about 300 messages/s per page)"},
    };
}

/// The host-enforced send limit of a Meta channel: setting rate_limit, per instance (one page).
inline std::vector<sdk::rate_limit> channel_rate_limits() {
    return {{.setting = "rate_limit", .scope = sdk::rate_scope::account}};
}

/// A tenant's settings for a Meta channel, read once at create.
struct channel_config {
    std::string app_secret;         ///< Meta App Secret (HMAC key of X-Hub-Signature-256); empty = unset
    std::string verify_token;       ///< token of the GET subscription handshake; empty = unset
    std::string page_access_token;  ///< Send API bearer token; empty = unset
    std::string account_id;         ///< page_id / account_id: the account this tenant owns; empty = any
    std::string graph_api_base = default_graph_api_base;
    int64_t messaging_window_ms = standard_messaging_window_ms;  ///< sends later than this after the last inbound fail
    int64_t send_timeout_ms = default_send_timeout_ms;           ///< Send API request timeout
};

/// Reads the settings of `profile`'s plugin, applying the defaults above to unset values.
/// @throws sdk::plugin_error(invalid) when a duration is not a number or not positive.
channel_config read_config(const sdk::settings& settings, const channel_profile& profile);

/// One warning per unset secret, naming the setting, the environment variable an admin would
/// normally set it from, and the consequence, e.g.
/// "app_secret is not set (FACEBOOK_APP_SECRET): webhooks for this tenant will be refused".
std::vector<std::string> missing_setting_warnings(const channel_config& config, const channel_profile& profile);

/// A log line the caller writes through the host (never containing secrets or message text).
struct log_line {
    sb_log_level level;
    std::string message;
};

/// The decision about one webhook request.
struct webhook_outcome {
    int status = 200;                          ///< HTTP status to answer
    std::string content_type = "text/plain";   ///< of body
    std::string body;                          ///< response body
    std::vector<boost::json::object> events;   ///< events to emit (empty when refused)
    std::vector<log_line> logs;                ///< lines to log
};

/// Handles a webhook request for a tenant:
///  - GET: the subscription handshake (Meta "Webhooks – Getting Started", §Verification Requests).
///    hub.mode=subscribe and hub.verify_token equal to verify_token (constant time) → 200 with
///    hub.challenge as the text/plain body; verify_token unset, or anything else → 403.
///  - POST: app_secret unset → 503; X-Hub-Signature-256 missing, malformed or wrong → 401 and no
///    event; otherwise 200 "EVENT_RECEIVED" with the events of parse_webhook(), owning entries
///    per the account id setting and whether the path names the tenant.
///  - any other method → 405.
webhook_outcome handle_webhook_request(const sdk::request& request, const channel_config& config,
                                       const channel_profile& profile);

/// Discards log lines (execute_send's default logger).
struct no_log {
    void operator()(sb_log_level, const std::string&) const noexcept {}
};

/// Executes a message.send command (see sdk/events.hpp) with an injected clock and HTTP client.
/// When the command carries the host's "recovery" member (an earlier attempt was interrupted and
/// no echo proved it), it first asks the Conversations API whether that attempt went out
/// (find_sent_message, conversations.hpp): found → nothing is sent and the result is
/// {"provider_message_id": <that message's id>, "recovered": true}, even if the messaging window
/// has closed since; not found → sent as usual; lookup failed (transport, HTTP or Graph error,
/// unreadable answer, malformed "recovery") → one SB_LOG_WARN line through `log` naming the
/// reason, then sent as usual (the command never fails because of the lookup).
/// @param now_ms  current UTC ms, for the messaging window check.
/// @param http    performs the request (sdk::host::http in production); may throw plugin_error.
/// @param log     log(sb_log_level, const std::string&); lines never contain the token or the text.
/// @returns {"provider_message_id", "recipient_id"}, or the recovered result above.
/// @throws sdk::plugin_error: (invalid) for another command type or missing fields, (final) when
///         page_access_token is unset or outside the messaging window, and per read_send_response()
///         for Graph errors. No message contains the token.
template <class Http, class Log = no_log>
boost::json::object execute_send(const boost::json::object& command, const channel_config& config,
                                 const channel_profile& profile, int64_t now_ms, Http&& http, Log&& log = Log{});

/// The instance of one tenant. Stateless after construction, so concurrent calls are safe.
class meta_channel : public sdk::instance {
public:
    /// Reads the settings and logs a warning for each unset secret; never refuses to start for them.
    /// @throws sdk::plugin_error(invalid) on malformed durations.
    meta_channel(const sdk::host& host, const sdk::settings& settings, const channel_profile& profile);

    /// The configured page_id / account_id, or nothing when unset.
    std::vector<std::string> account_ids() const override;
    void handle_webhook(const sdk::request& request, sdk::webhook_result& result) override;
    /// message.send (execute_send), and on Messenger messenger.comment_reply (a public answer to a
    /// Page comment: build_comment_reply). A private reply (recipient.comment_id) is claimed per
    /// comment first: a second one for the same comment, from another route, fails (final,
    /// "private_reply_used"); the same call retried goes through.
    boost::json::object execute(const sdk::call& call, const boost::json::object& command) override;
    /// Stage `comment_reply` (Messenger, on comment.received): with: {private: "...", public: "..."}
    /// (either or both; "{{name}}" becomes the commenter's name) emits a message.send to
    /// recipient.comment_id (a private reply) and messenger.comment_reply (a public one).
    /// @throws sdk::plugin_error(invalid) when neither text is given.
    void run_stage(const sdk::call& call, std::string_view stage, const boost::json::object& event,
                   sdk::emitter& out) override;

    const channel_config& config() const noexcept { return config_; }

private:
    sdk::host host_;
    const channel_profile& profile_;
    channel_config config_;
};

namespace detail {
/// The checks of execute_send before any I/O; returns the request to make.
sdk::http_call prepare_send(const boost::json::object& command, const channel_config& config,
                            const channel_profile& profile, int64_t now_ms);

/// What a recovery lookup for `command` needs, or nullopt when there is nothing to look up: no
/// "recovery" member, or a command prepare_send() refuses anyway (other type, no token, no
/// recipient or text). `user_id` and `text` point into `command`.
/// @throws sdk::plugin_error(invalid) for a malformed "recovery" member.
struct recovery_lookup {
    lookup_options options;
    std::string_view user_id, text;
    int64_t since_ms = 0;
};
std::optional<recovery_lookup> plan_recovery(const boost::json::object& command, const channel_config& config,
                                             const channel_profile& profile);

/// The warning logged when the lookup cannot tell (the token is redacted from `reason`).
std::string recovery_warning(const channel_profile& profile, std::string_view reason, std::string_view token);
}  // namespace detail

template <class Http, class Log>
boost::json::object execute_send(const boost::json::object& command, const channel_config& config,
                                 const channel_profile& profile, int64_t now_ms, Http&& http, Log&& log) {
    try {
        if (auto plan = detail::plan_recovery(command, config, profile))
            if (auto mid = find_sent_message(plan->user_id, plan->text, plan->since_ms, plan->options, http))
                return boost::json::object{{"provider_message_id", *mid}, {"recovered", true}};
    } catch (const std::exception& e) {  // plugin_error, or anything unexpected: send as before
        log(SB_LOG_WARN, detail::recovery_warning(profile, e.what(), config.page_access_token));
    }
    sdk::http_call call = detail::prepare_send(command, config, profile, now_ms);
    try {
        return read_send_response(http(call));
    } catch (const sdk::plugin_error& e) {
        // Transport errors may quote the request; make sure the token never leaves in a message.
        throw sdk::plugin_error(e.kind(), redact(e.what(), config.page_access_token), e.code());
    }
}

}  // namespace switchboard::meta
