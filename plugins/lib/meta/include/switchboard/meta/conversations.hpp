// switchboard/meta/conversations.hpp — proof of delivery for an interrupted Send API call: asks
// the Graph API Conversations API whether our message is already in the conversation.
//
// The Send API has no idempotency key. When the host re-runs a message.send whose earlier attempt
// was interrupted mid-call and no echo proved it (sdk/events.hpp, "recovery"), the channel looks
// the message up before sending again. Requests follow Messenger Platform "Conversations API"
// (developers.facebook.com/docs/messenger-platform/conversations), which serves Messenger and
// Instagram Messaging alike with a Page access token:
//   1. "Find a conversation with a specific person":
//      GET {graph_api_base}/me/conversations?platform=messenger|instagram&user_id=<PSID|IGSID>
//      → {"data": [{"id": "<conversation-id>"}]} (empty data: no conversation).
//      "/me" is the Page the token belongs to, as in the Send API's /me/messages.
//   2. "Get a list of messages in a conversation": GET {graph_api_base}/<conversation-id>?fields=messages
//      → {"messages": {"data": [{"id", "created_time"}, ...], "paging"?}, "id"}, newest first.
//   3. "Get information about a message":
//      GET {graph_api_base}/<message-id>?fields=id,created_time,from,to,message
//      → {"id", "created_time", "from": {"id", "name"|"username", "email"?},
//         "to": {"data": [{"id", ...}]}, "message": "<text>"}.
//      Limitation (same page): details are available for the 20 most recent messages only.
// created_time is a Graph API datetime: ISO 8601 "2024-05-01T10:00:00+0000" (the Graph default
// date_format); a UNIX timestamp (the form the guide's examples use) is accepted as well. Errors
// are Graph API "Handling Errors" bodies (graph.hpp). The token goes in "Authorization: Bearer",
// never in the URL, as for the Send API.
#pragma once

#include <switchboard/meta/graph.hpp>

