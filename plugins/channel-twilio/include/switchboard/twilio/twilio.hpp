// switchboard/twilio/twilio.hpp — Twilio Programmable Messaging (SMS and WhatsApp) as pure
// functions the plugin, its tests and its fuzz target share.
//
// Inbound webhooks and status callbacks are application/x-www-form-urlencoded POSTs ("Twilio's
// request to your incoming message Webhook URL", twilio.com/docs/messaging/guides/webhook-request;
// "Outbound Message Status in Status Callbacks"), signed in X-Twilio-Signature (twilio.com/docs/
// usage/security, §Validating requests). Sends use the Messages resource
// (POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded, HTTP Basic auth), whose
// errors are {"code", "message", "more_info", "status"} (twilio.com/docs/api/errors).
// WhatsApp addresses are "whatsapp:+E.164"; SMS addresses are "+E.164" (or a short code).
#pragma once

#include <switchboard/sdk/codec.hpp>
#include <switchboard/sdk/host.hpp>

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::twilio {

/// Event: a recipient unsubscribed (Twilio error 21610, after the customer texted STOP). Fields:
/// "contact": {"provider_id"}, "error_code": "21610", "dedupe_key". The plugin also records
/// attributes.opted_out on the contact, and refuses further sends to it without calling Twilio.
inline constexpr std::string_view opted_out_event = "contact.opted_out";

/// Twilio error codes with their own handling (twilio.com/docs/api/errors).
namespace error_code {
inline constexpr int64_t unsubscribed = 21610;        ///< "Attempt to send to unsubscribed recipient"
inline constexpr int64_t too_many_requests = 20429;   ///< "Too Many Requests" (API concurrency)
inline constexpr int64_t queue_overflow = 30001;      ///< "Queue overflow": account's send queue full
inline constexpr int64_t outside_window = 63016;      ///< WhatsApp: free-form message outside the 24 h window
}  // namespace error_code

/// The X-Twilio-Signature of a form-encoded request: base64(HMAC-SHA1(auth_token, url + every
/// parameter name immediately followed by its value, sorted by name, then by value)).
/// @param url  the full URL Twilio requested (scheme, host, port as configured, path, query).
std::string signature(std::string_view auth_token, std::string_view url, const sdk::codec::form_fields& params);

/// Checks an X-Twilio-Signature header (nullopt: absent) against the form body, in constant time.
/// The URL is tried as given, without its port, and with the scheme's default port written in, as
/// Twilio's own validators do (a proxy may or may not pass the port on).
/// @returns true when one of them matches.
bool verify_signature(std::optional<std::string_view> header, std::string_view auth_token, std::string_view url,
                      std::string_view form_body);

/// Normalizes one webhook body (already verified):
///  - an inbound message (Body / NumMedia present, or SmsStatus/MessageStatus "received") →
///    message.received: "provider_message_id" (MessageSid), "account_id" (To), "contact":
///    {"provider_id": From, "name"? (ProfileName), "wa_id"? (WaId)}, "text" (Body), "attachments"
///    ([{"type": image|video|audio|document by MediaContentTypeN, "url": MediaUrlN, "mime_type"}],
///    a Latitude/Longitude location), "quick_reply_payload" (ButtonPayload, else ButtonText),
///    "reply_to" (OriginalRepliedMessageSid), "messaging": "whatsapp"|"sms";
///  - a status callback (MessageStatus without a message) → message.status: queued, accepted,
///    scheduled, sending and sent → "sent"; delivered; read; failed, undelivered and canceled →
///    "failed" with "error_code" (ErrorCode) and "error_reason" (what that code means); and
///    "dedupe_key" "status:<MessageSid>:<MessageStatus>"; ErrorCode 21610 adds contact.opted_out;
///  - anything else → webhook.unhandled.
/// Never throws.
std::vector<boost::json::object> parse_webhook(std::string_view form_body);

/// What a failed-status ErrorCode means ("30003" → "Unreachable destination handset"), or "".
std::string_view error_reason(std::string_view code);

/// What build_send needs besides the command.
struct send_options {
    std::string api_base = "https://api.twilio.com";  ///< no trailing '/'
    std::string account_sid;
    std::string auth_token;
    std::string whatsapp_from;          ///< "whatsapp:+14155238886"; used for whatsapp: recipients
    std::string sms_from;               ///< "+14155238886" or a short code; used for SMS recipients
    std::string messaging_service_sid;  ///< "MG..."; used when the matching From is unset
    std::string status_callback;        ///< our webhook URL, "" = none
    std::string fallback_content_sid;   ///< WhatsApp template (Content API "HX...") for outside the window
    int64_t window_ms = 24LL * 60 * 60 * 1000;  ///< WhatsApp customer service window
    unsigned timeout_ms = 10000;
};

/// The Messages request for a message.send command: To (recipient.provider_id), From or
/// MessagingServiceSid, Body (text with choices as a numbered list: neither SMS nor a free-form
/// WhatsApp message has buttons), MediaUrl (the attachment), StatusCallback, or ContentSid +
/// ContentVariables ({"1": ..., "2": ...}) for a "template" (its name is the Content SID). A
/// WhatsApp recipient outside the window gets fallback_content_sid, or plugin_error(final,
/// "customer_service_window").
/// @throws sdk::plugin_error(invalid) without recipient, text/attachment/template, or a sender.
sdk::http_call build_send(const boost::json::object& command, const send_options& options, int64_t now_ms);

/// Reads a Messages answer. @returns {"provider_message_id": sid, "status"?, "template"?}.
/// @throws sdk::plugin_error: 429 or 20429 → retry_after (Retry-After, else 1 s); 5xx → retryable;
///         21610 → final code "21610" (unsubscribed); 63016 → final (outside the window); other
///         4xx → final with Twilio's code and message; a 2xx without a sid → final.
boost::json::object read_send_response(const sdk::http_response& response);

}  // namespace switchboard::twilio
