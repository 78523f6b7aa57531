// Send API request building, Graph API error classification and the messaging window
// (switchboard/meta/graph.hpp).
#include <switchboard/meta/graph.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace switchboard::meta;
using switchboard::sdk::error_kind;
using switchboard::sdk::plugin_error;

namespace {

std::string own_fixture(const std::string& name) {
    std::ifstream in(fs::path(SWITCHBOARD_SOURCE_DIR) / "tests" / "fixtures" / "meta" / name, std::ios::binary);
    REQUIRE(in);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

json::object send_command() {
    return json::parse(R"({"type":"message.send","channel":"messenger",
        "recipient":{"provider_id":"24000000000000001"},"text":"Сайн байна уу","conversation_id":"c-1",
        "in_reply_to":"m_in_1","last_inbound_ms":1700000000000,"job_id":"42"})")
        .as_object();
}

std::string header(const switchboard::sdk::http_call& call, std::string_view name) {
    for (auto& [k, v] : call.headers)
        if (switchboard::sdk::iequals(k, name)) return v;
    return "<absent>";
}

switchboard::sdk::http_response response(int status, std::string body) {
    switchboard::sdk::http_response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

/// Runs read_send_response on a failing response and returns the plugin_error it threw.
plugin_error failure(int status, const std::string& body) {
    try {
        read_send_response(response(status, body));
    } catch (const plugin_error& e) {
        return e;
    }
    FAIL("read_send_response did not throw for HTTP " << status);
    return plugin_error(error_kind::invalid, "unreachable");
}

}  // namespace

TEST_CASE("meta: Send API request for message.send (Messenger)", "[meta][graph]") {
    send_options opts;
    opts.graph_api_base = "https://graph.facebook.com/v21.0";
    opts.page_access_token = "EAAB-page-token";
    opts.timeout_ms = 7000;
    opts.include_metadata = true;
    auto call = build_send_request(send_command(), opts);

    CHECK(call.method == "POST");
    CHECK(call.url == "https://graph.facebook.com/v21.0/me/messages");
    CHECK(header(call, "Content-Type") == "application/json");
    CHECK(header(call, "Authorization") == "Bearer EAAB-page-token");
    CHECK(call.timeout_ms == 7000);
    // The token travels only in the Authorization header.
    CHECK(call.url.find("EAAB") == std::string::npos);
    CHECK(call.body.find("EAAB") == std::string::npos);

    json::value body = json::parse(call.body);
    CHECK(body.at("recipient").at("id") == "24000000000000001");
    CHECK(body.at("messaging_type") == "RESPONSE");
    CHECK(body.at("message").at("text") == "Сайн байна уу");
    CHECK(body.at("message").at("metadata") == "42");
    CHECK(body.as_object().size() == 3);
    CHECK(body.at("message").as_object().size() == 2);
}

TEST_CASE("meta: Send API request without metadata (Instagram) and base URL with a slash", "[meta][graph]") {
    send_options opts;
    opts.graph_api_base = "http://127.0.0.1:9999/v21.0/";
    opts.page_access_token = "tok";
    opts.include_metadata = false;
    auto call = build_send_request(send_command(), opts);
    CHECK(call.url == "http://127.0.0.1:9999/v21.0/me/messages");
    json::value body = json::parse(call.body);
    CHECK_FALSE(body.at("message").as_object().contains("metadata"));
    CHECK(call.timeout_ms == 10000);
}

TEST_CASE("meta: Send API request refuses incomplete commands", "[meta][graph]") {
    send_options opts;
    opts.graph_api_base = "https://graph.facebook.com/v21.0";
    opts.page_access_token = "tok";
    auto expect_invalid = [&](json::object cmd, const std::string& fragment) {
        try {
            build_send_request(cmd, opts);
            FAIL("expected plugin_error(invalid)");
        } catch (const plugin_error& e) {
            CHECK(e.kind() == error_kind::invalid);
            CHECK_THAT(e.what(), Catch::Contains(fragment));
        }
    };
    auto cmd = send_command();
    cmd.erase("recipient");
    expect_invalid(cmd, "recipient.provider_id");
    cmd = send_command();
    cmd["recipient"] = json::object{{"provider_id", ""}};
    expect_invalid(cmd, "recipient.provider_id");
    cmd = send_command();
    cmd["text"] = "";
    expect_invalid(cmd, "text");
    cmd = send_command();
    cmd["text"] = 5;
    expect_invalid(cmd, "text");
}

TEST_CASE("meta: Send API success", "[meta][graph]") {
    auto result = read_send_response(response(200, own_fixture("graph-send-ok.json")));
    CHECK(result.at("provider_message_id") == "m_sent_AbCdEf0123456789");
    CHECK(result.at("recipient_id") == "24000000000000001");
}

TEST_CASE("meta: a 2xx without message_id is a final error", "[meta][graph]") {
    auto e = failure(200, R"({"recipient_id":"1"})");
    CHECK(e.kind() == error_kind::final);
    CHECK_THAT(e.what(), Catch::Contains("without a message_id"));
    CHECK(failure(200, "").kind() == error_kind::final);
    CHECK(failure(204, "").kind() == error_kind::final);
}

TEST_CASE("meta: Graph error bodies are read field by field", "[meta][graph]") {
    graph_error e = parse_graph_error(400, own_fixture("graph-error-token-expired-190.json"));
    CHECK(e.has_error_body);
    CHECK(e.http_status == 400);
    CHECK(e.code == 190);
    CHECK(e.subcode == 463);
    CHECK(e.type == "OAuthException");
    CHECK(e.fbtrace_id == "Bx9y8Z7w6V5");
    CHECK_FALSE(e.is_transient);

    graph_error t = parse_graph_error(500, own_fixture("graph-error-transient-2.json"));
    CHECK(t.is_transient);
    CHECK(t.code == 2);

    graph_error none = parse_graph_error(502, "<html>Bad Gateway</html>");
    CHECK_FALSE(none.has_error_body);
    CHECK(none.http_status == 502);
    CHECK_FALSE(parse_graph_error(400, R"({"error":"string"})").has_error_body);
}

TEST_CASE("meta: Graph errors are classified retryable or final", "[meta][graph]") {
    SECTION("rate limits and temporary failures are retried") {
        CHECK(failure(400, own_fixture("graph-error-rate-limit-613.json")).kind() == error_kind::retryable);
        CHECK(failure(400, own_fixture("graph-error-messenger-buc-80006.json")).kind() == error_kind::retryable);
        CHECK(failure(500, own_fixture("graph-error-transient-2.json")).kind() == error_kind::retryable);
        for (int code : {1, 2, 4, 17, 32, 341, 613, 1200, 80001, 80002, 80006}) {
            INFO("code " << code);
            graph_error g;
            g.http_status = 400;
            g.has_error_body = true;
            g.code = code;
            CHECK(is_retryable(g));
        }
    }
    SECTION("is_transient alone makes an error retryable") {
        auto e = failure(400, R"({"error":{"message":"try later","type":"OAuthException","code":100,"is_transient":true}})");
        CHECK(e.kind() == error_kind::retryable);
        CHECK(e.code() == "100");
    }
    SECTION("HTTP 5xx and 429 are retried whatever the body") {
        CHECK(failure(500, "").kind() == error_kind::retryable);
        CHECK(failure(503, "oops").kind() == error_kind::retryable);
        CHECK(failure(429, "").kind() == error_kind::retryable);
        CHECK(failure(500, "").code() == "http_500");
    }
    SECTION("other client errors are final, with the Graph code") {
        auto token = failure(400, own_fixture("graph-error-token-expired-190.json"));
        CHECK(token.kind() == error_kind::final);
        CHECK(token.code() == "190");
        CHECK_THAT(token.what(), Catch::StartsWith("Graph API error 190/463 (OAuthException): Error validating"));
        CHECK_THAT(token.what(), Catch::Contains("page_access_token"));
        CHECK_THAT(token.what(), Catch::Contains("fbtrace_id Bx9y8Z7w6V5"));

        auto window = failure(400, own_fixture("graph-error-window-10.json"));
        CHECK(window.kind() == error_kind::final);
        CHECK(window.code() == "10");
        CHECK_THAT(window.what(), Catch::Contains("10/2018278"));
        CHECK_THAT(window.what(), Catch::Contains("messaging window"));

        auto user = failure(400, own_fixture("graph-error-no-user-100.json"));
        CHECK(user.kind() == error_kind::final);
        CHECK(user.code() == "100");
        CHECK_THAT(user.what(), Catch::Contains("page-scoped"));

        auto html = failure(404, "<html>not found</html>");
        CHECK(html.kind() == error_kind::final);
        CHECK(html.code() == "http_404");
    }
    SECTION("no subcode, no trailing slash") {
        auto e = failure(400, own_fixture("graph-error-rate-limit-613.json"));
        CHECK_THAT(e.what(), Catch::StartsWith("Graph API error 613 (OAuthException): Calls to this api"));
    }
}

TEST_CASE("meta: 24-hour messaging window with an injected clock", "[meta][graph]") {
    const int64_t last = 1700000000000;
    const int64_t hour = 3600 * 1000;
    CHECK_NOTHROW(check_messaging_window(std::nullopt, last + 100 * hour, standard_messaging_window_ms));
    CHECK_NOTHROW(check_messaging_window(last, last + 23 * hour, standard_messaging_window_ms));
    CHECK_NOTHROW(check_messaging_window(last, last + 24 * hour, standard_messaging_window_ms));
    // A clock behind the inbound time is not a reason to refuse.
    CHECK_NOTHROW(check_messaging_window(last, last - hour, standard_messaging_window_ms));
    try {
        check_messaging_window(last, last + 30 * hour + 5, standard_messaging_window_ms);
        FAIL("expected the window to refuse");
    } catch (const plugin_error& e) {
        CHECK(e.kind() == error_kind::final);
        CHECK(e.code() == "messaging_window");
        CHECK(std::string(e.what()) ==
              "outside the 24-hour standard messaging window: the customer last wrote 30 h ago; Meta refuses "
              "RESPONSE messages after 24 h");
    }
    // A shorter configured window refuses earlier and says which setting decided.
    try {
        check_messaging_window(last, last + 2 * hour, hour);
        FAIL("expected the window to refuse");
    } catch (const plugin_error& e) {
        CHECK(e.code() == "messaging_window");
        CHECK_THAT(e.what(), Catch::Contains("messaging_window"));
        CHECK_THAT(e.what(), Catch::Contains("2 h ago"));
    }
}

TEST_CASE("meta: redact removes every occurrence of a secret", "[meta][graph]") {
    CHECK(redact("token abc and abc again", "abc") == "token [redacted] and [redacted] again");
    CHECK(redact("nothing here", "abc") == "nothing here");
    CHECK(redact("keep", "") == "keep");
    CHECK(redact("aaaa", "aa") == "[redacted][redacted]");
}

TEST_CASE("meta: rich replies map to quick replies, the button template and attachments, else text",
          "[meta][graph]") {
    send_options opts;
    opts.graph_api_base = "https://graph.facebook.com/v21.0";
    opts.page_access_token = "tok";
    auto message_of = [&](json::object extra, bool button_template = true) {
        auto cmd = send_command();
        for (auto& [k, v] : extra) cmd[k] = v;
        opts.button_template = button_template;
        return json::parse(build_send_request(cmd, opts).body).at("message").as_object();
    };
    auto quick = message_of({{"quick_replies", json::parse(R"([{"title":"Yes","payload":"Y"},{"title":"No"}])")}});
    CHECK(quick.at("quick_replies") == json::parse(R"([{"content_type":"text","title":"Yes","payload":"Y"},
        {"content_type":"text","title":"No","payload":"No"}])"));
    auto buttons = message_of({{"buttons", json::parse(R"([{"title":"Book","payload":"BOOK"},
        {"title":"Site","url":"https://shop.example"}])")}});
    CHECK(buttons.at("attachment").at("payload").at("template_type") == "button");
    CHECK(buttons.at("attachment").at("payload").at("buttons").as_array()[1].at("type") == "web_url");
    // Instagram has no button template: answer buttons become quick replies, link buttons text.
    auto ig = message_of({{"buttons", json::parse(R"([{"title":"Book","payload":"BOOK"}])")}}, false);
    CHECK(ig.contains("quick_replies"));
    auto ig_link = message_of({{"buttons", json::parse(R"([{"title":"Site","url":"https://shop.example"}])")}}, false);
    CHECK_THAT(std::string(ig_link.at("text").as_string()), Catch::Contains("1. Site: https://shop.example"));
    json::array many;
    for (int i = 0; i < 14; ++i) many.push_back(json::object{{"title", "Option " + std::to_string(i)}});
    CHECK_THAT(std::string(message_of({{"quick_replies", many}}).at("text").as_string()), Catch::Contains("14. Option 13"));
    auto image = send_command();
    image.erase("text");
    image["attachment"] = {{"type", "image"}, {"url", "https://cdn.example/p.jpg"}};
    auto body = json::parse(build_send_request(image, opts).body).at("message");
    CHECK(body.at("attachment") == json::parse(R"({"type":"image","payload":{"url":"https://cdn.example/p.jpg","is_reusable":true}})"));
    auto captioned = message_of({{"attachment", {{"type", "document"}, {"url", "https://cdn.example/menu.pdf"}}}});
    CHECK_THAT(std::string(captioned.at("text").as_string()), Catch::EndsWith("https://cdn.example/menu.pdf"));
}

TEST_CASE("meta: a private reply addresses the comment; a public reply posts under it", "[meta][graph]") {
    send_options opts;
    opts.graph_api_base = "https://graph.facebook.com/v21.0";
    opts.page_access_token = "tok";
    auto cmd = send_command();
    cmd["recipient"] = {{"provider_id", "6100"}, {"comment_id", "55_77"}};
    CHECK(json::parse(build_send_request(cmd, opts).body).at("recipient") == json::parse(R"({"comment_id":"55_77"})"));
    auto pub = build_comment_reply(json::parse(R"({"comment_id":"55_77","text":"Thanks!"})").as_object(), opts);
    CHECK(pub.url == "https://graph.facebook.com/v21.0/55_77/comments");
    CHECK(json::parse(pub.body) == json::parse(R"({"message":"Thanks!"})"));
    CHECK(read_comment_response({200, {}, R"({"id":"55_99"})"}).at("comment_id") == "55_99");
    CHECK_THROWS_AS(read_comment_response({400, {}, R"({"error":{"code":100,"message":"bad"}})"}), plugin_error);
    CHECK_THROWS_AS(build_comment_reply(json::parse(R"({"text":"x"})").as_object(), opts), plugin_error);
}
