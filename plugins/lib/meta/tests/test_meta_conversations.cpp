// The Conversations API proof of delivery (switchboard/meta/conversations.hpp): requests, answers,
// Graph datetimes, the match rule and the lookup's bounds. The instance-level behaviour (found →
// not sent, lookup failure → warning and sent) is in test_meta_channel.cpp.
#include <switchboard/meta/conversations.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace json = boost::json;
namespace sdk = switchboard::sdk;
using namespace switchboard::meta;
using sdk::error_kind;
using sdk::plugin_error;

namespace {

sdk::http_response response(int status, std::string body) {
    sdk::http_response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

lookup_options options() {
    lookup_options o;
    o.graph_api_base = "https://graph.facebook.com/v21.0/";
    o.page_access_token = "EAAGtoken";
    o.platform = "instagram";
    o.account_id = "17841400000000001";
    o.timeout_ms = 3000;
    return o;
}

std::optional<int64_t> t(const char* json_text) { return parse_graph_time(json::parse(json_text)); }

}  // namespace

TEST_CASE("meta: Conversations API requests", "[meta][recovery]") {
    auto conv = build_conversation_lookup("6100000000000001", options());
    CHECK(conv.method == "GET");
    CHECK(conv.url == "https://graph.facebook.com/v21.0/me/conversations?platform=instagram&user_id=6100000000000001");
    CHECK(conv.headers == std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer EAAGtoken"}});
    CHECK(conv.body.empty());
    CHECK(conv.timeout_ms == 3000);
    CHECK(build_messages_lookup("aWdfZAG06=/x", options()).url ==
          "https://graph.facebook.com/v21.0/aWdfZAG06%3D%2Fx?fields=messages");
    CHECK(build_message_lookup("m_1-a_b", options()).url ==
          "https://graph.facebook.com/v21.0/m_1-a_b?fields=id%2Ccreated_time%2Cfrom%2Cto%2Cmessage");
}

TEST_CASE("meta: Conversations API answers", "[meta][recovery]") {
    CHECK(read_conversation_id(response(200, R"({"data":[{"id":"t_1"},{"id":"t_2"}]})")) == "t_1");
    CHECK_FALSE(read_conversation_id(response(200, R"({"data":[]})")));
    CHECK_THROWS_AS(read_conversation_id(response(200, R"({"data":[{}]})")), plugin_error);
    CHECK_THROWS_AS(read_conversation_id(response(200, "[]")), plugin_error);
    try {
        read_conversation_id(response(400, R"({"error":{"message":"(#100) bad","type":"OAuthException","code":100}})"));
        FAIL("expected plugin_error");
    } catch (const plugin_error& e) {
        CHECK(e.code() == "100");
    }

    message_list list = read_message_list(response(200, R"({"messages":{"data":[
        {"id":"m_2","created_time":"2023-11-14T22:13:20+0000"},{"id":"m_1"}],
        "paging":{"cursors":{"after":"x"},"next":"https://graph.facebook.com/next"}},"id":"t_1"})"));
    REQUIRE(list.messages.size() == 2);
    CHECK(list.messages[0].id == "m_2");
    CHECK(list.messages[0].created_ms == 1700000000000);
    CHECK_FALSE(list.messages[1].created_ms);
    CHECK(list.more);
    CHECK(read_message_list(response(200, R"({"id":"t_1"})")).messages.empty());
    CHECK_THROWS_AS(read_message_list(response(200, R"({"messages":[]})")), plugin_error);
    CHECK_THROWS_AS(read_message_list(response(200, R"({"messages":{"data":[{"created_time":"x"}]}})")), plugin_error);

    message_details d = read_message_details(response(200, R"({"id":"m_2","created_time":"2023-11-14T22:13:20+0000",
        "from":{"username":"shop","id":"17841400000000001"},"to":{"data":[{"id":"61"}]},"message":"Hi"})"));
    CHECK(d.id == "m_2");
    CHECK(d.from_id == "17841400000000001");
    CHECK(d.text == "Hi");
    CHECK(d.created_ms == 1700000000000);
    CHECK_FALSE(read_message_details(response(200, R"({"id":"m_3"})")).text);
    CHECK_THROWS_AS(read_message_details(response(200, R"({"message":"Hi"})")), plugin_error);
    CHECK_THROWS_AS(read_message_details(response(500, "oops")), plugin_error);
}

TEST_CASE("meta: Graph API datetimes", "[meta][recovery]") {
    CHECK(t(R"("2023-11-14T22:13:20+0000")") == 1700000000000);
    CHECK(t(R"("2023-11-14T22:13:20Z")") == 1700000000000);
    CHECK(t(R"("2023-11-15T00:13:20+02:00")") == 1700000000000);
    CHECK(t(R"("2023-11-14T21:13:20-0100")") == 1700000000000);
    CHECK(t(R"("2023-11-14T22:13:20.250+0000")") == 1700000000250);
    CHECK(t(R"("1700000000")") == 1700000000000);
    CHECK(t("1700000000") == 1700000000000);
    CHECK(t("1700000000123") == 1700000000123);
    CHECK_FALSE(t(R"("2023-11-14 22:13:20")"));
    CHECK_FALSE(t(R"("2023-11-14T22:13:20")"));
    CHECK_FALSE(t(R"("2023-13-14T22:13:20+0000")"));
    CHECK_FALSE(t(R"("yesterday")"));
    CHECK_FALSE(t("null"));
    CHECK_FALSE(t("-5"));
}

TEST_CASE("meta: the recovery member and the match rule", "[meta][recovery]") {
    CHECK_FALSE(read_recovery(json::object{}));
    auto r = read_recovery(json::parse(R"({"recovery":{"interrupted_at_ms":200,"since_ms":100}})").as_object());
    REQUIRE(r);
    CHECK(r->since_ms == 100);
    CHECK(r->interrupted_at_ms == 200);
    CHECK_THROWS_AS(read_recovery(json::parse(R"({"recovery":{"since_ms":"100"}})").as_object()), plugin_error);

    const int64_t since = 1700000000000;
    message_details d{"m_1", "17841400000000001", std::string("Hi"), since};
    CHECK(is_our_message(d, "61", "Hi", since, options()));
    CHECK(is_our_message(d, "61", "Hi", since + recovery_clock_skew_ms, options()));  // clock skew
    CHECK_FALSE(is_our_message(d, "61", "Hi", since + recovery_clock_skew_ms + 1, options()));
    CHECK_FALSE(is_our_message(d, "61", "Hi ", since, options()));
    CHECK_FALSE(is_our_message(d, "61", "hi", since, options()));
    auto other = d;
    other.from_id = "61";
    CHECK_FALSE(is_our_message(other, "61", "Hi", since, options()));
    auto no_time = d;
    no_time.created_ms.reset();
    CHECK_FALSE(is_our_message(no_time, "61", "Hi", since, options()));
    auto no_account = options();
    no_account.account_id = "";
    CHECK(is_our_message(d, "61", "Hi", since, no_account));        // anyone but the person
    CHECK_FALSE(is_our_message(other, "61", "Hi", since, no_account));
}

TEST_CASE("meta: the lookup is bounded by the 20 messages the API details", "[meta][recovery]") {
    int requests = 0;
    auto many = [&](const sdk::http_call& call) {
        ++requests;
        if (call.url.find("/me/conversations?") != std::string::npos) return response(200, R"({"data":[{"id":"t_1"}]})");
        if (call.url.find("t_1?fields=messages") != std::string::npos) {
            json::array data;
            for (int i = 0; i < 25; ++i)
                data.push_back(json::object{{"id", "m_" + std::to_string(i)}, {"created_time", "2023-11-14T22:13:20+0000"}});
            return response(200, json::serialize(json::object{{"messages", json::object{{"data", data}}}}));
        }
        return response(200, R"({"id":"m_x","created_time":"2023-11-14T22:13:20+0000","from":{"id":"61"},"message":"no"})");
    };
    try {
        find_sent_message("61", "Hi", 1700000000000 - 60000, options(), many);
        FAIL("expected plugin_error");
    } catch (const plugin_error& e) {
        CHECK_THAT(e.what(), Catch::Contains("more than 20 messages"));
    }
    CHECK(requests == 2 + 20);
}
