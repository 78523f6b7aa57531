// switchboard/telegram/update.hpp — Telegram Bot API webhooks and sends, as pure functions the
// plugin, its tests and its fuzz target share (Bot API, core.telegram.org/bots/api).
#pragma once

#include <switchboard/sdk/host.hpp>

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::telegram {

/// The plugin's name and channel.
inline constexpr std::string_view channel = "telegram";
/// Command: answer a callback_query (Bot API "answerCallbackQuery"). Fields: "callback_query_id",
/// "text"? (a notification shown to the user), "show_alert"?.
inline constexpr std::string_view answer_callback = "telegram.answer_callback";
/// Command: register this instance's webhook with Telegram (Bot API "setWebhook"): its URL under
/// server.public_url, the webhook_secret as secret_token, and the update kinds this channel reads.
/// Result: {"url": the registered URL}. Run by `switchboard telegram set-webhook`.
inline constexpr std::string_view set_webhook = "telegram.set_webhook";
/// Command: mint a single-use link code for a staff member (`switchboard telegram link-code`).
/// Fields: "staff" (the business's id for the person), "ttl_s"? (default 86400). Result: {"code",
/// "staff", "expires_at_ms", "link"? ("https://t.me/<bot_username>?start=<code>")}. The code lives
/// in the tenant's shared kv, so the staff bot instance that receives `/start <code>` finds it.
inline constexpr std::string_view link_code = "telegram.link_code";
/// Event: a staff member's chat is linked (stage `link` consumed a code). Fields: "staff", "chat_id".
inline constexpr std::string_view staff_linked = "telegram.staff_linked";
/// Command (staff bot): send a staff member an alert with action buttons (Bot API sendMessage with
/// an inline keyboard). Fields: "staff" (a linked staff id), "text", "ref" (the business's id of
/// what the alert is about, e.g. an appointment), "actions": [{"title": "Confirm", "action":
/// "confirm"}, ...]. Result: {"provider_message_id": "<chat>:<message_id>", "chat_id", "message_id"}.
/// Fails (final, code "staff_not_linked") for a staff id without a linked chat.
inline constexpr std::string_view alert = "telegram.alert";
/// Command: replace the text of a message the bot sent and drop its inline keyboard (Bot API
/// "editMessageText"). Fields: "chat_id", "message_id" (integer), "text".
inline constexpr std::string_view edit_message = "telegram.edit_message";
/// Event (stage `staff_action`, on a staff bot's telegram.callback): a linked staff member pressed
/// an alert's button. Fields: "staff", "action", "ref", "chat_id", "message_id".
inline constexpr std::string_view staff_action = "telegram.staff_action";

/// The tenant-scope kv keys of link codes, of linked staff chats (staff → chat id, and chat id →
/// staff for callbacks) and of sent alerts (chat:message → the alert's text, for the edit).
inline std::string link_key(std::string_view code) { return "telegram.link:" + std::string(code); }
inline std::string link_used_key(std::string_view code) { return "telegram.link-used:" + std::string(code); }
inline std::string staff_chat_key(std::string_view staff) { return "telegram.staff:" + std::string(staff); }
inline std::string chat_staff_key(std::string_view chat) { return "telegram.chat-staff:" + std::string(chat); }
inline std::string alert_key(std::string_view chat, std::string_view message_id) {
    return "telegram.alert:" + std::string(chat) + ":" + std::string(message_id);
}

/// The callback_data of an alert button: "sb:<action>:<ref>", or "" when the action is empty or
/// holds ':' or the whole exceeds the Bot API's 64 bytes.
std::string alert_callback_data(std::string_view action, std::string_view ref);
/// The (action, ref) of an alert button's callback_data, or nullopt for other data.
std::optional<std::pair<std::string, std::string>> parse_alert_callback(std::string_view data);

/// The code of a `/start <code>` deep-link message text (Telegram sends "/start CODE"), or "".
std::string start_code(std::string_view text);

/// The update kinds the channel asks for (setWebhook allowed_updates).
inline constexpr const char* allowed_updates[] = {"message", "edited_message", "callback_query"};

/// Event: an inline keyboard button was pressed (Update.callback_query). Fields: "callback_query_id",
/// "data" (the button's callback_data), "contact": {"provider_id": the user's id, "name"?},
/// "chat_id"?, "message_id"? (the message the keyboard belongs to), "dedupe_key", "raw".
inline constexpr std::string_view callback_event = "telegram.callback";
/// Event: a message the customer edited (Update.edited_message). Fields as message.received plus
/// "edit_date_ms"; routed, not filed as a second message.
inline constexpr std::string_view edited_event = "message.edited";

/// Normalizes one webhook body (an Update object, Bot API "Update"): message → message.received
/// (provider_message_id "<chat id>:<message_id>", contact.provider_id = chat id, text or caption,
/// photo/document/voice/video/sticker/location as attachments, reply_to, entities, "chat_type"; in a
/// group or supergroup the contact is the group (name = its title) and "sender": {"id", "name"?,
/// "username"?} the member who wrote), edited_message
/// → message.edited, callback_query → telegram.callback; anything else → webhook.unhandled. Every
/// event carries "dedupe_key": "update:<update_id>" (Telegram redelivers until answered 2xx).
/// Never throws: a body that is not an Update becomes webhook.unhandled.
std::vector<boost::json::object> parse_update(std::string_view body);

/// The Bot API call for a message.send command (sdk/reply.hpp fields): sendMessage with "text", or
/// for an "attachment" sendPhoto / sendVideo / sendAudio / sendDocument with the URL and the text
/// as "caption" (1024 characters at most); "reply_parameters" for an in_reply_to of the same
/// chat; "buttons" as an inline keyboard (callback_data = payload, 64 bytes at most; url buttons
/// open links), else "quick_replies" as a one-time reply keyboard.
/// @throws sdk::plugin_error(invalid) without recipient.provider_id, or without text and attachment.
sdk::http_call build_send(const boost::json::object& command, std::string_view api_base, std::string_view token,
                          unsigned timeout_ms);

/// The Bot API call for telegram.alert to `chat_id`: sendMessage with one row of inline buttons
/// whose callback_data is alert_callback_data(action, ref). @throws sdk::plugin_error(invalid)
/// without text, or for an action without title/action or too long for callback_data.
sdk::http_call build_alert(const boost::json::object& command, std::string_view chat_id, std::string_view api_base,
                           std::string_view token, unsigned timeout_ms);

/// The Bot API call for telegram.edit_message (editMessageText, without reply_markup so the inline
/// keyboard is removed). @throws sdk::plugin_error(invalid) without chat_id, integer message_id or text.
sdk::http_call build_edit(const boost::json::object& command, std::string_view api_base, std::string_view token,
                          unsigned timeout_ms);

/// The Bot API call for telegram.answer_callback (answerCallbackQuery).
/// @throws sdk::plugin_error(invalid) without callback_query_id.
sdk::http_call build_answer_callback(const boost::json::object& command, std::string_view api_base,
                                     std::string_view token, unsigned timeout_ms);

/// The Bot API call for telegram.set_webhook. @throws sdk::plugin_error(invalid) when
/// `webhook_url` is empty (server.public_url unset) or not https, or `secret` is empty.
sdk::http_call build_set_webhook(std::string_view webhook_url, std::string_view secret, std::string_view api_base,
                                 std::string_view token, unsigned timeout_ms);

/// Reads a Bot API answer ({"ok": true, "result": ...} or {"ok": false, "error_code", "description",
/// "parameters": {"retry_after"}}). @returns the "result" value.
/// @throws sdk::plugin_error: retry_after(parameters.retry_after s) for 429; retryable for 5xx and
///         unreadable answers; final (code = error_code) for other errors (chat not found, blocked).
boost::json::value read_answer(const sdk::http_response& response);

}  // namespace switchboard::telegram
