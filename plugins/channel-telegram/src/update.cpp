// Telegram Bot API: Update objects in, sendMessage / answerCallbackQuery out (core.telegram.org/bots/api).
#include <switchboard/telegram/update.hpp>

#include <switchboard/sdk/reply.hpp>

#include <switchboard/sdk/events.hpp>
#include <switchboard/sdk/text.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

namespace switchboard::telegram {

namespace json = boost::json;
namespace events = switchboard::sdk::events;
using sdk::error_kind;
using sdk::plugin_error;

namespace {

/// An integer id (Bot API ids are integers up to 52 bits) as text; "" when absent or not a number.
std::string id_text(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (!v) return "";
    if (v->is_int64()) return std::to_string(v->as_int64());
    if (v->is_uint64()) return std::to_string(v->as_uint64());
    if (v->is_string()) return std::string(v->as_string());
    return "";
}

const json::object* object_at(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v ? v->if_object() : nullptr;
}

std::string string_at(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : "";
}

/// "First Last" of a User or Chat, or its username.
std::string display_name(const json::object& who) {
    std::string name = string_at(who, "first_name");
    std::string last = string_at(who, "last_name");
    if (!last.empty()) name += (name.empty() ? "" : " ") + last;
    return name.empty() ? string_at(who, "username") : name;
}

json::object unhandled(std::string_view reason, json::value raw, const std::string& dedupe) {
    json::object ev{{"type", events::webhook_unhandled}, {"channel", channel}, {"reason", reason}, {"raw", std::move(raw)}};
    if (!dedupe.empty()) ev["dedupe_key"] = dedupe;
    return ev;
}

/// The attachments of a Message: the largest photo, a document, voice, audio, video, sticker, location.
json::array attachments_of(const json::object& m) {
    json::array out;
    if (auto* photo = m.if_contains("photo"); photo && photo->is_array() && !photo->as_array().empty())
        if (auto* largest = photo->as_array().back().if_object())
            out.push_back(json::object{{"type", "image"}, {"file_id", string_at(*largest, "file_id")}});
    for (auto [key, type] : {std::pair{"document", "file"}, std::pair{"voice", "audio"}, std::pair{"audio", "audio"},
                             std::pair{"video", "video"}, std::pair{"sticker", "sticker"}})
        if (auto* a = object_at(m, key)) {
            json::object att{{"type", type}, {"file_id", string_at(*a, "file_id")}};
            if (auto name = string_at(*a, "file_name"); !name.empty()) att["name"] = name;
            out.push_back(std::move(att));
        }
    if (auto* loc = object_at(m, "location"))
        out.push_back(json::object{{"type", "location"}, {"payload", *loc}});
    return out;
}

/// A Unix time in seconds at `key` as UTC ms; nullopt when absent, not an integer, or out of the
/// range of real dates (a forged 1.5e16 would overflow the multiplication).
std::optional<int64_t> unix_ms(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (!v || !v->is_int64() || v->as_int64() < 0 || v->as_int64() > 100'000'000'000) return std::nullopt;
    return v->as_int64() * 1000;
}

/// message.received (or message.edited) for a Message, or nullopt when it has no chat or id.
std::optional<json::object> message_event(const json::object& m, std::string_view type) {
    const json::object* chat = object_at(m, "chat");
    const std::string chat_id = chat ? id_text(*chat, "id") : "";
    const std::string message_id = id_text(m, "message_id");
    if (chat_id.empty() || message_id.empty()) return std::nullopt;
    const json::object* from = object_at(m, "from");
    const std::string chat_type = string_at(*chat, "type");
    const bool group = chat_type == "group" || chat_type == "supergroup";
    json::object contact{{"provider_id", chat_id}};
    // In a group the conversation is the group (replies go there); the person who wrote is the sender.
    if (group) {
        if (auto title = string_at(*chat, "title"); !title.empty()) contact["name"] = title;
    } else if (auto name = display_name(from ? *from : *chat); !name.empty()) {
        contact["name"] = name;
    }
    if (from && !group)
        if (auto user = string_at(*from, "username"); !user.empty()) contact["username"] = user;
    json::object ev{{"type", type},
                    {"channel", channel},
                    {"provider_message_id", chat_id + ":" + message_id},
                    {"contact", std::move(contact)},
                    {"chat_type", chat_type}};
    if (group && from) {
        json::object sender{{"id", id_text(*from, "id")}};
        if (auto name = display_name(*from); !name.empty()) sender["name"] = name;
        if (auto user = string_at(*from, "username"); !user.empty()) sender["username"] = user;
        ev["sender"] = std::move(sender);
    }
    if (auto ms = unix_ms(m, "date")) ev["timestamp_ms"] = *ms;
    std::string text = string_at(m, "text");
    if (text.empty()) text = string_at(m, "caption");
    if (m.contains("text") || m.contains("caption")) ev["text"] = text;
    if (auto att = attachments_of(m); !att.empty()) ev["attachments"] = std::move(att);
    if (auto* reply = object_at(m, "reply_to_message"))
        if (auto rid = id_text(*reply, "message_id"); !rid.empty()) ev["reply_to"] = chat_id + ":" + rid;
    if (auto* entities = m.if_contains("entities")) ev["entities"] = *entities;
    if (auto ms = unix_ms(m, "edit_date")) ev["edit_date_ms"] = *ms;
    return ev;
}

}  // namespace

std::vector<json::object> parse_update(std::string_view body) {
    std::vector<json::object> out;
    boost::system::error_code ec;
    const auto repaired = sdk::text::repaired_json_text(body);
    json::value v = json::parse(repaired ? std::string_view(*repaired) : body, ec);
    if (ec || !v.is_object()) {
        out.push_back(unhandled("body is not a Telegram Update object", json::string(sdk::text::to_valid_utf8(body)), ""));
        return out;
    }
    const json::object& update = v.as_object();
    const std::string update_id = id_text(update, "update_id");
    const std::string dedupe = update_id.empty() ? "" : "update:" + update_id;
    if (update_id.empty()) {
        out.push_back(unhandled("Update without update_id", v, ""));
        return out;
    }
    std::optional<json::object> ev;
    if (auto* m = object_at(update, "message")) ev = message_event(*m, events::message_received);
    else if (auto* e = object_at(update, "edited_message")) ev = message_event(*e, edited_event);
    else if (auto* q = object_at(update, "callback_query")) {
        const json::object* from = object_at(*q, "from");
        const std::string user = from ? id_text(*from, "id") : "";
        if (!user.empty() && !string_at(*q, "id").empty()) {
            json::object cb{{"type", callback_event},
                            {"channel", channel},
                            {"callback_query_id", string_at(*q, "id")},
                            {"data", string_at(*q, "data")},
                            {"contact", {{"provider_id", user}, {"name", display_name(*from)}}}};
            if (auto* msg = object_at(*q, "message")) {
                if (auto* chat = object_at(*msg, "chat")) cb["chat_id"] = id_text(*chat, "id");
                cb["message_id"] = id_text(*msg, "message_id");
            }
            ev = std::move(cb);
        }
    }
    if (!ev) {
        out.push_back(unhandled("an Update of a kind this channel does not handle (or without chat and ids)", v, dedupe));
        return out;
    }
    (*ev)["dedupe_key"] = dedupe;
    (*ev)["raw"] = v;
    out.push_back(std::move(*ev));
    return out;
}

namespace {
sdk::http_call bot_call(std::string_view api_base, std::string_view token, std::string_view method, const json::object& body,
                        unsigned timeout_ms) {
    std::string base(api_base);
    while (!base.empty() && base.back() == '/') base.pop_back();
    sdk::http_call call;
    call.method = "POST";
    call.url = base + "/bot" + std::string(token) + "/" + std::string(method);
    call.headers = {{"Content-Type", "application/json"}};
    call.body = json::serialize(body);
    call.timeout_ms = timeout_ms;
    return call;
}
}  // namespace

sdk::http_call build_send(const json::object& command, std::string_view api_base, std::string_view token,
                          unsigned timeout_ms) {
    const json::object* recipient = object_at(command, "recipient");
    const std::string chat_id = recipient ? string_at(*recipient, "provider_id") : "";
    sdk::reply::rich_reply r = sdk::reply::read(command);
    if (chat_id.empty() || (r.text.empty() && !r.file))
        throw plugin_error(error_kind::invalid,
                           "message.send needs recipient.provider_id (the chat id) and a text or an attachment");
    json::object body{{"chat_id", chat_id}};
    std::string method = "sendMessage";
    if (r.file) {
        // Bot API "sendPhoto" / "sendVideo" / "sendAudio" / "sendDocument": the file by URL, the text as caption.
        const std::string& t = r.file->type;
        std::string field = t == "image" ? "photo" : t == "video" ? "video" : t == "audio" ? "audio" : "document";
        method = field == "photo" ? "sendPhoto" : field == "video" ? "sendVideo" : field == "audio" ? "sendAudio" : "sendDocument";
        body[field] = r.file->url;
        if (!r.text.empty()) body["caption"] = r.text.substr(0, 1024);  // Bot API: 0-1024 characters
    } else {
        body["text"] = r.text;
    }
    if (auto reply = string_at(command, "in_reply_to"); !reply.empty())
        if (auto colon = reply.find(':'); colon != std::string::npos && reply.substr(0, colon) == chat_id)
            body["reply_parameters"] = {{"message_id", std::stoll(reply.substr(colon + 1))}, {"allow_sending_without_reply", true}};
    if (!r.buttons.empty()) {
        json::array rows;
        for (auto& b : r.buttons) {
            json::object key{{"text", b.title}};
            if (!b.url.empty()) key["url"] = b.url;
            else key["callback_data"] = (b.payload.empty() ? b.title : b.payload).substr(0, 64);  // Bot API: 1-64 bytes
            rows.push_back(json::array{std::move(key)});
        }
        body["reply_markup"] = {{"inline_keyboard", std::move(rows)}};
    } else if (!r.quick_replies.empty()) {
        // A reply keyboard: the customer's tap arrives as an ordinary message with the title as text.
        json::array rows;
        for (auto& q : r.quick_replies) rows.push_back(json::array{json::object{{"text", q.title}}});
        body["reply_markup"] = {{"keyboard", std::move(rows)}, {"one_time_keyboard", true}, {"resize_keyboard", true}};
    }
    return bot_call(api_base, token, method, body, timeout_ms);
}

sdk::http_call build_alert(const json::object& command, std::string_view chat_id, std::string_view api_base,
                           std::string_view token, unsigned timeout_ms) {
    const std::string text = string_at(command, "text"), ref = string_at(command, "ref");
    if (text.empty()) throw plugin_error(error_kind::invalid, "telegram.alert needs \"text\"");
    json::array rows;
    if (auto* actions = command.if_contains("actions"); actions && actions->is_array()) {
        json::array row;
        for (auto& a : actions->as_array()) {
            const json::object* o = a.if_object();
            std::string title = o ? string_at(*o, "title") : "", action = o ? string_at(*o, "action") : "";
            if (title.empty() || action.empty())
                throw plugin_error(error_kind::invalid, "every telegram.alert action needs \"title\" and \"action\"");
            std::string data = alert_callback_data(action, ref);
            if (data.empty())
                throw plugin_error(error_kind::invalid, "telegram.alert action and ref must fit Telegram's 64-byte "
                                                        "callback_data without ':' in the action");
            row.push_back(json::object{{"text", title}, {"callback_data", data}});
        }
        if (!row.empty()) rows.push_back(std::move(row));
    }
    json::object body{{"chat_id", chat_id}, {"text", text}};
    if (!rows.empty()) body["reply_markup"] = {{"inline_keyboard", std::move(rows)}};
    return bot_call(api_base, token, "sendMessage", body, timeout_ms);
}

sdk::http_call build_edit(const json::object& command, std::string_view api_base, std::string_view token,
                          unsigned timeout_ms) {
    const std::string chat_id = string_at(command, "chat_id"), text = string_at(command, "text");
    auto* id = command.if_contains("message_id");
    if (chat_id.empty() || text.empty() || !id || !id->is_int64())
        throw plugin_error(error_kind::invalid, "telegram.edit_message needs chat_id, message_id and text");
    // Without reply_markup the inline keyboard goes: the outcome replaces the buttons.
    return bot_call(api_base, token, "editMessageText",
                    {{"chat_id", chat_id}, {"message_id", id->as_int64()}, {"text", text}}, timeout_ms);
}

std::string alert_callback_data(std::string_view action, std::string_view ref) {
    if (action.empty() || action.find(':') != std::string_view::npos) return "";
    std::string data = "sb:" + std::string(action) + ":" + std::string(ref);
    return data.size() <= 64 ? data : "";
}

std::optional<std::pair<std::string, std::string>> parse_alert_callback(std::string_view data) {
    if (data.substr(0, 3) != "sb:") return std::nullopt;
    auto rest = data.substr(3);
    auto colon = rest.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    return std::pair{std::string(rest.substr(0, colon)), std::string(rest.substr(colon + 1))};
}

sdk::http_call build_answer_callback(const json::object& command, std::string_view api_base, std::string_view token,
                                     unsigned timeout_ms) {
    const std::string id = string_at(command, "callback_query_id");
    if (id.empty()) throw plugin_error(error_kind::invalid, "telegram.answer_callback needs callback_query_id");
    json::object body{{"callback_query_id", id}};
    if (auto text = string_at(command, "text"); !text.empty()) body["text"] = text;
    if (auto* alert = command.if_contains("show_alert"); alert && alert->is_bool()) body["show_alert"] = alert->as_bool();
    return bot_call(api_base, token, "answerCallbackQuery", body, timeout_ms);
}

std::string start_code(std::string_view text) {
    constexpr std::string_view start = "/start ";
    if (text.substr(0, start.size()) != start) return "";
    std::string code(text.substr(start.size()));
    while (!code.empty() && code.back() == ' ') code.pop_back();
    // Deep-link parameters are 1-64 characters of A-Z, a-z, 0-9, _ and - (Bot API, "Deep linking").
    if (code.empty() || code.size() > 64) return "";
    for (char c : code)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return "";
    return code;
}

sdk::http_call build_set_webhook(std::string_view webhook_url, std::string_view secret, std::string_view api_base,
                                 std::string_view token, unsigned timeout_ms) {
    if (webhook_url.empty())
        throw plugin_error(error_kind::invalid,
                           "this instance has no public webhook URL: set server.public_url (SWITCHBOARD_PUBLIC_URL)");
    if (webhook_url.rfind("https://", 0) != 0)
        throw plugin_error(error_kind::invalid, "Telegram sends webhooks only over https: server.public_url is '" +
                                                   std::string(webhook_url) + "'");
    if (secret.empty())
        throw plugin_error(error_kind::invalid, "webhook_secret is not set (TELEGRAM_WEBHOOK_SECRET)");
    json::array updates;
    for (const char* u : allowed_updates) updates.emplace_back(u);
    json::object body{{"url", webhook_url}, {"secret_token", secret}, {"allowed_updates", std::move(updates)}};
    return bot_call(api_base, token, "setWebhook", body, timeout_ms);
}

json::value read_answer(const sdk::http_response& response) {
    boost::system::error_code ec;
    json::value v = json::parse(response.body, ec);
    const json::object* o = ec ? nullptr : v.if_object();
    if (o && o->contains("ok") && o->at("ok") == true && response.status >= 200 && response.status < 300)
        return o->contains("result") ? o->at("result") : json::value(nullptr);
    const std::string code = o ? id_text(*o, "error_code") : "";
    const std::string description = o ? string_at(*o, "description") : "";
    const std::string why = "Bot API answered HTTP " + std::to_string(response.status) +
                            (description.empty() ? "" : ": " + description);
    if (response.status == 429) {
        int64_t seconds = 1;
        if (const json::object* p = o ? object_at(*o, "parameters") : nullptr)
            if (auto* ra = p->if_contains("retry_after"); ra && ra->is_int64())
                seconds = std::clamp<int64_t>(ra->as_int64(), 0, 86'400);  // the host caps deferrals at a day
        throw plugin_error::retry_after(seconds * 1000, why, code.empty() ? "429" : code);
    }
    if (response.status >= 500 || !o) throw plugin_error(error_kind::retryable, why, code);
    throw plugin_error(error_kind::final, why, code.empty() ? std::to_string(response.status) : code);
}

}  // namespace switchboard::telegram
