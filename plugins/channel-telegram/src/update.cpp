// Telegram Bot API: Update objects in, sendMessage / answerCallbackQuery out (core.telegram.org/bots/api).
#include <switchboard/telegram/update.hpp>

#include <switchboard/sdk/events.hpp>
#include <switchboard/sdk/text.hpp>

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

/// message.received (or message.edited) for a Message, or nullopt when it has no chat or id.
std::optional<json::object> message_event(const json::object& m, std::string_view type) {
    const json::object* chat = object_at(m, "chat");
    const std::string chat_id = chat ? id_text(*chat, "id") : "";
    const std::string message_id = id_text(m, "message_id");
    if (chat_id.empty() || message_id.empty()) return std::nullopt;
    const json::object* from = object_at(m, "from");
    json::object contact{{"provider_id", chat_id}};
    if (auto name = display_name(from ? *from : *chat); !name.empty()) contact["name"] = name;
    if (from)
        if (auto user = string_at(*from, "username"); !user.empty()) contact["username"] = user;
    json::object ev{{"type", type},
                    {"channel", channel},
                    {"provider_message_id", chat_id + ":" + message_id},
                    {"contact", std::move(contact)},
                    {"chat_type", string_at(*chat, "type")}};
    if (auto* date = m.if_contains("date"); date && date->is_int64()) ev["timestamp_ms"] = date->as_int64() * 1000;
    std::string text = string_at(m, "text");
    if (text.empty()) text = string_at(m, "caption");
    if (m.contains("text") || m.contains("caption")) ev["text"] = text;
    if (auto att = attachments_of(m); !att.empty()) ev["attachments"] = std::move(att);
    if (auto* reply = object_at(m, "reply_to_message"))
        if (auto rid = id_text(*reply, "message_id"); !rid.empty()) ev["reply_to"] = chat_id + ":" + rid;
    if (auto* entities = m.if_contains("entities")) ev["entities"] = *entities;
    if (auto* edit = m.if_contains("edit_date"); edit && edit->is_int64()) ev["edit_date_ms"] = edit->as_int64() * 1000;
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
    const std::string text = string_at(command, "text");
    if (chat_id.empty() || text.empty())
        throw plugin_error(error_kind::invalid, "message.send needs recipient.provider_id (the chat id) and a non-empty text");
    json::object body{{"chat_id", chat_id}, {"text", text}};
    if (auto reply = string_at(command, "in_reply_to"); !reply.empty())
        if (auto colon = reply.find(':'); colon != std::string::npos && reply.substr(0, colon) == chat_id)
            body["reply_parameters"] = {{"message_id", std::stoll(reply.substr(colon + 1))}, {"allow_sending_without_reply", true}};
    if (auto* buttons = command.if_contains("buttons"); buttons && buttons->is_array() && !buttons->as_array().empty()) {
        json::array rows;
        for (auto& b : buttons->as_array()) {
            const json::object* o = b.if_object();
            if (!o) continue;
            json::object key{{"text", string_at(*o, "title")}};
            if (auto url = string_at(*o, "url"); !url.empty()) key["url"] = url;
            else key["callback_data"] = string_at(*o, "payload").substr(0, 64); // Bot API: 1-64 bytes
            rows.push_back(json::array{std::move(key)});
        }
        body["reply_markup"] = {{"inline_keyboard", std::move(rows)}};
    }
    return bot_call(api_base, token, "sendMessage", body, timeout_ms);
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
            if (auto* ra = p->if_contains("retry_after"); ra && ra->is_int64()) seconds = ra->as_int64();
        throw plugin_error::retry_after(seconds * 1000, why, code.empty() ? "429" : code);
    }
    if (response.status >= 500 || !o) throw plugin_error(error_kind::retryable, why, code);
    throw plugin_error(error_kind::final, why, code.empty() ? std::to_string(response.status) : code);
}

}  // namespace switchboard::telegram
