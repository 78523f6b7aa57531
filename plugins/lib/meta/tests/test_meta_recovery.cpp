// Recovery of an interrupted send (switchboard/meta/channel.hpp, execute_send with "recovery"):
// before sending again, the channel looks the message up through the Conversations API.
#include "meta_channel_fixture.hpp"

namespace {

/// A Graph API answering the Conversations API from one conversation (Conversations API for
/// Messenger Platform: /me/conversations, /<conversation-id>?fields=messages, /<message-id>) and
/// the Send API; records nothing itself (fake_host.calls does).
struct scripted_graph {
    struct message {
        std::string id, from, text, created_time;
    };
    std::vector<message> messages;  // newest first
    bool has_conversation = true;
    std::pair<int, std::string> conversations_failure{};  // status 0 = answer normally

    std::pair<int, std::string> operator()(const fake_host::recorded_call& call) const {
        const std::string base = "https://graph.facebook.com/v21.0/";
        if (call.method == "POST" && call.url == base + "me/messages")
            return {200, R"({"recipient_id":"24000000000000001","message_id":"m_new"})"};
        if (call.url.rfind(base + "me/conversations?", 0) == 0) {
            if (conversations_failure.first != 0 || !conversations_failure.second.empty()) return conversations_failure;
            return {200, has_conversation ? R"({"data":[{"id":"t_100"}]})" : R"({"data":[]})"};
        }
        if (call.url == base + "t_100?fields=messages") {
            json::array data;
            for (auto& m : messages) data.push_back(json::object{{"id", m.id}, {"created_time", m.created_time}});
            return {200, json::serialize(json::object{{"messages", json::object{{"data", data}}}, {"id", "t_100"}})};
        }
        for (auto& m : messages)
            if (call.url == base + m.id + "?fields=id%2Ccreated_time%2Cfrom%2Cto%2Cmessage")
                return {200, json::serialize(json::object{
                                 {"id", m.id}, {"created_time", m.created_time}, {"from", json::object{{"id", m.from}}},
                                 {"to", json::object{{"data", json::array{json::object{{"id", "x"}}}}}},
                                 {"message", m.text}})};
        return {404, R"({"error":{"message":"unexpected request","code":803}})"};
    }
};

constexpr const char* page_id = "100200300400";
constexpr const char* customer = "24000000000000001";

/// host.now is 2023-11-14T22:13:20Z; the interrupted attempt was at most 2 minutes earlier.
json::object recovery_command(const fake_host& host) {
    json::object c = send_command(host.now - 3600 * 1000);
    c["recovery"] = json::object{{"interrupted_at_ms", host.now - 60000}, {"since_ms", host.now - 120000}};
    return c;
}

size_t sends(const fake_host& host) {
    size_t n = 0;
    for (auto& c : host.calls) n += c.method == "POST";
    return n;
}

}  // namespace

