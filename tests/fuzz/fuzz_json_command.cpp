// fuzz_json_command — the Send API and Conversations API side of plugins/lib/meta (graph.hpp,
// conversations.hpp, channel.hpp) on arbitrary bodies.
//
// Graph API responses are untrusted input: whatever Meta, a proxy or an attacker in the path answers
// is read by parse_graph_error / read_send_response, and error texts end up in logs and dead letters.
// A message.send command is stored JSON that other plugins produced. The input is used as the
// response body at several HTTP statuses and as the command. Checked: the documented retry
// classification and error codes, that a 2xx result always carries a message id, that a built
// request has the documented shape, and that no error message ever contains the page access token.
#include "fuzz_check.hpp"

#include <switchboard/meta/channel.hpp>
#include <switchboard/meta/conversations.hpp>
#include <switchboard/meta/graph.hpp>
#include <switchboard/meta/profile.hpp>

#include <switchboard/sdk/plugin.hpp>

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

namespace meta = switchboard::meta;
namespace sdk = switchboard::sdk;
namespace json = boost::json;

constexpr std::string_view page_token = "EAAFuzzPageAccessToken";
// Inside the messaging window of last_inbound_ms values near the fixtures' timestamps.
constexpr int64_t now_ms = 1'700'000'000'000;

meta::channel_config channel_config() {
    meta::channel_config c;
    c.app_secret = "fuzz-app-secret";
    c.page_access_token = std::string(page_token);
    c.graph_api_base = "https://graph.example.invalid/v21.0/";
    return c;
}

const json::object& valid_command() {
    static const json::object command = {{"type", "message.send"},
                                         {"channel", "messenger"},
                                         {"recipient", {{"provider_id", "1000001"}}},
                                         {"text", "hello"},
                                         {"job_id", "1"}};
    return command;
}

void check_no_token(const sdk::plugin_error& e) {
    FUZZ_CHECK(std::string_view(e.what()).find(page_token) == std::string_view::npos);
    FUZZ_CHECK(e.code().find(page_token) == std::string::npos);
}

void fuzz_response(int status, std::string_view body) {
    const meta::graph_error error = meta::parse_graph_error(status, body);
    FUZZ_CHECK(error.http_status == status);
    const bool retryable = meta::is_retryable(error);
    if (status >= 500 || status == 429 || error.is_transient) FUZZ_CHECK(retryable);
    const sdk::plugin_error mapped = meta::to_plugin_error(error);
    FUZZ_CHECK((mapped.kind() == sdk::error_kind::retryable) == retryable);
    FUZZ_CHECK(mapped.kind() == sdk::error_kind::retryable || mapped.kind() == sdk::error_kind::final);
    if (error.has_error_body)
        FUZZ_CHECK(mapped.code() == std::to_string(error.code));
    else
        FUZZ_CHECK(mapped.code() == "http_" + std::to_string(status));

    sdk::http_response response;
    response.status = status;
    response.body = std::string(body);
    try {
        json::object result = meta::read_send_response(response);
        FUZZ_CHECK(status >= 200 && status <= 299);
        FUZZ_CHECK(!result.at("provider_message_id").as_string().empty());
    } catch (const sdk::plugin_error& e) {
        if (status >= 200 && status <= 299) FUZZ_CHECK(e.kind() == sdk::error_kind::final);
    }

    // Through the instance's send path, with the body as the Graph answer: the token never leaks.
    for (const auto* profile : {&meta::messenger_profile, &meta::instagram_profile}) {
        try {
            (void)meta::execute_send(valid_command(), channel_config(), *profile, now_ms,
                                     [&](const sdk::http_call&) { return response; });
        } catch (const sdk::plugin_error& e) {
            check_no_token(e);
        }
    }
}

