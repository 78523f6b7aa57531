#include <switchboard/meta/graph.hpp>

#include <switchboard/sdk/reply.hpp>

#include <array>
#include <cmath>

namespace switchboard::meta {
namespace json = boost::json;
using sdk::error_kind;
using sdk::plugin_error;

namespace {

int64_t int_at(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (!v) return 0;
    if (auto* i = v->if_int64()) return *i;
    if (auto* u = v->if_uint64()) return static_cast<int64_t>(*u);
    // Out-of-range doubles (e.g. 1e300 from an untrusted body) cannot be converted: treat as absent.
    if (auto* d = v->if_double()) return std::isfinite(*d) && std::fabs(*d) < 9.0e18 ? static_cast<int64_t>(*d) : 0;
    // Some proxies stringify numbers.
    if (auto* s = v->if_string()) {
        try {
            return std::stoll(std::string(*s));
        } catch (...) {
        }
    }
    return 0;
}

std::string string_at(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (v)
        if (auto* s = v->if_string()) return std::string(*s);
    return {};
}

const json::string* string_field(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v ? v->if_string() : nullptr;
}

/// What an admin should do about the well-known non-retryable Send API errors.
std::string_view hint_for(const graph_error& e) {
    if (e.code == 190)
        return "the page access token is invalid or expired: generate a new one and set page_access_token";
    if (e.code == 10 && (e.subcode == 2018278 || e.subcode == 2018065))
        return "the message is outside the allowed messaging window: the customer must write first";
    if (e.code == 10 || (e.code >= 200 && e.code <= 299))
        return "the app lacks a permission (pages_messaging / instagram_manage_messages) or the token's user "
               "lost access to the page";
    if (e.code == 100 && e.subcode == 2018001)
        return "no matching user: the recipient id is not a PSID of this page (ids are page-scoped)";
    if (e.code == 551) return "this person is not available right now (they blocked messages from the page)";
    if (e.code == 368) return "the page is temporarily blocked for policy violations";
    return {};
}

}  // namespace

namespace {

/// The Send API message object for the reply fields of a command (sdk/reply.hpp), Messenger
/// Platform "Send API" reference: quick_replies (13 at most, titles of 20 characters), the button
/// template (3 buttons, 640 characters of text) where the profile has it, an attachment by URL
/// alone; what does not fit degrades to text (choices as a numbered list, the URL under the text).
json::object message_object(const sdk::reply::rich_reply& r, const send_options& options) {
    auto fits = [](const std::vector<sdk::reply::button>& choices, size_t max, bool urls_allowed) {
        if (choices.empty() || choices.size() > max) return false;
        for (auto& b : choices)
            if (b.title.size() > 20 || (!urls_allowed && !b.url.empty())) return false;
        return true;
    };
    if (r.file && r.text.empty() && r.buttons.empty() && r.quick_replies.empty()) {
        const std::string& t = r.file->type;
        std::string type = t == "image" || t == "video" || t == "audio" ? t : "file";
        return {{"attachment", {{"type", type}, {"payload", {{"url", r.file->url}, {"is_reusable", true}}}}}};
    }
    if (options.button_template && !r.buttons.empty() && !r.text.empty() && r.text.size() <= 640 &&
        fits(r.buttons, 3, true)) {
        json::array buttons;
        for (auto& b : r.buttons) {
            if (!b.url.empty()) buttons.push_back({{"type", "web_url"}, {"url", b.url}, {"title", b.title}});
            else buttons.push_back({{"type", "postback"}, {"title", b.title}, {"payload", b.payload.empty() ? b.title : b.payload}});
        }
        return {{"attachment", {{"type", "template"},
                                {"payload", {{"template_type", "button"}, {"text", r.text}, {"buttons", std::move(buttons)}}}}}};
    }
    const auto& choices = r.choices();
    if (!r.text.empty() && fits(choices, 13, false)) {
        json::array quick;
        for (auto& q : choices)
            quick.push_back({{"content_type", "text"}, {"title", q.title}, {"payload", q.payload.empty() ? q.title : q.payload}});
        json::object m{{"text", r.text}, {"quick_replies", std::move(quick)}};
        if (r.file) m["text"] = r.text + "\n" + r.file->url;
        return m;
    }
    return {{"text", sdk::reply::numbered_text(r)}};
}

}  // namespace

sdk::http_call build_send_request(const json::object& command, const send_options& options) {
    auto* recipient_v = command.if_contains("recipient");
    auto* recipient = recipient_v ? recipient_v->if_object() : nullptr;
    const json::string* psid = recipient ? string_field(*recipient, "provider_id") : nullptr;
    const json::string* comment = recipient ? string_field(*recipient, "comment_id") : nullptr;
    if ((!psid || psid->empty()) && (!comment || comment->empty()))
        throw plugin_error(error_kind::invalid,
                           "message.send needs recipient.provider_id (the customer's page-scoped id) or "
                           "recipient.comment_id (a private reply)");
    sdk::reply::rich_reply reply = sdk::reply::read(command);
    if (reply.templ && reply.text.empty()) reply.text = reply.templ->name;  // no Send API templates by name
    if (reply.text.empty() && !reply.file) throw plugin_error(error_kind::invalid, "message.send needs a non-empty text");

    json::object message = message_object(reply, options);
    if (options.include_metadata)
        if (auto* key = string_field(command, "job_id"); key && !key->empty()) message["metadata"] = *key;

    json::object body;
    // A private reply to a Page comment addresses the comment (Messenger Platform "Private Replies").
    if (comment && !comment->empty()) body["recipient"] = json::object{{"comment_id", *comment}};
    else body["recipient"] = json::object{{"id", *psid}};
    // RESPONSE: a reply inside the standard messaging window (the only type a bot reply needs).
    body["messaging_type"] = "RESPONSE";
    body["message"] = std::move(message);

    sdk::http_call call;
    call.method = "POST";
    std::string base(options.graph_api_base);
    while (!base.empty() && base.back() == '/') base.pop_back();
    call.url = base + "/me/messages";
    call.headers = {{"Content-Type", "application/json"},
                    {"Authorization", "Bearer " + std::string(options.page_access_token)}};
    call.body = json::serialize(body);
    call.timeout_ms = options.timeout_ms;
    return call;
}

sdk::http_call build_comment_reply(const json::object& command, const send_options& options) {
    const json::string* comment = string_field(command, "comment_id");
    const json::string* text = string_field(command, "text");
    if (!comment || comment->empty() || !text || text->empty())
        throw plugin_error(error_kind::invalid, "messenger.comment_reply needs comment_id and text");
    sdk::http_call call;
    call.method = "POST";
    std::string base(options.graph_api_base);
    while (!base.empty() && base.back() == '/') base.pop_back();
    call.url = base + "/" + std::string(*comment) + "/comments";
    call.headers = {{"Content-Type", "application/json"},
                    {"Authorization", "Bearer " + std::string(options.page_access_token)}};
    call.body = json::serialize(json::object{{"message", *text}});
    call.timeout_ms = options.timeout_ms;
    return call;
}

json::object read_comment_response(const sdk::http_response& response) {
    if (response.status < 200 || response.status >= 300)
        throw to_plugin_error(parse_graph_error(response.status, response.body));
    boost::system::error_code ec;
    json::value v = json::parse(response.body, ec);
    auto* o = ec ? nullptr : v.if_object();
    auto* id = o ? string_field(*o, "id") : nullptr;
    if (!id || id->empty())
        throw plugin_error(error_kind::final, "the Graph API accepted the comment but answered without its id", "no_id");
    return {{"comment_id", *id}};
}

graph_error parse_graph_error(int http_status, std::string_view body) {
    graph_error e;
    e.http_status = http_status;
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec) return e;
    auto* root = v.if_object();
    if (!root) return e;
    auto* err_v = root->if_contains("error");
    auto* err = err_v ? err_v->if_object() : nullptr;
    if (!err) return e;
    e.has_error_body = true;
    e.code = int_at(*err, "code");
    e.subcode = int_at(*err, "error_subcode");
    e.type = string_at(*err, "type");
    e.message = string_at(*err, "message");
    e.fbtrace_id = string_at(*err, "fbtrace_id");
    if (auto* t = err->if_contains("is_transient")) e.is_transient = t->is_bool() && t->get_bool();
    return e;
}