TEST_CASE("meta: an interrupted send is looked up in the conversation before sending again", "[meta][channel][recovery]") {
    fake_host host;
    scripted_graph graph;
    graph.messages = {{"m_reply", page_id, "Thanks for writing", "2023-11-14T22:12:40+0000"},
                      {"m_in", customer, "hello", "2023-11-14T22:12:30+0000"}};
    meta_channel channel(host.services(), full_settings(), messenger_profile);

    SECTION("found: nothing is sent and the message id is reported as recovered") {
        host.responder = std::cref(graph);
        json::object result = channel.execute(sdk::call(), recovery_command(host));
        CHECK(result.at("provider_message_id") == "m_reply");
        CHECK(result.at("recovered") == true);
        CHECK(sends(host) == 0);
        REQUIRE(host.calls.size() == 3);
        CHECK(host.calls[0].method == "GET");
        CHECK(host.calls[0].url ==
              "https://graph.facebook.com/v21.0/me/conversations?platform=messenger&user_id=24000000000000001");
        CHECK(host.calls[0].timeout_ms == 8000);
        CHECK(host.calls[0].headers == std::vector<std::pair<std::string, std::string>>{
                                           {"Authorization", std::string("Bearer ") + token_value}});
        CHECK(host.calls[1].url == "https://graph.facebook.com/v21.0/t_100?fields=messages");
        for (auto& c : host.calls) CHECK(c.url.find(token_value) == std::string::npos);
    }
    SECTION("Instagram asks with platform=instagram and matches the Instagram account") {
        fake_host ig_host;
        graph.messages[0].from = "17841400000000001";
        ig_host.responder = std::cref(graph);
        meta_channel ig(ig_host.services(), full_settings("account_id", "17841400000000001"), instagram_profile);
        CHECK(ig.execute(sdk::call(), recovery_command(ig_host)).at("recovered") == true);
        CHECK_THAT(ig_host.calls.at(0).url, Catch::Contains("platform=instagram&"));
        CHECK(sends(ig_host) == 0);
    }
    SECTION("no conversation with the person: sent") {
        graph.has_conversation = false;
        host.responder = std::cref(graph);
        json::object result = channel.execute(sdk::call(), recovery_command(host));
        CHECK(result.at("provider_message_id") == "m_new");
        CHECK_FALSE(result.contains("recovered"));
        CHECK(host.calls.size() == 2);
        CHECK(sends(host) == 1);
    }
    SECTION("another text: sent") {
        graph.messages[0].text = "Thanks for writing!";
        host.responder = std::cref(graph);
        CHECK(channel.execute(sdk::call(), recovery_command(host)).at("provider_message_id") == "m_new");
        CHECK(sends(host) == 1);
    }
    SECTION("the same text from before since_ms (an earlier reply): sent, without asking for its details") {
        graph.messages[0].created_time = "2023-11-14T22:00:00+0000";
        graph.messages[1].created_time = "2023-11-14T21:59:00+0000";
        host.responder = std::cref(graph);
        CHECK(channel.execute(sdk::call(), recovery_command(host)).at("provider_message_id") == "m_new");
        CHECK(sends(host) == 1);
        CHECK(host.calls.size() == 3);  // conversation, message list, send
    }
    SECTION("the same text written by the customer: sent") {
        graph.messages[0].from = customer;
        host.responder = std::cref(graph);
        CHECK(channel.execute(sdk::call(), recovery_command(host)).at("provider_message_id") == "m_new");
        CHECK(sends(host) == 1);
    }
    SECTION("the lookup fails: a warning, then sent") {
        const std::vector<std::pair<int, std::string>> failures = {
            {500, R"({"error":{"message":"An unexpected error has occurred.","type":"OAuthException","code":2,"is_transient":true}})"},
            {403, R"({"error":{"message":"(#10) Requires pages_read_engagement permission","type":"OAuthException","code":10}})"},
            {200, "<html>not json</html>"},
            {200, R"({"conversations":[]})"},
            {0, std::string("connection reset while sending Bearer ") + token_value},
        };
        for (auto& failure : failures) {
            INFO(failure.first << " " << failure.second);
            fake_host h;
            graph.conversations_failure = failure;
            h.responder = std::cref(graph);
            meta_channel c(h.services(), full_settings(), messenger_profile);
            CHECK(c.execute(sdk::call(), recovery_command(h)).at("provider_message_id") == "m_new");
            CHECK(sends(h) == 1);
            CHECK(h.calls.size() == 2);  // one lookup request, no retry loop
            CHECK(h.logged(SB_LOG_WARN, "could not check with the messenger Conversations API whether the "
                                        "interrupted attempt was delivered"));
            h.check_no_secret_logged();
        }
    }
    SECTION("a malformed recovery member: a warning, then sent") {
        host.responder = std::cref(graph);
        json::object command = recovery_command(host);
        command["recovery"] = "yes";
        CHECK(channel.execute(sdk::call(), command).at("provider_message_id") == "m_new");
        CHECK(host.calls.size() == 1);
        CHECK(host.logged(SB_LOG_WARN, "no integer since_ms"));
    }
    SECTION("without recovery nothing is looked up") {
        host.responder = std::cref(graph);
        CHECK(channel.execute(sdk::call(), send_command(host.now)).at("provider_message_id") == "m_new");
        CHECK(host.calls.size() == 1);
    }
    host.check_no_secret_logged();
}
