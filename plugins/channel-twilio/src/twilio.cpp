#include <switchboard/twilio/twilio.hpp>

#include <switchboard/sdk/crypto.hpp>
#include <switchboard/sdk/events.hpp>
#include <switchboard/sdk/reply.hpp>
#include <switchboard/sdk/text.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace switchboard::twilio {
namespace json = boost::json;
namespace codec = sdk::codec;
namespace events = sdk::events;
using sdk::error_kind;
using sdk::plugin_error;

std::string signature(std::string_view auth_token, std::string_view url, const codec::form_fields& params) {
    codec::form_fields sorted = params;
    std::sort(sorted.begin(), sorted.end());  // by name, then by value for a repeated name
    std::string data(url);
    for (auto& [k, v] : sorted) data += k + v;
    return codec::base64_encode(sdk::crypto::hmac_sha1(auth_token, data));
}

namespace {

/// The URL as given, without its port, and with the scheme's default port written in.
std::vector<std::string> url_variants(std::string_view url) {
    std::vector<std::string> out{std::string(url)};
    auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return out;
    std::string_view scheme = url.substr(0, scheme_end);
    size_t host_start = scheme_end + 3;
    size_t host_end = url.find_first_of("/?#", host_start);
    if (host_end == std::string_view::npos) host_end = url.size();
    std::string_view authority = url.substr(host_start, host_end - host_start);
    std::string_view rest = url.substr(host_end);
    auto colon = authority.rfind(':');
    auto bracket = authority.rfind(']');  // an IPv6 literal's colons are not a port
    bool has_port = colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
    std::string prefix = std::string(scheme) + "://";
    if (has_port) {
        out.push_back(prefix + std::string(authority.substr(0, colon)) + std::string(rest));
    } else {
        const char* port = scheme == "https" ? ":443" : scheme == "http" ? ":80" : nullptr;
        if (port) out.push_back(prefix + std::string(authority) + port + std::string(rest));
    }
    return out;
}

std::string field(const codec::form_fields& f, std::string_view name) {
    return codec::form_value(f, name).value_or("");
}

std::string attachment_type(std::string_view mime) {
    if (mime.starts_with("image/")) return "image";
    if (mime.starts_with("video/")) return "video";
    if (mime.starts_with("audio/")) return "audio";
    return "document";
}

json::object base_event(std::string_view type) { return {{"type", type}, {"channel", "twilio"}}; }

json::object message_event(const codec::form_fields& f) {
    json::object ev = base_event(events::message_received);
    const std::string from = field(f, "From");
    ev["provider_message_id"] = field(f, "MessageSid");
    ev["account_id"] = field(f, "To");
    json::object contact{{"provider_id", from}};
    if (auto name = field(f, "ProfileName"); !name.empty()) contact["name"] = name;
    if (auto wa = field(f, "WaId"); !wa.empty()) contact["wa_id"] = wa;
    ev["contact"] = std::move(contact);
    ev["messaging"] = from.starts_with("whatsapp:") ? "whatsapp" : "sms";
    if (auto body = codec::form_value(f, "Body")) ev["text"] = *body;
    json::array attachments;
    int media = 0;
    try {
        media = std::clamp(std::stoi(field(f, "NumMedia")), 0, 10);
    } catch (...) {
    }
    for (int i = 0; i < media; ++i) {
        auto url = field(f, "MediaUrl" + std::to_string(i));
        if (url.empty()) continue;
        auto mime = field(f, "MediaContentType" + std::to_string(i));
        json::object a{{"type", attachment_type(mime)}, {"url", url}};
        if (!mime.empty()) a["mime_type"] = mime;
        attachments.push_back(std::move(a));
    }
    if (auto lat = field(f, "Latitude"), lon = field(f, "Longitude"); !lat.empty() && !lon.empty())
        attachments.push_back({{"type", "location"},
                               {"payload", {{"latitude", lat}, {"longitude", lon}, {"address", field(f, "Address")},
                                            {"name", field(f, "Label")}}}});
    if (!attachments.empty()) ev["attachments"] = std::move(attachments);
    if (auto payload = field(f, "ButtonPayload"); !payload.empty()) ev["quick_reply_payload"] = payload;
    else if (auto text = field(f, "ButtonText"); !text.empty()) ev["quick_reply_payload"] = text;
    if (auto replied = field(f, "OriginalRepliedMessageSid"); !replied.empty()) ev["reply_to"] = replied;
    ev["raw"] = codec::form_to_json(f);
    return ev;
}

}  // namespace

