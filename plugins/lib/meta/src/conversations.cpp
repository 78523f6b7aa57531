#include <switchboard/meta/conversations.hpp>

#include <climits>
#include <cmath>
#include <cstdio>

namespace switchboard::meta {
namespace json = boost::json;
using sdk::error_kind;
using sdk::plugin_error;

namespace {

/// Percent-encodes everything but RFC 3986 unreserved characters (ids are URL-safe today, but an
/// IG conversation id is base64 and may carry '=' or '/').
std::string encode(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

sdk::http_call get(std::string path_and_query, const lookup_options& options) {
    std::string base(options.graph_api_base);
    while (!base.empty() && base.back() == '/') base.pop_back();
    sdk::http_call call;
    call.method = "GET";
    call.url = base + "/" + path_and_query;
    call.headers = {{"Authorization", "Bearer " + std::string(options.page_access_token)}};
    call.timeout_ms = options.timeout_ms;
    return call;
}

/// The JSON object of a 2xx answer; a non-2xx throws per to_plugin_error().
json::object body_of(const sdk::http_response& response, std::string_view what) {
    if (response.status < 200 || response.status > 299)
        throw to_plugin_error(parse_graph_error(response.status, response.body));
    boost::system::error_code ec;
    json::value v = json::parse(response.body, ec);
    if (ec || !v.is_object())
        throw plugin_error(error_kind::final, "the Conversations API answer to " + std::string(what) +
                                                  " is not a JSON object (HTTP " +
                                                  std::to_string(response.status) + ")");
    return std::move(v.get_object());
}

const json::array* data_of(const json::value* v) {
    auto* o = v ? v->if_object() : nullptr;
    auto* d = o ? o->if_contains("data") : nullptr;
    return d ? d->if_array() : nullptr;
}

const json::string* string_member(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v ? v->if_string() : nullptr;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {  // H. Hinnant's algorithm
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<int64_t> from_unix(double v) {
    if (!std::isfinite(v) || v < 0 || v > 9.0e15) return std::nullopt;
    return v >= 1e11 ? static_cast<int64_t>(v) : static_cast<int64_t>(v * 1000);
}

std::optional<int64_t> parse_iso8601(std::string_view s) {
    int y, mo, d, h, mi, sec, n = 0;
    std::string text(s);
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
        return std::nullopt;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
    size_t i = 19;
    int64_t ms = 0;
    if (i < s.size() && s[i] == '.') {
        int64_t scale = 100;
        for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, scale /= 10) ms += (s[i] - '0') * scale;
    }
    int64_t offset_min = 0;
    std::string_view zone = s.substr(std::min(i, s.size()));
    if (zone == "Z") {
    } else if (zone.size() >= 5 && (zone[0] == '+' || zone[0] == '-')) {
        std::string digits;
        for (char c : zone.substr(1))
            if (c != ':') digits += c;
        if (digits.size() != 4 || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
        offset_min = std::stoi(digits.substr(0, 2)) * 60 + std::stoi(digits.substr(2));
        if (zone[0] == '-') offset_min = -offset_min;
    } else {
        return std::nullopt;
    }
    int64_t seconds = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 +
                      mi * 60 + sec - offset_min * 60;
    return seconds * 1000 + ms;
}

}  // namespace

std::optional<recovery_request> read_recovery(const json::object& command) {
    auto* v = command.if_contains("recovery");
    if (!v) return std::nullopt;
    auto* o = v->if_object();
    auto int_member = [&](std::string_view key) -> std::optional<int64_t> {
        auto* m = o ? o->if_contains(key) : nullptr;
        if (!m) return std::nullopt;
        if (auto* i = m->if_int64()) return *i;
        if (auto* u = m->if_uint64(); u && *u <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(*u);
        return std::nullopt;
    };
    auto since = int_member("since_ms");
    if (!since) throw plugin_error(error_kind::invalid, "message.send \"recovery\" has no integer since_ms");
    return recovery_request{int_member("interrupted_at_ms").value_or(0), *since};
}

sdk::http_call build_conversation_lookup(std::string_view user_id, const lookup_options& options) {
    return get("me/conversations?platform=" + encode(options.platform) + "&user_id=" + encode(user_id), options);
}

sdk::http_call build_messages_lookup(std::string_view conversation_id, const lookup_options& options) {
    return get(encode(conversation_id) + "?fields=messages", options);
}

sdk::http_call build_message_lookup(std::string_view message_id, const lookup_options& options) {
    return get(encode(message_id) + "?fields=" + encode("id,created_time,from,to,message"), options);
}

std::optional<std::string> read_conversation_id(const sdk::http_response& response) {
    json::value root = body_of(response, "the conversation lookup");
    const json::array* data = data_of(&root);
    if (!data) throw plugin_error(error_kind::final, "the conversation lookup answer has no \"data\" array");
    if (data->empty()) return std::nullopt;
    auto* first = data->front().if_object();
    const json::string* id = first ? string_member(*first, "id") : nullptr;
    if (!id || id->empty())
        throw plugin_error(error_kind::final, "the conversation lookup answer has no conversation id");
    return std::string(*id);
}

message_list read_message_list(const sdk::http_response& response) {
    json::object root = body_of(response, "the message list");
    message_list out;
    auto* messages = root.if_contains("messages");
    if (!messages) return out;  // a conversation without messages has no "messages" field
    const json::array* data = data_of(messages);
    if (!data) throw plugin_error(error_kind::final, "the message list answer has no messages.data array");
    for (const json::value& entry : *data) {
        auto* m = entry.if_object();
        const json::string* id = m ? string_member(*m, "id") : nullptr;
        if (!id || id->empty()) throw plugin_error(error_kind::final, "the message list has an entry without an id");
        auto* created = m->if_contains("created_time");
        out.messages.push_back({std::string(*id), created ? parse_graph_time(*created) : std::nullopt});
    }
    if (auto* paging = messages->as_object().if_contains("paging"))
        if (auto* p = paging->if_object()) out.more = p->contains("next");
    return out;
}

message_details read_message_details(const sdk::http_response& response) {
    json::object root = body_of(response, "the message details");
    message_details out;
    const json::string* id = string_member(root, "id");
    if (!id || id->empty()) throw plugin_error(error_kind::final, "the message details answer has no id");
    out.id = *id;
    if (auto* from = root.if_contains("from"); from && from->is_object())
        if (auto* fid = string_member(from->get_object(), "id")) out.from_id = *fid;
    if (auto* text = string_member(root, "message")) out.text = std::string(*text);
    if (auto* created = root.if_contains("created_time")) out.created_ms = parse_graph_time(*created);
    return out;
}

std::optional<int64_t> parse_graph_time(const json::value& value) {
    if (auto* i = value.if_int64()) return from_unix(static_cast<double>(*i));
    if (auto* u = value.if_uint64()) return from_unix(static_cast<double>(*u));
    if (auto* d = value.if_double()) return from_unix(*d);
    auto* s = value.if_string();
    if (!s || s->empty()) return std::nullopt;
    std::string_view sv(*s);
    if (sv.size() <= 16 && sv.find_first_not_of("0123456789") == std::string_view::npos)
        return from_unix(std::stod(std::string(sv)));
    return parse_iso8601(sv);
}

bool is_our_message(const message_details& details, std::string_view user_id, std::string_view text,
                    int64_t since_ms, const lookup_options& options) {
    if (details.from_id.empty()) return false;
    bool ours = options.account_id.empty() ? details.from_id != user_id : details.from_id == options.account_id;
    if (!ours || !details.text || *details.text != text) return false;
    return details.created_ms && *details.created_ms >= since_ms - recovery_clock_skew_ms;
}

}  // namespace switchboard::meta
