// switchboard/sdk/events.hpp — names of the normalized events and commands (SDK event model v1).
//
// Every event and command is a JSON object with at least:
//   "type"      one of the names below
//   "tenant"    tenant id (the host fills it in when the plugin leaves it out)
//   "channel"   plugin name of the channel it concerns ("messenger", "instagram", ...)
// and, per type, the fields documented next to each name. Timestamps are UTC milliseconds since
// the Unix epoch ("..._ms"). "raw" holds the provider fragment the event was normalized from.
#pragma once

#include <string_view>

namespace switchboard::sdk::events {

/// A customer's message reached us. Fields: "provider_message_id" (mid/wamid, the dedupe key),
/// "account_id" (page or business account id), "contact": {"provider_id": PSID/IGSID,
/// "name"?}, "timestamp_ms", "text"?, "attachments"?: [{"type","url"?,"payload"?}],
/// "quick_reply_payload"?, "postback"?: {"title","payload"}, "referral"?: {...}, "raw",
/// and when the provider sends them: "reply_to" (mid replied to), "reply_to_story" (Instagram
/// story reply), "sticker_id", "contact.user_ref" (Messenger checkbox plugin).
/// A postback or referral without a message carries a synthetic provider_message_id built
/// by the channel from the provider's own ids and timestamp, so replays still deduplicate.
/// Host-added before routing: "conversation": {"id", "escalated"}; with the tenant's
/// reply_debounce, "burst": {"provider_message_ids", "texts"} (oldest first, ending with this
/// message) when earlier messages of a burst were coalesced into this one — answer all of it
/// (json_fields::message_text).
inline constexpr std::string_view message_received = "message.received";

/// Our own page/account sent a message (Meta "is_echo"). Recorded as outbound, never answered.
/// Fields as message_received; "contact" is the recipient; "app_id" and "metadata" (the string
/// given to the Send API, our job id for our own sends) when present.
inline constexpr std::string_view message_echoed = "message.echoed";

/// Delivery state of outbound messages changed. Fields: "status": "sent"|"delivered"|"read"|"failed",
/// "provider_message_ids"?: [mid...], "watermark_ms"?: every outbound message to "contact" sent at or
/// before this time has reached "status", "contact": {"provider_id"}, "timestamp_ms"; for "failed",
/// the provider's "error_code"? and "error_reason"? (kept with the message). A status never moves a
/// message backwards; one that names a provider_message_id the host does not hold yet (the receipt
/// overtook the send's record) is kept and applied when the send is recorded.
inline constexpr std::string_view message_status = "message.status";

/// A conversation was handed to a human; the bot stays silent in it from then on.
/// Fields: "conversation_id", "reason".
inline constexpr std::string_view conversation_escalated = "conversation.escalated";

/// A person handed a conversation back to the bot (`switchboard conversations release`): its
/// replies resume. Fields: "conversation_id", "released_by"? .
inline constexpr std::string_view conversation_released = "conversation.released";

/// A message changed a contact's lead score (sdk/lead_score.hpp). Fields: "contact": {"provider_id"},
/// "conversation_id"?, "score", "delta", "temperature": "HOT"|"WARM"|"COLD", "signals": [names],
/// "source", "sentiment"?, "topic"?.
inline constexpr std::string_view lead_scored = "lead.scored";

/// That change moved the contact to another temperature class. Fields: "contact": {"provider_id"},
/// "conversation_id"?, "score", "from", "to".
inline constexpr std::string_view lead_temperature_changed = "lead.temperature_changed";

/// An authenticated payload the channel did not understand. Stored and acknowledged, never routed.
/// Fields: "reason", "raw".
inline constexpr std::string_view webhook_unhandled = "webhook.unhandled";

/// Command: send a message to a contact. Fields: "channel", "recipient": {"provider_id"},
/// "text", "conversation_id", "in_reply_to" (provider_message_id of the inbound message, if any),
/// "last_inbound_ms" (when the customer last wrote; the host fills it for the 24-hour window),
/// "idempotency_key" (host-filled, the same as the call context's: stable across retries, restarts
/// and databases), "job_id" (host-filled: the outbox row, which Messenger echoes back as metadata to
/// prove which job was delivered). Result: {"provider_message_id": "..."}.
///
/// Rich replies (sdk/reply.hpp): "buttons", "quick_replies", one "attachment" by URL, or a
/// "template"; each channel maps what its provider supports and degrades the rest to text. A
/// private reply to a Facebook comment addresses "recipient": {"comment_id"} (Messenger).
///
/// "recovery" (host-filled, only when an earlier attempt was interrupted mid-call and no echo
/// proved it within delivery.echo_grace): {"interrupted_at_ms", "since_ms"}. A channel that can
/// ask its provider whether the message already went out (same recipient and text, sent at or
/// after "since_ms") does so before sending; when it finds it, it answers without sending:
/// {"provider_message_id": "...", "recovered": true}. When it cannot tell, it sends.
inline constexpr std::string_view message_send = "message.send";

/// Command: notify the business (email, SMS, push, outbound webhook, staff chat). Its fields are
/// defined by the notification plugins that execute it.
inline constexpr std::string_view notification_send = "notification.send";

/// Command: create or update a lead in a CRM. Its fields are defined by the CRM plugins.
inline constexpr std::string_view lead_upsert = "lead.upsert";

/// Command: create a payment invoice. Its fields are defined by the payment plugins.
inline constexpr std::string_view payment_invoice_create = "payment.invoice.create";

/// The command types every host knows. A stage's output is a command when its type is one of these
/// or one a plugin of the tenant declares (sb_plugin_descriptor.commands); the rest are events.
inline constexpr std::string_view commands[] = {message_send, notification_send, lead_upsert, payment_invoice_create};

/// True when `type` names one of the SDK's commands (see commands[]).
constexpr bool is_command(std::string_view type) {
    for (auto c : commands)
        if (c == type) return true;
    return false;
}

}  // namespace switchboard::sdk::events
