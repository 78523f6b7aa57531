// switchboard/meta/webhook.hpp — normalizing Meta messaging webhooks into Switchboard events.
//
// Wire format: Messenger Platform "Webhook events" (messages, messaging_postbacks,
// messaging_referrals, message_deliveries, message_reads, message_echoes), shared by Instagram
// Messaging. A notification is
//   {"object": "page"|"instagram",
//    "entry": [{"id": <page or IG account id>, "time": <ms>,
//               "messaging": [{"sender": {"id": PSID}, "recipient": {"id": page id},
//                              "timestamp": <ms>, "message"|"postback"|"referral"|"delivery"|"read"|...: {...}}],
//               "standby": [...]}]}
// and may batch several entries and several messaging items per entry.
//
// Every function here is pure: no I/O, no clock, no logging. Events follow
// <switchboard/sdk/events.hpp>; each carries "type" and "channel", and "raw" holds the provider
// fragment it came from. Nothing authenticated is dropped silently: whatever is not understood
// becomes a webhook.unhandled event naming the field.
#pragma once

#include <switchboard/sdk/plugin.hpp>

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::meta {

/// How parse_webhook treats a notification.
struct parse_options {
    /// Plugin name, written into every event's "channel".
    std::string_view channel;
    /// Expected top-level `object` ("page" or "instagram"); any other value is unhandled.
    std::string_view object;
    /// The provider account id this tenant owns (page_id / account_id setting). Empty: every entry
    /// is this tenant's.
    std::string_view own_account_id;
    /// Whether the request URL named the tenant (/webhooks/<plugin>/<tenant>). When it did, an
    /// entry for another account is reported as webhook.unhandled (the URL says it is ours, the
    /// payload disagrees: an admin must look). When it did not, the host routed the request by
    /// the payload's account ids, and the other account's entries belong to another tenant's
    /// instance, so they are skipped here.
    bool tenant_in_path = true;
};

/// Event: someone commented on one of the Page's posts (webhook object "page", entry.changes[] with
/// field "feed", value.item "comment", verb "add"). Fields: "account_id" (the page id),
/// "contact": {"provider_id": from.id (an app-scoped user id, not a PSID), "name"?}, "post_id",
/// "comment_id", "parent_id"? (the comment answered, for a reply in a thread), "text" (value.message),
/// "timestamp_ms" (created_time), "dedupe_key" "comment:<comment_id>", "raw". Routes answer it with
/// stage `messenger.comment_reply`. The Page's own comments and other feed changes are unhandled.
inline constexpr std::string_view comment_received = "comment.received";

/// Normalizes one entry.changes[] item of a Page (field "feed"): comment.received for a new
/// comment by someone else, else webhook.unhandled naming the field, item and verb.
boost::json::object normalize_feed_change(const boost::json::object& change, std::string_view channel,
                                          std::string_view page_id);

/// Normalizes a webhook body whose signature was already verified.
/// @param raw_body  the request body exactly as received.
/// @returns the events in payload order: for a body that is not JSON, has another `object` or no
///          entry[] array, exactly one webhook.unhandled event whose "raw" is the body (as a
///          string when it is not JSON); otherwise one event per messaging[] / standby[] item,
///          per changes[] item (normalize_feed_change for a Page's feed) and per entry that could
///          not be read.
/// Never throws on malformed input.
std::vector<boost::json::object> parse_webhook(std::string_view raw_body, const parse_options& options);

/// Normalizes one entry.messaging[] item (Messenger Platform "Webhook events").
/// @param item           the messaging item.
/// @param channel        plugin name for "channel".
/// @param entry_id       the entry's id (page / IG account id), used when the item has no recipient.
/// @param entry_time_ms  the entry's "time" (UTC ms), used when the item has no "timestamp".
/// @returns exactly one event:
///   - message (not an echo)       → message.received
///   - message.is_echo             → message.echoed (contact = recipient, account_id = sender)
///   - postback                    → message.received with "postback"
///   - referral (standalone)       → message.received with "referral"
///   - delivery / read             → message.status "delivered" / "read"
///   - anything else (reaction, message_edit, unsent or unsupported message, optin, handover…)
///                                 → webhook.unhandled with a reason naming the field.
boost::json::object normalize_messaging_item(const boost::json::object& item, std::string_view channel,
                                             std::string_view entry_id, std::optional<int64_t> entry_time_ms);

/// Builds a webhook.unhandled event {"type","channel","reason","raw"}.
boost::json::object unhandled_event(std::string_view channel, std::string_view reason, boost::json::value raw);

/// The entry[].id values of an (unverified) body, in order and without duplicates; empty when
/// the body is not a JSON object with an entry[] array. Ids given as numbers are written in decimal.
std::vector<std::string> entry_ids(std::string_view raw_body);

/// plugin_info.route_keys for Meta channels: entry_ids() of a POST body, nothing for other
/// methods. The host uses them to pick the tenant of POST /webhooks/<plugin>; they are not
/// trusted for anything else (the signature is checked later, by the tenant's instance).
std::vector<std::string> route_keys(const sdk::request& request);

/// Whether a webhook path names the tenant: "/webhooks/<plugin>/<tenant>" → true,
/// "/webhooks/<plugin>" → false. A path of any other shape counts as naming the tenant, so
/// foreign entries are reported rather than skipped.
bool path_names_tenant(std::string_view path, std::string_view plugin);

}  // namespace switchboard::meta