bool is_retryable(const graph_error& e) noexcept {
    if (e.http_status >= 500 || e.http_status == 429) return true;
    if (e.is_transient) return true;
    static constexpr std::array<int64_t, 11> temporary{1, 2, 4, 17, 32, 341, 613, 1200, 80001, 80002, 80006};
    for (auto c : temporary)
        if (e.code == c) return true;
    return false;
}

sdk::plugin_error to_plugin_error(const graph_error& e) {
    error_kind kind = is_retryable(e) ? error_kind::retryable : error_kind::final;
    if (!e.has_error_body) {
        return plugin_error(kind,
                            "Graph API answered HTTP " + std::to_string(e.http_status) +
                                " without a Graph error body" +
                                (kind == error_kind::retryable ? " (will retry)" : ""),
                            "http_" + std::to_string(e.http_status));
    }
    std::string msg = "Graph API error " + std::to_string(e.code);
    if (e.subcode) msg += "/" + std::to_string(e.subcode);
    msg += " (" + (e.type.empty() ? std::string("unknown type") : e.type) + "): " + e.message;
    if (auto hint = hint_for(e); !hint.empty()) msg += " — " + std::string(hint);
    msg += " [HTTP " + std::to_string(e.http_status);
    if (!e.fbtrace_id.empty()) msg += ", fbtrace_id " + e.fbtrace_id;
    msg += "]";
    return plugin_error(kind, msg, std::to_string(e.code));
}