bool verify_signature(std::optional<std::string_view> header, std::string_view auth_token, std::string_view url,
                      std::string_view form_body) {
    if (!header || header->empty() || auth_token.empty() || url.empty()) return false;
    auto params = codec::form_decode(form_body);
    bool ok = false;
    for (auto& candidate : url_variants(url))  // every variant, so timing does not tell which matched
        ok = sdk::text::constant_time_equal(*header, signature(auth_token, candidate, params)) || ok;
    return ok;
}

std::string_view error_reason(std::string_view code) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> reasons{{
        {"21211", "invalid 'To' phone number"},
        {"21408", "sending to this region is not enabled"},
        {"21610", "the recipient unsubscribed (replied STOP)"},
        {"21614", "'To' is not a valid mobile number"},
        {"30001", "queue overflow"},
        {"30002", "account suspended"},
        {"30003", "unreachable destination handset"},
        {"30004", "message blocked by the recipient or carrier"},
        {"30005", "unknown destination handset"},
        {"30006", "landline or unreachable carrier"},
        {"30007", "filtered by the carrier as spam"},
        {"30008", "unknown error from the carrier"},
        {"63016", "WhatsApp: free-form message outside the 24-hour window"},
        {"63024", "WhatsApp: invalid message recipient"},
    }};
    for (auto& [c, r] : reasons)
        if (c == code) return r;
    return {};
}

std::vector<json::object> parse_webhook(std::string_view form_body) {
    auto f = codec::form_decode(form_body);
    const std::string sid = field(f, "MessageSid");
    const std::string status = field(f, "MessageStatus").empty() ? field(f, "SmsStatus") : field(f, "MessageStatus");
    const bool has_message = codec::form_value(f, "Body") || codec::form_value(f, "NumMedia") || status == "received";
    if (sid.empty() || (has_message && field(f, "From").empty())) {
        json::object ev = base_event(events::webhook_unhandled);
        ev["reason"] = sid.empty() ? "a Twilio request without MessageSid" : "a Twilio message without From";
        ev["raw"] = codec::form_to_json(f);
        return {ev};
    }
    if (has_message) return {message_event(f)};
    json::object ev = base_event(events::message_status);
    std::string state;
    if (status == "queued" || status == "accepted" || status == "scheduled" || status == "sending" || status == "sent")
        state = "sent";
    else if (status == "delivered" || status == "read")
        state = status;
    else if (status == "failed" || status == "undelivered" || status == "canceled")
        state = "failed";
    if (state.empty()) {
        json::object unhandled = base_event(events::webhook_unhandled);
        unhandled["reason"] = "MessageStatus '" + status + "' of " + sid;
        unhandled["raw"] = codec::form_to_json(f);
        return {unhandled};
    }
    ev["status"] = state;
    ev["provider_message_ids"] = json::array{json::value(sid)};
    if (auto to = field(f, "To"); !to.empty()) ev["contact"] = {{"provider_id", to}};
    if (auto code = field(f, "ErrorCode"); !code.empty() && state == "failed") {
        ev["error_code"] = code;
        auto reason = error_reason(code);
        ev["error_reason"] = reason.empty() ? "Twilio error " + code : std::string(reason);
    } else if (status == "canceled") {
        ev["error_reason"] = "canceled";
    }
    ev["dedupe_key"] = "status:" + sid + ":" + status;
    ev["raw"] = codec::form_to_json(f);
    std::vector<json::object> out{ev};
    if (field(f, "ErrorCode") == "21610" && !field(f, "To").empty())
        out.push_back({{"type", opted_out_event}, {"channel", "twilio"},
                       {"contact", {{"provider_id", field(f, "To")}}}, {"error_code", "21610"},
                       {"dedupe_key", "opt-out:" + sid}});
    return out;
}

