// switchboard/meta/graph.hpp — the Send API call and Graph API error mapping for Meta channels.
//
// Request: Messenger Platform "Send API": POST {graph_api_base}/me/messages with
//   {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": ..., "metadata"?: ...}}
// authorized by the page access token, answered {"recipient_id": ..., "message_id": "m_..."}.
// Errors: Graph API "Handling Errors": {"error": {"message","type","code","error_subcode",
// "is_transient","fbtrace_id"}}. Rate limits: Graph API "Rate Limits" (codes 4, 17, 32, 613 and
// the Business Use Case codes) and Messenger "Common Error Codes" (1200, 613 on the Send API).
//
// All functions are pure: they build or read values and throw sdk::plugin_error; the HTTP call
// itself goes through the host (sdk::host::http), which never sees the token in a URL.
#pragma once

#include <switchboard/sdk/plugin.hpp>

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::meta {

/// What build_send_request needs besides the command.
struct send_options {
    std::string_view graph_api_base;    ///< e.g. "https://graph.facebook.com/v21.0" (trailing '/' allowed)
    std::string_view page_access_token; ///< sent as "Authorization: Bearer <token>", never in the URL
    unsigned timeout_ms = 10000;        ///< whole-request timeout in milliseconds
    bool include_metadata = true;       ///< put the idempotency key into message.metadata (Messenger)
    bool button_template = true;        ///< the platform has the button template (Messenger; not Instagram)
};

/// The Send API request for a message.send command (see sdk/events.hpp and sdk/reply.hpp).
/// Uses command "recipient"."provider_id" (the PSID / IGSID), or "recipient"."comment_id" for a
/// private reply to a Page comment (Messenger Platform "Private Replies": recipient {comment_id});
/// "text" and the reply fields: quick replies (13 at most, titles of 20 characters) as
/// message.quick_replies, buttons (3 at most) as the button template where options.button_template,
/// an attachment by URL alone as an attachment message; what does not fit becomes text (choices as
/// a numbered list, an attachment's URL under the text). When include_metadata, "job_id" goes in
/// message.metadata (echoed back in message_echoes, so an echo proves which job sent it).
/// @returns method POST, url {graph_api_base}/me/messages, headers Content-Type: application/json
///          and Authorization: Bearer <token>, the JSON body, and timeout_ms.
/// @throws sdk::plugin_error(invalid) without a recipient, or without text and attachment.
sdk::http_call build_send_request(const boost::json::object& command, const send_options& options);

/// A public reply to a Page comment (Graph API "Comments" edge): POST {graph_api_base}/{comment_id}/comments
/// with {"message": text}, for the messenger.comment_reply command {"comment_id", "text"}.
/// @throws sdk::plugin_error(invalid) without comment_id or text.
sdk::http_call build_comment_reply(const boost::json::object& command, const send_options& options);

/// Reads a comment reply answer ({"id": new comment id}). @returns {"comment_id"}.
/// @throws sdk::plugin_error per to_plugin_error() for a non-2xx; (final) without an id.
boost::json::object read_comment_response(const sdk::http_response& response);

/// A Graph API error body, as far as it could be read.
struct graph_error {
    int http_status = 0;          ///< HTTP status of the response
    int64_t code = 0;             ///< error.code, 0 when absent
    int64_t subcode = 0;          ///< error.error_subcode, 0 when absent
    std::string type;             ///< error.type, e.g. "OAuthException"
    std::string message;          ///< error.message
    std::string fbtrace_id;       ///< error.fbtrace_id, for Meta support
    bool is_transient = false;    ///< error.is_transient
    bool has_error_body = false;  ///< whether the body held an {"error": {...}} object at all
};

/// Reads a Graph API error response. Never throws; a body that is not a Graph error gives
/// has_error_body = false and only http_status.
graph_error parse_graph_error(int http_status, std::string_view body);

/// Whether retrying the same request later can succeed: HTTP 5xx or 429, is_transient, or an
/// error code from the Graph throttling / temporary set: 1 (API Unknown), 2 (API Service),
/// 4 (application request limit), 17 (user request limit), 32 (Page request limit),
/// 341 (application limit reached), 613 (calls exceeded the rate limit), 1200 (Messenger:
/// temporary send message failure), 80001 / 80002 / 80006 (Business Use Case rate limits for
/// Pages, Instagram and Messenger).
bool is_retryable(const graph_error& error) noexcept;

/// The plugin_error for a failed Graph API call: retryable per is_retryable(), else final.
/// code = error.code in decimal ("http_<status>" when the body was not a Graph error); message
/// "Graph API error <code>/<subcode> (<type>): <message>" plus the fbtrace_id and, for well-known
/// codes (expired token, missing permission, 24-hour window, unknown recipient), what to change.
sdk::plugin_error to_plugin_error(const graph_error& error);

/// Reads a Send API response.
/// @returns {"provider_message_id": message_id, "recipient_id": recipient_id} for a 2xx with a message_id.
/// @throws sdk::plugin_error per to_plugin_error() for a non-2xx; (final) for a 2xx without a
///         message_id (the message may have gone out, so it is not retried blindly).
boost::json::object read_send_response(const sdk::http_response& response);

/// Meta's standard messaging window: RESPONSE messages are allowed up to 24 h after the
/// customer's last message.
inline constexpr int64_t standard_messaging_window_ms = 24LL * 60 * 60 * 1000;
/// A private reply to a Page comment is allowed once, within 7 days of the comment.
inline constexpr int64_t private_reply_window_ms = 7LL * 24 * 60 * 60 * 1000;

/// Refuses a send outside the messaging window.
/// @param last_inbound_ms  when the customer last wrote (UTC ms); nullopt skips the check.
/// @param now_ms           the current time (UTC ms), from the host's clock.
/// @param window_ms        the window length in ms (messaging_window setting).
/// @throws sdk::plugin_error(final, code "messaging_window") when now_ms - last_inbound_ms > window_ms.
void check_messaging_window(std::optional<int64_t> last_inbound_ms, int64_t now_ms, int64_t window_ms);

/// Replaces every occurrence of `secret` in `text` with "[redacted]" (no-op for an empty secret).
std::string redact(std::string text, std::string_view secret);

}  // namespace switchboard::meta