json::object read_send_response(const sdk::http_response& response) {
    if (response.status < 200 || response.status > 299)
        throw to_plugin_error(parse_graph_error(response.status, response.body));
    boost::system::error_code ec;
    json::value v = json::parse(response.body, ec);
    auto* root = ec ? nullptr : v.if_object();
    const json::string* mid = root ? string_field(*root, "message_id") : nullptr;
    if (!mid || mid->empty())
        throw plugin_error(error_kind::final,
                           "Graph API answered HTTP " + std::to_string(response.status) +
                               " without a message_id; the message may or may not have been sent, so it is not "
                               "retried",
                           "no_message_id");
    json::object result;
    result["provider_message_id"] = *mid;
    if (auto* rid = root->if_contains("recipient_id")) {
        if (auto* s = rid->if_string()) result["recipient_id"] = *s;
        else if (auto* i = rid->if_int64()) result["recipient_id"] = std::to_string(*i);
        else if (auto* u = rid->if_uint64()) result["recipient_id"] = std::to_string(*u);
    }
    return result;
}

void check_messaging_window(std::optional<int64_t> last_inbound_ms, int64_t now_ms, int64_t window_ms) {
    if (!last_inbound_ms || *last_inbound_ms <= 0) return; // unknown: the host sets it only when known
    int64_t age = 0;
    if (__builtin_sub_overflow(now_ms, *last_inbound_ms, &age)) return;
    if (age <= window_ms) return;
    int64_t hours = age / (60LL * 60 * 1000);
    std::string msg;
    if (window_ms == standard_messaging_window_ms)
        msg = "outside the 24-hour standard messaging window: the customer last wrote " + std::to_string(hours) +
              " h ago; Meta refuses RESPONSE messages after 24 h";
    else
        msg = "outside the messaging window of " + std::to_string(window_ms / 1000) +
              " s (setting messaging_window): the customer last wrote " + std::to_string(hours) +
              " h ago; Meta refuses RESPONSE messages after 24 h";
    throw plugin_error(error_kind::final, msg, "messaging_window");
}

std::string redact(std::string text, std::string_view secret) {
    if (secret.empty()) return text;
    static constexpr std::string_view mask = "[redacted]";
    for (size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + mask.size()))
        text.replace(pos, secret.size(), mask);
    return text;
}

}  // namespace switchboard::meta