#include <switchboard/sdk/plugin.hpp>

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::meta {

/// Clock skew allowed between our clock (since_ms) and Meta's created_time.
inline constexpr int64_t recovery_clock_skew_ms = 5000;
/// The Conversations API details only the 20 most recent messages of a conversation.
inline constexpr size_t conversation_detail_limit = 20;

/// The host's "recovery" member of a message.send command (sdk/events.hpp).
struct recovery_request {
    int64_t interrupted_at_ms = 0;  ///< when the interrupted attempt was under way (UTC ms)
    int64_t since_ms = 0;           ///< the earliest time that attempt could have been sent (UTC ms)
};

/// Reads command["recovery"].
/// @returns nullopt when the command has no "recovery" member.
/// @throws sdk::plugin_error(invalid) when it is there but is not an object with integer since_ms.
std::optional<recovery_request> read_recovery(const boost::json::object& command);

/// What the lookup requests need.
struct lookup_options {
    std::string_view graph_api_base;     ///< e.g. "https://graph.facebook.com/v21.0" (trailing '/' allowed)
    std::string_view page_access_token;  ///< sent as "Authorization: Bearer <token>"
    std::string_view platform;           ///< "messenger" or "instagram" (Conversations API platform)
    std::string_view account_id;         ///< page id / IG account id of our side; empty = unknown
    unsigned timeout_ms = 10000;         ///< per request
};

/// Step 1: GET {base}/me/conversations?platform=<platform>&user_id=<user_id> (values percent-encoded).
sdk::http_call build_conversation_lookup(std::string_view user_id, const lookup_options& options);
/// Step 2: GET {base}/<conversation_id>?fields=messages.
sdk::http_call build_messages_lookup(std::string_view conversation_id, const lookup_options& options);
/// Step 3: GET {base}/<message_id>?fields=id,created_time,from,to,message.
sdk::http_call build_message_lookup(std::string_view message_id, const lookup_options& options);

/// Reads step 1's answer.
/// @returns the first conversation id, or nullopt when "data" is empty (no conversation yet).
/// @throws sdk::plugin_error per to_plugin_error() for a non-2xx; (final) for a 2xx whose body is
///         not {"data": [...]} or whose first entry has no string "id".
std::optional<std::string> read_conversation_id(const sdk::http_response& response);

/// One entry of a conversation's message list.
struct message_ref {
    std::string id;
    std::optional<int64_t> created_ms;  ///< nullopt when created_time is absent or unreadable
};

/// A conversation's message list (step 2's answer), in the order Meta gave it (newest first).
struct message_list {
    std::vector<message_ref> messages;
    bool more = false;  ///< paging.next present: older messages exist beyond this page
};

/// Reads step 2's answer. A conversation without messages gives an empty list.
/// @throws sdk::plugin_error per to_plugin_error() for a non-2xx; (final) when the body is not an
///         object, "messages" is not {"data": [...]}, or an entry has no string "id".
message_list read_message_list(const sdk::http_response& response);

/// One message's details (step 3's answer).
struct message_details {
    std::string id;
    std::string from_id;                ///< from.id: the sender (page / IG account, or the person)
    std::optional<std::string> text;    ///< "message"; nullopt when absent (attachments only)
    std::optional<int64_t> created_ms;  ///< created_time; nullopt when absent or unreadable
};

/// Reads step 3's answer.
/// @throws sdk::plugin_error per to_plugin_error() for a non-2xx (Meta answers an error for a
///         message older than the 20 most recent); (final) when the body is not an object with a
///         string "id".
message_details read_message_details(const sdk::http_response& response);

/// A Graph API datetime in UTC ms: ISO 8601 "YYYY-MM-DDTHH:MM:SS[.fff](Z|±HHMM|±HH:MM)", or a
/// UNIX timestamp in seconds (a JSON number or a string of digits; values ≥ 10^11 are taken as ms).
/// @returns nullopt for anything else (never throws).
std::optional<int64_t> parse_graph_time(const boost::json::value& value);

/// Whether `details` is the message we sent: from our side (from.id == account_id, or, with no
/// account_id configured, anyone but the person), exactly `text`, created at or after
/// since_ms - recovery_clock_skew_ms (a message without a readable created_time does not match).
bool is_our_message(const message_details& details, std::string_view user_id, std::string_view text,
                    int64_t since_ms, const lookup_options& options);

/// Looks for our message to `user_id` with exactly `text`, sent at or after since_ms (minus the
/// allowed skew), through steps 1–3 above; only messages of the list created in that range (or
/// with no created_time) get a detail request, at most conversation_detail_limit of them.
/// @param http  performs a request (sdk::host::http in production); may throw plugin_error.
/// @returns the provider message id when found, nullopt when the conversation shows it was not sent.
/// @throws sdk::plugin_error when the lookup cannot tell: any request failing (transport, HTTP or
///         Graph error), an unreadable answer, or more candidate messages than the API details.
///         The caller then sends as it would without a lookup.
template <class Http>
std::optional<std::string> find_sent_message(std::string_view user_id, std::string_view text, int64_t since_ms,
                                             const lookup_options& options, Http&& http) {
    std::optional<std::string> conversation = read_conversation_id(http(build_conversation_lookup(user_id, options)));
    if (!conversation) return std::nullopt;  // never talked to this person: nothing was sent
    message_list list = read_message_list(http(build_messages_lookup(*conversation, options)));
    const int64_t from_ms = since_ms - recovery_clock_skew_ms;
    size_t candidates = 0, older = 0;
    for (const message_ref& ref : list.messages) {
        if (ref.created_ms && *ref.created_ms < from_ms) {
            ++older;
            continue;
        }
        if (++candidates > conversation_detail_limit)
            throw sdk::plugin_error(sdk::error_kind::final,
                                    "more than " + std::to_string(conversation_detail_limit) +
                                        " messages since the interrupted attempt; the Conversations API details "
                                        "only the most recent ones");
        message_details details = read_message_details(http(build_message_lookup(ref.id, options)));
        if (!details.created_ms) details.created_ms = ref.created_ms;
        if (is_our_message(details, user_id, text, since_ms, options)) return details.id;
    }
    if (list.more && older == 0)
        throw sdk::plugin_error(sdk::error_kind::final,
                                "the conversation's first page of messages ends before the interrupted attempt");
    return std::nullopt;
}

}  // namespace switchboard::meta
