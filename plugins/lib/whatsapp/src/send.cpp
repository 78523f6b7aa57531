#include <switchboard/whatsapp/send.hpp>

#include <switchboard/sdk/text.hpp>

#include <algorithm>

namespace switchboard::whatsapp {
namespace json = boost::json;
namespace reply = sdk::reply;
using sdk::error_kind;
using sdk::plugin_error;

namespace {

/// Length in characters (UTF-8 code points), as WhatsApp counts its limits.
size_t chars(std::string_view s) {
    return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

bool all_titles_within(const std::vector<reply::button>& choices, size_t limit) {
    return std::all_of(choices.begin(), choices.end(), [&](const reply::button& b) {
        return b.url.empty() && chars(b.title) <= limit && chars(b.payload.empty() ? b.title : b.payload) <= 200;
    });
}

std::string id_of(const reply::button& b) { return b.payload.empty() ? b.title : b.payload; }

json::object template_message(const std::string& name, const std::string& language,
                              const std::vector<std::string>& parameters) {
    json::object t{{"name", name}, {"language", {{"code", language}}}};
    if (!parameters.empty()) {
        json::array params;
        for (auto& p : parameters) params.push_back({{"type", "text"}, {"text", p}});
        t["components"] = json::array{json::object{{"type", "body"}, {"parameters", std::move(params)}}};
    }
    return {{"type", "template"}, {"template", std::move(t)}};
}

std::string media_type(const std::string& type) {
    return type == "image" || type == "video" || type == "audio" || type == "sticker" ? type : "document";
}

json::object media_object(const reply::attachment& file, const std::string& caption) {
    json::object m{{"link", file.url}};
    std::string type = media_type(file.type);
    if (!caption.empty() && type != "audio" && type != "sticker") m["caption"] = caption;
    if (type == "document" && !file.filename.empty()) m["filename"] = file.filename;
    return m;
}

/// An interactive message for the choices, or an empty object when they do not fit one.
json::object interactive_message(const reply::rich_reply& r) {
    const auto& choices = r.choices();
    if (choices.empty() || r.text.empty() || chars(r.text) > max_interactive_body_chars) return {};
    json::object interactive;
    if (choices.size() == 1 && !choices[0].url.empty() && r.quick_replies.empty()) {
        interactive = {{"type", "cta_url"},
                       {"action", {{"name", "cta_url"},
                                   {"parameters", {{"display_text", choices[0].title}, {"url", choices[0].url}}}}}};
    } else if (choices.size() <= max_reply_buttons && all_titles_within(choices, max_button_title_chars)) {
        json::array buttons;
        for (auto& b : choices) buttons.push_back({{"type", "reply"}, {"reply", {{"id", id_of(b)}, {"title", b.title}}}});
        interactive = {{"type", "button"}, {"action", {{"buttons", std::move(buttons)}}}};
    } else if (choices.size() <= max_list_rows && all_titles_within(choices, max_row_title_chars)) {
        json::array rows;
        for (auto& b : choices) rows.push_back({{"id", id_of(b)}, {"title", b.title}});
        interactive = {{"type", "list"},
                       {"action", {{"button", "Options"},
                                   {"sections", json::array{json::object{{"rows", std::move(rows)}}}}}}};
    } else {
        return {};
    }
    interactive["body"] = {{"text", r.text}};
    if (r.file && interactive.at("type") == "button") {
        std::string type = media_type(r.file->type);
        if (type == "image" || type == "video" || type == "document")
            interactive["header"] = {{"type", type}, {type, {{"link", r.file->url}}}};
    }
    return {{"type", "interactive"}, {"interactive", std::move(interactive)}};
}

}  // namespace

bool outside_window(const json::object& command, int64_t window_ms, int64_t now_ms) {
    auto* last = command.if_contains("last_inbound_ms");
    if (!last || !last->is_int64()) return true;  // the customer never wrote: no window is open
    return now_ms - last->as_int64() > window_ms;
}

json::object build_message(const json::object& command, const window_policy& policy, int64_t now_ms) {
    reply::rich_reply r = reply::read(command);
    if (r.templ)
        return template_message(r.templ->name, r.templ->language.empty() ? policy.fallback_language : r.templ->language,
                                r.templ->parameters);
    if (r.text.empty() && !r.file)
        throw plugin_error(error_kind::invalid, "message.send needs \"text\", \"attachment\" or \"template\"");
    if (outside_window(command, policy.window_ms, now_ms)) {
        if (!policy.fallback_template.empty())
            return template_message(policy.fallback_template, policy.fallback_language, {});
        throw plugin_error(error_kind::final,
                           "outside WhatsApp's 24-hour customer service window (the customer has not written in the "
                           "last 24 h): only an approved template can be sent; set fallback_template",
                           "customer_service_window");
    }
    if (json::object interactive = interactive_message(r); !interactive.empty()) return interactive;
    if (r.file) {
        reply::rich_reply without_file = r;
        without_file.file.reset();
        std::string type = media_type(r.file->type);
        return {{"type", type}, {type, media_object(*r.file, reply::numbered_text(without_file))}};
    }
    std::string text = reply::numbered_text(r);
    if (chars(text) > max_text_chars)
        throw plugin_error(error_kind::invalid, "message text is longer than WhatsApp's 4096 characters");
    return {{"type", "text"}, {"text", {{"body", text}, {"preview_url", text.find("https://") != std::string::npos}}}};
}

sdk::http_call build_send(const json::object& command, const send_target& target, const window_policy& policy,
                          int64_t now_ms) {
    const std::string to = reply::recipient_id(command);
    if (to.empty()) throw plugin_error(error_kind::invalid, "message.send needs recipient.provider_id (the customer's wa_id)");
    json::object body{{"messaging_product", "whatsapp"}, {"recipient_type", "individual"}, {"to", to}};
    for (auto& [k, v] : build_message(command, policy, now_ms)) body[k] = v;
    if (auto* job = command.if_contains("job_id"); job && job->is_string()) body["biz_opaque_callback_data"] = *job;
    sdk::http_call call;
    call.method = "POST";
    call.url = target.url;
    call.headers = target.headers;
    call.headers.emplace_back("Content-Type", "application/json");
    call.body = json::serialize(body);
    call.timeout_ms = target.timeout_ms;
    return call;
}

json::object read_send_response(const sdk::http_response& response) {
    if (response.status < 200 || response.status >= 300)
        throw to_plugin_error(meta::parse_graph_error(response.status, response.body), response.retry_after_ms());
    boost::system::error_code ec;
    json::value v = json::parse(response.body, ec);
    const json::object* root = ec ? nullptr : v.if_object();
    const json::array* messages = root && root->contains("messages") ? root->at("messages").if_array() : nullptr;
    const json::object* first = messages && !messages->empty() ? messages->front().if_object() : nullptr;
    const json::value* wamid = first ? first->if_contains("id") : nullptr;
    if (!wamid || !wamid->is_string() || wamid->as_string().empty())
        throw plugin_error(error_kind::final,
                           "the Cloud API accepted the message but answered without a wamid; not retried, it may "
                           "have been sent",
                           "no_wamid");
    json::object out{{"provider_message_id", *wamid}};
    if (auto* contacts = root->contains("contacts") ? root->at("contacts").if_array() : nullptr;
        contacts && !contacts->empty() && contacts->front().is_object())
        if (auto* wa_id = contacts->front().as_object().if_contains("wa_id"); wa_id && wa_id->is_string())
            out["recipient_id"] = *wa_id;
    return out;
}

sdk::plugin_error to_plugin_error(const meta::graph_error& error, int64_t retry_after_header_ms) {
    sdk::plugin_error base = meta::to_plugin_error(error);
    const std::string code = std::to_string(error.code);
    switch (error.code) {
    case error_code::throughput:
        return plugin_error::retry_after(2000, std::string(base.what()) + " (the number's throughput; deferred)", code);
    case error_code::pair_rate:
        return plugin_error::retry_after(6000, std::string(base.what()) + " (too many messages to this customer; deferred)",
                                         code);
    case error_code::re_engagement:
        return plugin_error(error_kind::final,
                            std::string(base.what()) + " — more than 24 hours since the customer last wrote; only an "
                                                       "approved template can reach them (set fallback_template)",
                            code);
    case error_code::spam_rate:
        return plugin_error(error_kind::retryable, base.what(), code);
    default: break;
    }
    if (error.http_status == 429)
        return plugin_error::retry_after(retry_after_header_ms > 0 ? retry_after_header_ms : 1000, base.what(),
                                         base.code());
    return base;
}

}  // namespace switchboard::whatsapp
