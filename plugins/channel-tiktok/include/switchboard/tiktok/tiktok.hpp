// switchboard/tiktok/tiktok.hpp — TikTok Business Messaging (direct messages of a TikTok Business
// account) as pure functions the plugin, its tests and its fuzz target share.
//
// Webhooks are TikTok's envelope (TikTok for Developers, "Webhooks": "Event format"):
//   {"client_key", "event", "create_time" (s), "user_openid" (the business id), "content": "<JSON string>"}
// signed in `Tiktok-Signature: t=<unix s>,s=<hex HMAC-SHA256(client secret, "<t>.<raw body>")>`
// ("Check the signature"). Business Messaging events: im_receive_msg (content: {"type": "text"|
// "image"|"share_post"|..., "message_id", "timestamp" (ms), "conversation_id", "text": {"body"},
// "image": {"media_id"}, "share_post": {"embed_url"}, "from", "from_user": {"id"}, "to",
// "to_user": {"id"}, "referenced_message_info"?}); im_send_msg (the same, for a message the
// business sent: an echo); im_mark_read_msg ({"conversation_id", "read": {"last_read_timestamp"
// (ms)}, "from_user": {"id"}}).
// Sends: POST {api_base}/open_api/v1.3/business/message/send/ with header Access-Token and
// {"business_id", "recipient_type": "CONVERSATION", "recipient": <conversation_id>, "message_type":
// "TEXT", "text": {"body"}, "referenced_message_info"?}; answers {"code": 0, "message", "request_id",
// "data": {"message": {"message_id"}}}, a non-zero code on failure.
#pragma once

#include <switchboard/sdk/host.hpp>

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::tiktok {

/// Outcome of checking a Tiktok-Signature header.
enum class signature_status { valid, missing, malformed, mismatch, stale };

/// "valid", "missing", "malformed", "mismatch" or "stale", for log lines.
std::string_view to_string(signature_status status) noexcept;

/// Checks `header` (nullopt: absent) against HMAC-SHA256(client_secret, t + "." + raw_body) in
/// constant time, then the timestamp t (s) against `now_ms`: more than `tolerance_ms` away → stale.
signature_status verify_signature(std::optional<std::string_view> header, std::string_view client_secret,
                                  std::string_view raw_body, int64_t now_ms, int64_t tolerance_ms);

/// The Tiktok-Signature value for `raw_body` at `timestamp_s` (what TikTok sends; for tests).
std::string sign(std::string_view client_secret, int64_t timestamp_s, std::string_view raw_body);

/// Normalizes one verified webhook body. `business_id`: ours ("" = the envelope's user_openid).
///  - im_receive_msg to the business → message.received: "provider_message_id" (message_id),
///    "account_id" (business id), "contact": {"provider_id": conversation_id (what replies
///    address), "user_id": from_user.id, "name"?: from}, "timestamp_ms", "text" (text.body),
///    "attachments" (image media_id, share_post embed_url), "reply_to"
///    (referenced_message_info.referenced_message_id); "unsupported": {"type"} for other types;
///  - im_send_msg, and im_receive_msg from the business → message.echoed (our own message);
///  - im_mark_read_msg by the customer → message.status "read" with "watermark_ms"
///    (last_read_timestamp) and "dedupe_key"; by the business → webhook.unhandled;
///  - anything else (authorization.removed, an unparsable content) → webhook.unhandled.
/// Never throws.
std::vector<boost::json::object> parse_webhook(std::string_view raw_body, std::string_view business_id);

/// What build_send needs besides the command.
struct send_options {
    std::string api_base = "https://business-api.tiktok.com";  ///< no trailing '/'
    std::string access_token;
    std::string business_id;
    unsigned timeout_ms = 10000;
};

/// The send request for a message.send command to recipient.provider_id (a conversation_id):
/// TEXT with the text, choices as a numbered list and an attachment's URL appended (TikTok
/// messages carry no buttons; images need an upload this channel does not do); in_reply_to as
/// referenced_message_info. @throws sdk::plugin_error(invalid) without recipient or text.
sdk::http_call build_send(const boost::json::object& command, const send_options& options);

/// Reads a send answer. @returns {"provider_message_id": data.message.message_id}.
/// @throws sdk::plugin_error: HTTP 429 or code 40100 (too many requests) → retry_after
///         (Retry-After, else 1 s); HTTP 5xx or code 50000+ → retryable; other non-zero codes →
///         final with TikTok's code and message; a success without a message_id → final.
boost::json::object read_send_response(const sdk::http_response& response);

}  // namespace switchboard::tiktok