sdk::http_call build_send(const json::object& command, const send_options& o, int64_t now_ms) {
    const std::string to = sdk::reply::recipient_id(command);
    if (to.empty()) throw plugin_error(error_kind::invalid, "message.send needs recipient.provider_id (a phone number)");
    const bool whatsapp = to.starts_with("whatsapp:");
    codec::form_fields form{{"To", to}};
    const std::string& from = whatsapp ? o.whatsapp_from : o.sms_from;
    if (!from.empty()) form.emplace_back("From", whatsapp && !from.starts_with("whatsapp:") ? "whatsapp:" + from : from);
    else if (!o.messaging_service_sid.empty()) form.emplace_back("MessagingServiceSid", o.messaging_service_sid);
    else
        throw plugin_error(error_kind::final,
                           std::string("no sender for ") + (whatsapp ? "WhatsApp: set whatsapp_number (TWILIO_WHATSAPP_NUMBER)"
                                                                     : "SMS: set sms_number (TWILIO_SMS_NUMBER)") +
                               " or messaging_service_sid",
                           "not_configured");
    auto r = sdk::reply::read(command);
    auto use_template = [&](const std::string& sid, const std::vector<std::string>& params) {
        form.emplace_back("ContentSid", sid);
        if (!params.empty()) {
            json::object vars;
            for (size_t i = 0; i < params.size(); ++i) vars[std::to_string(i + 1)] = params[i];
            form.emplace_back("ContentVariables", json::serialize(vars));
        }
    };
    if (r.templ) {
        use_template(r.templ->name, r.templ->parameters);
    } else {
        if (r.text.empty() && !r.file)
            throw plugin_error(error_kind::invalid, "message.send needs \"text\", \"attachment\" or \"template\"");
        auto* last = command.if_contains("last_inbound_ms");
        bool outside = whatsapp && (!last || !last->is_int64() || now_ms - last->as_int64() > o.window_ms);
        if (outside && o.fallback_content_sid.empty())
            throw plugin_error(error_kind::final,
                               "outside WhatsApp's 24-hour customer service window: only an approved template can be "
                               "sent; set fallback_content_sid",
                               "customer_service_window");
        if (outside) {
            use_template(o.fallback_content_sid, {});
        } else {
            if (auto body = sdk::reply::numbered_text(r, false); !body.empty()) form.emplace_back("Body", body);
            if (r.file) form.emplace_back("MediaUrl", r.file->url);
        }
    }
    if (!o.status_callback.empty()) form.emplace_back("StatusCallback", o.status_callback);
    sdk::http_call call;
    call.method = "POST";
    call.url = o.api_base + "/2010-04-01/Accounts/" + codec::form_escape(o.account_sid) + "/Messages.json";
    call.headers = {{"Authorization", sdk::crypto::basic_auth(o.account_sid, o.auth_token)},
                    {"Content-Type", "application/x-www-form-urlencoded"}};
    call.body = codec::form_encode(form);
    call.timeout_ms = o.timeout_ms;
    return call;
}

json::object read_send_response(const sdk::http_response& response) {
    boost::system::error_code ec;
    json::value v = json::parse(response.body, ec);
    const json::object* body = ec ? nullptr : v.if_object();
    auto str = [&](std::string_view key) {
        auto* x = body ? body->if_contains(key) : nullptr;
        return x && x->is_string() ? std::string(x->as_string()) : std::string();
    };
    if (response.status >= 200 && response.status < 300) {
        if (str("sid").empty())
            throw plugin_error(error_kind::final, "Twilio accepted the message but answered without a sid; not retried",
                               "no_sid");
        json::object out{{"provider_message_id", str("sid")}};
        if (!str("status").empty()) out["status"] = str("status");
        return out;
    }
    int64_t code = 0;
    if (auto* c = body ? body->if_contains("code") : nullptr; c && c->is_int64()) code = c->as_int64();
    std::string message = "Twilio answered HTTP " + std::to_string(response.status);
    if (code) message += ", error " + std::to_string(code);
    if (!str("message").empty()) message += ": " + str("message");
    const std::string code_text = code ? std::to_string(code) : "http_" + std::to_string(response.status);
    if (response.status == 429 || code == error_code::too_many_requests) {
        int64_t wait = response.retry_after_ms();
        throw plugin_error::retry_after(wait > 0 ? wait : 1000, message, code_text);
    }
    if (response.status >= 500 || code == error_code::queue_overflow)
        throw plugin_error(error_kind::retryable, message, code_text);
    if (code == error_code::outside_window) message += " — only an approved template can be sent (set fallback_content_sid)";
    throw plugin_error(error_kind::final, message, code_text);
}

}  // namespace switchboard::twilio
