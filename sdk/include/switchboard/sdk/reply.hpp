// switchboard/sdk/reply.hpp — the rich reply a message.send command carries, read once, so every
// channel maps the same fields and degrades what its provider lacks in the same way.
//
// A message.send command (sdk/events.hpp) may carry, besides "text":
//   "buttons":       [{"title", "payload"?, "url"?}]  choices shown with the message; a button with
//                    "url" opens a link, one with "payload" answers with that payload
//   "quick_replies": [{"title", "payload"?}]          suggested answers that disappear once used
//   "attachment":    {"type": "image"|"video"|"audio"|"document", "url", "filename"?}  one file by URL
//   "template":      {"name", "language"?, "parameters"?: [string]}  a provider-approved template
// A channel without buttons writes them as a numbered list under the text (numbered_text); one
// without attachments appends the URL; one without templates sends the text.
// Header-only; depends on Boost.JSON and sdk/host.hpp (plugin_error).
#pragma once

#include <switchboard/sdk/host.hpp>

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::sdk::reply {

/// One button or quick reply. `payload` and `url` may both be empty (the title is the answer).
struct button {
    std::string title;    ///< what the customer sees
    std::string payload;  ///< what comes back when it is chosen ("" = the title)
    std::string url;      ///< a link button; "" for an answer button
};

/// One file sent by URL.
struct attachment {
    std::string type;      ///< "image", "video", "audio" or "document"
    std::string url;       ///< absolute http(s) URL the provider fetches
    std::string filename;  ///< shown for documents; may be empty
};

/// A provider-approved message template (WhatsApp "message templates", for example).
struct template_ref {
    std::string name;                     ///< the template's name as approved
    std::string language;                 ///< its language code, e.g. "en_US"; "" = the channel's default
    std::vector<std::string> parameters;  ///< body parameters {{1}}, {{2}}, ... in order
};

/// Everything a message.send command asks to show.
struct rich_reply {
    std::string text;
    std::vector<button> buttons;
    std::vector<button> quick_replies;
    std::optional<attachment> file;
    std::optional<template_ref> templ;

    /// Buttons, else quick replies: the choices a channel with one kind of choice shows.
    const std::vector<button>& choices() const { return buttons.empty() ? quick_replies : buttons; }
};

namespace detail {
inline std::string string_in(const boost::json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

inline std::vector<button> buttons_in(const boost::json::object& command, std::string_view key) {
    std::vector<button> out;
    auto* list = command.if_contains(key);
    if (!list) return out;
    if (!list->is_array())
        throw plugin_error(error_kind::invalid, "message.send \"" + std::string(key) + "\" must be an array");
    for (auto& item : list->as_array()) {
        auto* o = item.if_object();
        if (!o || string_in(*o, "title").empty())
            throw plugin_error(error_kind::invalid,
                               "every message.send \"" + std::string(key) + "\" item needs a non-empty \"title\"");
        out.push_back({string_in(*o, "title"), string_in(*o, "payload"), string_in(*o, "url")});
    }
    return out;
}
}  // namespace detail

/// The message.send's recipient.provider_id when it is a non-empty string, else "".
inline std::string recipient_id(const boost::json::object& command) {
    auto* r = command.if_contains("recipient");
    auto* id = r && r->is_object() ? r->as_object().if_contains("provider_id") : nullptr;
    return id && id->is_string() ? std::string(id->as_string()) : std::string();
}

/// Reads the reply fields of a message.send command.
/// @returns the reply; fields the command does not carry are empty.
/// @throws plugin_error(invalid) when a field has the wrong shape: "buttons"/"quick_replies" not an
///         array of objects with "title", "attachment" without "type" or "url", "template" without "name".
inline rich_reply read(const boost::json::object& command) {
    rich_reply r;
    r.text = detail::string_in(command, "text");
    r.buttons = detail::buttons_in(command, "buttons");
    r.quick_replies = detail::buttons_in(command, "quick_replies");
    if (auto* a = command.if_contains("attachment")) {
        auto* o = a->if_object();
        if (!o || detail::string_in(*o, "type").empty() || detail::string_in(*o, "url").empty())
            throw plugin_error(error_kind::invalid, "message.send \"attachment\" needs \"type\" and \"url\"");
        r.file = attachment{detail::string_in(*o, "type"), detail::string_in(*o, "url"),
                            detail::string_in(*o, "filename")};
    }
    if (auto* t = command.if_contains("template")) {
        auto* o = t->if_object();
        if (!o || detail::string_in(*o, "name").empty())
            throw plugin_error(error_kind::invalid, "message.send \"template\" needs \"name\"");
        template_ref ref{detail::string_in(*o, "name"), detail::string_in(*o, "language"), {}};
        if (auto* p = o->if_contains("parameters"); p && p->is_array())
            for (auto& v : p->as_array())
                ref.parameters.push_back(v.is_string() ? std::string(v.as_string()) : boost::json::serialize(v));
        r.templ = std::move(ref);
    }
    return r;
}

/// The text of a reply for a channel that shows no choices: the text, then one line per choice
/// ("1. Title", a link button as "1. Title: https://..."), then the attachment's URL when
/// `with_attachment_url`. A customer answers with the number or the title.
inline std::string numbered_text(const rich_reply& r, bool with_attachment_url = true) {
    std::string out = r.text;
    const auto& choices = r.choices();
    for (size_t i = 0; i < choices.size(); ++i) {
        out += (i == 0 && !out.empty()) ? "\n\n" : (i == 0 ? "" : "\n");
        out += std::to_string(i + 1) + ". " + choices[i].title;
        if (!choices[i].url.empty()) out += ": " + choices[i].url;
    }
    if (with_attachment_url && r.file) out += (out.empty() ? "" : "\n") + r.file->url;
    return out;
}

}  // namespace switchboard::sdk::reply
