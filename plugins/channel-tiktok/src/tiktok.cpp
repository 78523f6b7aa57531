#include <switchboard/tiktok/tiktok.hpp>

#include <switchboard/sdk/codec.hpp>
#include <switchboard/sdk/crypto.hpp>
#include <switchboard/sdk/events.hpp>
#include <switchboard/sdk/json_fields.hpp>
#include <switchboard/sdk/reply.hpp>
#include <switchboard/sdk/text.hpp>

#include <charconv>
#include <cstdlib>

namespace switchboard::tiktok {
namespace json = boost::json;
namespace events = sdk::events;
using sdk::error_kind;
using sdk::plugin_error;

namespace {

using sdk::json_fields::int_at;
using sdk::json_fields::object_at;
constexpr auto string_at = sdk::json_fields::text_at;

json::object unhandled(std::string reason, json::value raw) {
    return {{"type", events::webhook_unhandled}, {"channel", "tiktok"}, {"reason", std::move(reason)}, {"raw", std::move(raw)}};
}

std::string party_id(const json::object& content, std::string_view key) {
    auto* p = object_at(content, key);
    return p ? string_at(*p, "id") : "";
}

json::object message_event(const json::object& content, bool echo, const std::string& business) {
    json::object ev{{"type", echo ? events::message_echoed : events::message_received}, {"channel", "tiktok"}};
    ev["provider_message_id"] = string_at(content, "message_id");
    ev["account_id"] = business;
    json::object contact{{"provider_id", string_at(content, "conversation_id")}};
    std::string user = party_id(content, echo ? "to_user" : "from_user");
    std::string name = string_at(content, echo ? "to" : "from");
    if (!user.empty()) contact["user_id"] = user;
    if (!name.empty()) contact["name"] = name;
    ev["contact"] = std::move(contact);
    if (auto ts = int_at(content, "timestamp")) ev["timestamp_ms"] = *ts;
    const std::string type = string_at(content, "type");
    if (type == "text") {
        if (auto* t = object_at(content, "text")) ev["text"] = string_at(*t, "body");
    } else if (type == "image") {
        auto* i = object_at(content, "image");
        ev["attachments"] = json::array{json::object{{"type", "image"}, {"media_id", i ? string_at(*i, "media_id") : ""}}};
    } else if (type == "share_post") {
        auto* p = object_at(content, "share_post");
        ev["attachments"] = json::array{json::object{{"type", "share_post"}, {"url", p ? string_at(*p, "embed_url") : ""}}};
    } else {
        ev["unsupported"] = {{"type", type}};
    }
    if (auto* ref = object_at(content, "referenced_message_info"))
        if (auto id = string_at(*ref, "referenced_message_id"); !id.empty()) ev["reply_to"] = id;
    ev["raw"] = content;
    return ev;
}

}  // namespace

std::string_view to_string(signature_status status) noexcept {
    switch (status) {
    case signature_status::valid: return "valid";
    case signature_status::missing: return "missing";
    case signature_status::malformed: return "malformed";
    case signature_status::mismatch: return "mismatch";
    case signature_status::stale: return "stale";
    }
    return "unknown";
}

std::string sign(std::string_view client_secret, int64_t timestamp_s, std::string_view raw_body) {
    std::string payload = std::to_string(timestamp_s) + "." + std::string(raw_body);
    return "t=" + std::to_string(timestamp_s) + ",s=" +
           sdk::codec::hex_encode(sdk::crypto::hmac_sha256(client_secret, payload));
}

signature_status verify_signature(std::optional<std::string_view> header, std::string_view client_secret,
                                  std::string_view raw_body, int64_t now_ms, int64_t tolerance_ms) {
    if (!header || header->empty()) return signature_status::missing;
    std::string t, s;
    std::string_view rest = *header;
    while (!rest.empty()) {
        auto comma = rest.find(',');
        std::string_view part = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        auto eq = part.find('=');
        if (eq == std::string_view::npos) continue;
        if (part.substr(0, eq) == "t") t = std::string(part.substr(eq + 1));
        else if (part.substr(0, eq) == "s") s = std::string(part.substr(eq + 1));
    }
    int64_t ts = 0;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), ts);
    if (t.empty() || ec != std::errc{} || end != t.data() + t.size() || s.size() != 64 || ts < 0 || ts > 100'000'000'000)
        return signature_status::malformed;
    std::string expected = sdk::codec::hex_encode(
        sdk::crypto::hmac_sha256(client_secret, std::to_string(ts) + "." + std::string(raw_body)));
    std::string given = s;
    for (auto& c : given) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!sdk::text::constant_time_equal(given, expected)) return signature_status::mismatch;
    if (std::llabs(now_ms - ts * 1000) > tolerance_ms) return signature_status::stale;
    return signature_status::valid;
}