/// The Conversations API answers read while recovering an interrupted send: each reader either
/// returns or throws plugin_error; the time parser never throws; the whole lookup, fed the input
/// as every answer, finds a message id or throws plugin_error, and never leaks the token.
void fuzz_conversations(int status, std::string_view body) {
    const sdk::http_response response{status, {}, std::string(body)};
    try {
        (void)meta::read_conversation_id(response);
        FUZZ_CHECK(status >= 200 && status <= 299);
    } catch (const sdk::plugin_error&) {
    }
    try {
        auto list = meta::read_message_list(response);
        FUZZ_CHECK(status >= 200 && status <= 299);
        for (auto& m : list.messages) FUZZ_CHECK(!m.id.empty());
    } catch (const sdk::plugin_error&) {
    }
    try {
        auto details = meta::read_message_details(response);
        FUZZ_CHECK(status >= 200 && status <= 299);
        FUZZ_CHECK(!details.id.empty());
    } catch (const sdk::plugin_error&) {
    }
    boost::system::error_code ec;
    json::value doc = json::parse(body, ec);
    if (!ec) (void)meta::parse_graph_time(doc);
    meta::lookup_options options;
    options.graph_api_base = "https://graph.example.invalid/v21.0";
    options.page_access_token = page_token;
    options.platform = "messenger";
    options.account_id = "100200300";
    try {
        auto found = meta::find_sent_message("1000001", "hello", now_ms, options,
                                             [&](const sdk::http_call&) { return response; });
        if (found) FUZZ_CHECK(!found->empty());
    } catch (const sdk::plugin_error&) {
        // Graph error texts are quoted as they came; the instance redacts them (below).
    }
    // Through the instance's send path with "recovery": the lookup reads the input as every
    // answer; its warning and any error never carry the token.
    json::object command = valid_command();
    command["recovery"] = {{"interrupted_at_ms", now_ms}, {"since_ms", now_ms - 60'000}};
    const sdk::http_response sent{200, {}, R"({"recipient_id":"1000001","message_id":"m_fuzz"})"};
    for (const auto* profile : {&meta::messenger_profile, &meta::instagram_profile}) {
        try {
            (void)meta::execute_send(
                command, channel_config(), *profile, now_ms,
                [&](const sdk::http_call& call) { return call.method == "GET" ? response : sent; },
                [](sb_log_level, const std::string& line) { FUZZ_CHECK(line.find(page_token) == std::string::npos); });
        } catch (const sdk::plugin_error& e) {
            check_no_token(e);
        }
    }
}

void fuzz_command(std::string_view input) {
    boost::system::error_code ec;
    json::value doc = json::parse(input, ec);
    if (ec || !doc.is_object()) return;
    const json::object& command = doc.get_object();

    meta::send_options options;
    options.graph_api_base = "https://graph.example.invalid/v21.0//";
    options.page_access_token = page_token;
    for (bool metadata : {true, false}) {
        options.include_metadata = metadata;
        try {
            sdk::http_call call = meta::build_send_request(command, options);
            FUZZ_CHECK(call.method == "POST");
            FUZZ_CHECK(call.url == "https://graph.example.invalid/v21.0/me/messages");
            FUZZ_CHECK(call.url.find(page_token) == std::string::npos);
            json::value body = json::parse(call.body);
            FUZZ_CHECK(body.at("recipient").at("id") == command.at("recipient").at("provider_id"));
            FUZZ_CHECK(body.at("message").at("text") == command.at("text"));
            FUZZ_CHECK(metadata || !body.at("message").as_object().contains("metadata"));
        } catch (const sdk::plugin_error& e) {
            FUZZ_CHECK(e.kind() == sdk::error_kind::invalid);
        }
    }

    const sdk::http_response ok{200, {}, R"({"recipient_id":"1000001","message_id":"m_fuzz"})"};
    for (const auto* profile : {&meta::messenger_profile, &meta::instagram_profile}) {
        try {
            json::object result = meta::execute_send(command, channel_config(), *profile, now_ms,
                                                     [&](const sdk::http_call&) { return ok; });
            FUZZ_CHECK(result.at("provider_message_id").as_string() == "m_fuzz");
        } catch (const sdk::plugin_error& e) {
            // Refusals may quote the command (its type); only a command that carries the token
            // itself can put it there.
            if (input.find(page_token) == std::string_view::npos) check_no_token(e);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    for (int status : {200, 400, 403, 429, 500, 503}) fuzz_response(status, input);
    for (int status : {200, 400, 500}) fuzz_conversations(status, input);
    fuzz_command(input);

    FUZZ_CHECK(meta::redact(std::string(input), page_token).find(page_token) == std::string::npos);
    FUZZ_CHECK(meta::redact(std::string(input), {}) == input);
    return 0;
}
