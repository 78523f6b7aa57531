// switchboard/whatsapp/send.hpp — sending through the WhatsApp Cloud API "Messages" endpoint
// (developers.facebook.com/docs/whatsapp/cloud-api/reference/messages), which 360dialog serves
// unchanged under its own base URL and key header.
//
// Request: POST <messages endpoint> with {"messaging_product": "whatsapp", "recipient_type":
// "individual", "to": <wa_id>, "type": ..., <type>: {...}, "biz_opaque_callback_data"?}.
// Answer: {"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id": <wamid>}]}
// or a Graph API error body ({"error": {"code", "error_subcode"?, "message", "error_data"?,
// "fbtrace_id"}}; codes per "Cloud API Error Codes").
//
// All functions are pure: the caller brings the clock and performs the request.
#pragma once

#include <switchboard/meta/graph.hpp>

#include <switchboard/sdk/host.hpp>
#include <switchboard/sdk/reply.hpp>

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::whatsapp {

/// WhatsApp's customer service window: free-form messages are allowed up to 24 h after the
/// customer's last message; after it only an approved template may be sent.
inline constexpr int64_t customer_service_window_ms = 24LL * 60 * 60 * 1000;

/// Cloud API limits the reply mapping respects ("Interactive messages", "Text messages").
inline constexpr size_t max_text_chars = 4096;          ///< text.body
inline constexpr size_t max_reply_buttons = 3;          ///< interactive "button": up to 3 reply buttons
inline constexpr size_t max_button_title_chars = 20;    ///< reply button title
inline constexpr size_t max_list_rows = 10;             ///< interactive "list": up to 10 rows in all
inline constexpr size_t max_row_title_chars = 24;       ///< list row title
inline constexpr size_t max_interactive_body_chars = 1024;

/// Cloud API error codes with their own handling (Cloud API Error Codes).
namespace error_code {
inline constexpr int64_t throughput = 130429;     ///< "Rate limit hit": the number's messages/s
inline constexpr int64_t pair_rate = 131056;      ///< "(Business Account, Consumer Account) pair rate limit hit"
inline constexpr int64_t re_engagement = 131047;  ///< "Re-engagement message": > 24 h since the customer's last reply
inline constexpr int64_t spam_rate = 131048;      ///< "Spam rate limit hit"
}  // namespace error_code

/// What to do outside the customer service window.
struct window_policy {
    int64_t window_ms = customer_service_window_ms;
    std::string fallback_template;           ///< approved template sent instead of free text; "" = fail
    std::string fallback_language = "en_US"; ///< its language code
};

/// Where and how to send.
struct send_target {
    std::string url;                                             ///< the messages endpoint, absolute
    std::vector<std::pair<std::string, std::string>> headers;    ///< authentication headers
    unsigned timeout_ms = 10000;                                 ///< whole request, ms
};

/// Whether a message.send falls outside the customer service window: no "last_inbound_ms" (the
/// customer never wrote), or more than `window_ms` ago at `now_ms`.
bool outside_window(const boost::json::object& command, int64_t window_ms, int64_t now_ms);

/// The Cloud API message object for a message.send command (sdk/events.hpp), without "to":
///   - "template" → type "template" with {"name", "language": {"code"}, "components": [{"type":
///     "body", "parameters": [{"type": "text", "text"}...]}]} (allowed at any time);
///   - outside the window (no "last_inbound_ms", or now_ms - last_inbound_ms > window_ms) →
///     policy.fallback_template when set (no parameters), else plugin_error(final,
///     code "customer_service_window");
///   - 1–3 answer choices (buttons or quick replies) with titles ≤ 20 chars → interactive
///     "button"; 4–10 with titles ≤ 24 → interactive "list"; one link button alone → interactive
///     "cta_url"; an image, video or document attachment becomes the interactive header;
///   - else an attachment → its media type ("link", "caption" but for audio, "filename" for
///     documents) and other choices degrade to a numbered list in the caption or text;
///   - else "text" (≤ 4096 chars, longer → plugin_error(invalid)).
/// @throws sdk::plugin_error(invalid) for a command without text, attachment or template.
boost::json::object build_message(const boost::json::object& command, const window_policy& policy, int64_t now_ms);

/// The POST for a message.send command: build_message() plus "messaging_product", "recipient_type",
/// "to" (recipient.provider_id) and "biz_opaque_callback_data" (the command's job_id, which status
/// webhooks carry back). @throws sdk::plugin_error(invalid) without recipient.provider_id.
sdk::http_call build_send(const boost::json::object& command, const send_target& target, const window_policy& policy,
                          int64_t now_ms);

/// Reads a Messages answer. @returns {"provider_message_id": messages[0].id (the wamid),
/// "recipient_id": contacts[0].wa_id?, "template"? (the fallback template's name)}.
/// @throws sdk::plugin_error per to_plugin_error() for a non-2xx; (final) for a 2xx without a wamid.
boost::json::object read_send_response(const sdk::http_response& response);

/// The plugin_error for a failed Messages call: 130429 → retry_after(2 s), 131056 → retry_after(6 s)
/// (Meta allows about one message per 6 s to one customer), HTTP 429 → retry_after(Retry-After or
/// 1 s), 131047 → final with the re-engagement reason, 131048 → retryable; otherwise as
/// meta::to_plugin_error (5xx and transient Graph codes retry, the rest is final). code = the
/// Cloud API error code.
sdk::plugin_error to_plugin_error(const meta::graph_error& error, int64_t retry_after_header_ms = 0);

}  // namespace switchboard::whatsapp