std::vector<json::object> parse_webhook(std::string_view raw_body, std::string_view business_id) {
    boost::system::error_code ec;
    json::value v = json::parse(raw_body, ec);
    if (ec || !v.is_object()) return {unhandled("body is not a JSON object", json::string(raw_body))};
    auto& envelope = v.as_object();
    const std::string event = string_at(envelope, "event");
    const std::string business = business_id.empty() ? string_at(envelope, "user_openid") : std::string(business_id);
    if (event != "im_receive_msg" && event != "im_send_msg" && event != "im_mark_read_msg")
        return {unhandled("event '" + event + "'", v)};
    auto* content_text = envelope.if_contains("content");
    json::value content_v = content_text && content_text->is_string() ? json::parse(content_text->as_string(), ec)
                                                                       : json::value();
    if (ec || !content_v.is_object()) return {unhandled(event + " with a content that is not a JSON object string", v)};
    auto& content = content_v.as_object();
    if (string_at(content, "conversation_id").empty())
        return {unhandled(event + " without conversation_id", v)};
    const bool from_business = !business.empty() && party_id(content, "from_user") == business;
    if (event == "im_mark_read_msg") {
        if (from_business) return {unhandled("im_mark_read_msg by the business itself", v)};
        auto* read = object_at(content, "read");
        auto at = read ? int_at(*read, "last_read_timestamp") : std::nullopt;
        if (!at) return {unhandled("im_mark_read_msg without read.last_read_timestamp", v)};
        const std::string conversation = string_at(content, "conversation_id");
        return {{{"type", events::message_status},
                 {"channel", "tiktok"},
                 {"status", "read"},
                 {"watermark_ms", *at},
                 {"timestamp_ms", *at},
                 {"contact", {{"provider_id", conversation}}},
                 {"dedupe_key", "read:" + conversation + ":" + std::to_string(*at)},
                 {"raw", content}}};
    }
    if (string_at(content, "message_id").empty()) return {unhandled(event + " without message_id", v)};
    return {message_event(content, event == "im_send_msg" || from_business, business)};
}

sdk::http_call build_send(const json::object& command, const send_options& o) {
    const std::string to = sdk::reply::recipient_id(command);
    auto reply = sdk::reply::read(command);
    std::string text = sdk::reply::numbered_text(reply);
    if (to.empty() || text.empty())
        throw plugin_error(error_kind::invalid, "message.send needs recipient.provider_id (a conversation_id) and text");
    json::object body{{"business_id", o.business_id}, {"recipient_type", "CONVERSATION"},
                      {"recipient", to}, {"message_type", "TEXT"}, {"text", {{"body", text}}}};
    if (auto* in_reply = command.if_contains("in_reply_to"); in_reply && in_reply->is_string() && !in_reply->as_string().empty())
        body["referenced_message_info"] = {{"referenced_message_id", *in_reply}};
    sdk::http_call call;
    call.method = "POST";
    call.url = o.api_base + "/open_api/v1.3/business/message/send/";
    call.headers = {{"Access-Token", o.access_token}, {"Content-Type", "application/json"}};
    call.body = json::serialize(body);
    call.timeout_ms = o.timeout_ms;
    return call;
}

json::object read_send_response(const sdk::http_response& response) {
    boost::system::error_code ec;
    json::value v = json::parse(response.body, ec);
    const json::object* root = ec ? nullptr : v.if_object();
    int64_t code = root ? int_at(*root, "code").value_or(-1) : -1;
    std::string message = root ? string_at(*root, "message") : "";
    std::string what = "TikTok answered HTTP " + std::to_string(response.status) +
                       (code >= 0 ? ", code " + std::to_string(code) : "") + (message.empty() ? "" : ": " + message);
    std::string code_text = code >= 0 ? std::to_string(code) : "http_" + std::to_string(response.status);
    if (response.status == 429 || code == 40100) {
        int64_t wait = response.retry_after_ms();
        throw plugin_error::retry_after(wait > 0 ? wait : 1000, what, code_text);
    }
    if (response.status >= 500 || code >= 50000) throw plugin_error(error_kind::retryable, what, code_text);
    if (response.status < 200 || response.status >= 300 || code != 0) throw plugin_error(error_kind::final, what, code_text);
    auto* data = object_at(*root, "data");
    auto* msg = data ? object_at(*data, "message") : nullptr;
    std::string id = msg ? string_at(*msg, "message_id") : "";
    if (id.empty())
        throw plugin_error(error_kind::final, "TikTok accepted the message but answered without a message_id", "no_message_id");
    return {{"provider_message_id", id}};
}

}  // namespace switchboard::tiktok
