// switchboard/whatsapp/webhook.hpp — normalizing WhatsApp webhooks into Switchboard events.
//
// Wire format: WhatsApp Cloud API "Webhooks" reference, field `messages`
// (developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components):
//   {"object": "whatsapp_business_account",
//    "entry": [{"id": <WABA id>,
//               "changes": [{"field": "messages",
//                            "value": {"messaging_product": "whatsapp",
//                                      "metadata": {"display_phone_number", "phone_number_id"},
//                                      "contacts"?: [{"profile": {"name"}, "wa_id"}],
//                                      "messages"?: [...], "statuses"?: [...], "errors"?: [...]}}]}]}
// 360dialog posts the same body on its Cloud API hosting; its legacy on-premise API posts a bare
// value ({"messages"?, "statuses"?, "contacts"?} without object/entry), which is read the same way.
//
// Every function here is pure: no I/O, no clock. Events follow <switchboard/sdk/events.hpp>; each
// carries "type", "channel" and "raw" (the provider fragment). Nothing authenticated is dropped
// silently: what is not understood becomes a webhook.unhandled event naming the field.
#pragma once

#include <switchboard/sdk/plugin.hpp>

#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace switchboard::whatsapp {

/// Event: a customer reacted to a message (Cloud API message type "reaction"). Fields: "account_id",
/// "contact": {"provider_id": wa_id, "name"?}, "reaction": {"message_id": the wamid reacted to,
/// "emoji": "" when the reaction was removed}, "timestamp_ms", "dedupe_key", "raw". Routed, never
/// filed as a customer message (it needs no answer).
inline constexpr std::string_view reaction_event = "message.reaction";

/// How parse_webhook treats a notification.
struct parse_options {
    /// Plugin (or instance) name written into every event's "channel".
    std::string_view channel;
    /// The phone_number_id this tenant owns (setting phone_number_id). Empty: every value is ours.
    std::string_view own_phone_number_id;
    /// Whether the URL named the tenant (/webhooks/<plugin>/<tenant>). When it did, a value for
    /// another number is reported as webhook.unhandled; when it did not, the host routed by
    /// phone_number_id (route_keys) and another number's values belong to another tenant: skipped.
    bool tenant_in_path = true;
};

/// Normalizes a webhook body whose authenticity was already checked.
/// @returns the events in payload order, for each value:
///   - messages[] → message.received: "provider_message_id" (the wamid), "account_id"
///     (phone_number_id), "contact": {"provider_id": from (wa_id), "name"? (contacts[].profile.name)},
///     "timestamp_ms", and per type: "text" (text.body; media caption; button text; interactive title),
///     "attachments": [{"type": image|video|audio|voice|document|sticker|location|contacts,
///     "media_id"?, "url"?, "mime_type"?, "filename"?, "payload"?}], "postback": {"title",
///     "payload"} (interactive button_reply / list_reply), "quick_reply_payload" (template
///     quick-reply button), "reply_to" (context.id), "forwarded", "referral" (click-to-WhatsApp
///     ad), "unsupported": {"code", "title", "details"} (type "unsupported", or a message with
///     errors[]); reactions → message.reaction; system, order and unknown types → webhook.unhandled
///   - statuses[] → message.status: "status" (sent|delivered|read|failed), "provider_message_ids"
///     [wamid], "contact": {"provider_id": recipient_id}, "timestamp_ms", "error_code" and
///     "error_reason" (errors[0].code and title/details) for failed, "dedupe_key"
///     "status:<wamid>:<status>"; other status values → webhook.unhandled
///   - value.errors[] alone, and changes of another field → webhook.unhandled naming them.
/// A body that is not JSON or neither shape → exactly one webhook.unhandled. Never throws.
std::vector<boost::json::object> parse_webhook(std::string_view raw_body, const parse_options& options);

/// Normalizes one change value (or a legacy on-premise body), as parse_webhook does for each.
/// @param account_id  the phone_number_id to report when value.metadata lacks one ("" = none).
std::vector<boost::json::object> parse_value(const boost::json::object& value, std::string_view channel,
                                             std::string_view account_id);

/// plugin_info.route_keys: the value.metadata.phone_number_id values of a POST body (unverified;
/// the host uses them only to pick the tenant of POST /webhooks/<plugin>), nothing otherwise.
std::vector<std::string> route_keys(const sdk::request& request);

}  // namespace switchboard::whatsapp
