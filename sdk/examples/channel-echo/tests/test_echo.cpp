// Tests of the echo plugin: the built switchboard-echo.so, loaded by the SDK's fake host exactly
// as the service loads it. No running service, no network.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <switchboard/sdk/testing.hpp>

#include <boost/json.hpp>

#include <string>

namespace json = boost::json;
namespace sbt = switchboard::sdk::testing;
using Catch::Matchers::Contains;

namespace {

const std::string secret = "echo-shared-secret-7f3a";
const std::string reply_url = "https://replies.example.test/echo";

sbt::fake_host load_echo() { return sbt::fake_host::load(ECHO_PLUGIN_FILE); }

sbt::tenant_instance create_demo(sbt::fake_host& host) {
    return host.create("demo", {{"shared_secret", secret}, {"reply_url", reply_url}});
}

sbt::inbound_request signed_post(std::string body, std::string header_value = secret) {
    return {.method = "POST",
            .path = "/webhooks/echo/demo",
            .headers = {{"Content-Type", "application/json"}, {"X-Echo-Secret", std::move(header_value)}},
            .body = std::move(body)};
}

json::object send_command() {
    return {{"type", "message.send"}, {"channel", "echo"}, {"recipient", {{"provider_id", "user-7"}}}, {"text", "echo: hello"}};
}

/// The call context of a send: the host derives the key from the tenant and the inbound message id.
sbt::call_options with_key(std::string key = "key-42") { return {.idempotency_key = std::move(key)}; }

}  // namespace

TEST_CASE("the descriptor declares the channel, its settings and the reply stage", "[echo]") {
    sbt::fake_host host = load_echo();
    const sb_plugin_descriptor& d = host.descriptor();
    CHECK(host.name() == "echo");
    CHECK(d.capabilities == (SB_CAP_CHANNEL | SB_CAP_STAGE));
    REQUIRE(d.stages_count == 1);
    CHECK(std::string(d.stages[0]) == "reply");
    REQUIRE(d.settings_count == 3);
    CHECK(std::string(d.settings[0].name) == "shared_secret");
    CHECK(d.settings[0].flags == (SB_SETTING_REQUIRED | SB_SETTING_SECRET));
    CHECK(std::string(d.settings[1].name) == "reply_url");
    CHECK(d.settings[1].flags == SB_SETTING_REQUIRED);
    CHECK(std::string(d.settings[2].name) == "timeout");
    CHECK(d.settings[2].type == SB_SETTING_DURATION);
    CHECK(std::string(d.settings[2].default_value) == "5s");
    REQUIRE(d.commands_count == 1); // the host hands it message.send only
    CHECK(std::string(d.commands[0]) == "message.send");
}

TEST_CASE("settings are validated before the plugin runs", "[echo]") {
    sbt::fake_host host = load_echo();
    CHECK_THROWS_WITH(host.create("demo", {{"shared_secret", secret}}),
                      Contains("plugin 'echo' of tenant 'demo' requires setting 'reply_url'"));
    CHECK_THROWS_WITH(host.create("demo", {{"shared_secret", secret}, {"reply_url", reply_url}, {"timeout", "soon"}}),
                      Contains("setting 'timeout' of plugin 'echo' must be a duration"));
    CHECK_THROWS_WITH(host.create("demo", {{"shared_secret", secret}, {"reply_url", reply_url}, {"secret", "x"}}),
                      Contains("plugin 'echo' has no setting 'secret'"));
    CHECK_THROWS_WITH(host.create("demo", {{"shared_secret", secret}, {"reply_url", "ftp://example.test/"}}),
                      Contains("refused the settings of tenant 'demo': reply_url must start with http:// or https://"));
}

TEST_CASE("an authenticated webhook becomes message.received", "[echo]") {
    sbt::fake_host host = load_echo();
    host.set_now_ms(1'720'000'000'123);
    auto echo = create_demo(host);

    auto r = echo.webhook(signed_post(R"({"id":"msg-1","from":"user-7","text":"Сайн уу"})"));
    CHECK(r.status == 200);
    CHECK(r.content_type == "application/json");
    CHECK(json::parse(r.body) == json::parse(R"({"ok":true})"));
    REQUIRE(r.events.size() == 1);
    const json::object& ev = r.events[0];
    CHECK(ev.at("type") == "message.received");
    CHECK(ev.at("tenant") == "demo");
    CHECK(ev.at("channel") == "echo");
    CHECK(ev.at("provider_message_id") == "msg-1");
    CHECK(ev.at("contact").at("provider_id") == "user-7");
    CHECK(ev.at("text") == "Сайн уу");
    CHECK(ev.at("timestamp_ms") == 1'720'000'000'123);
    CHECK(ev.at("raw").at("id") == "msg-1");
    // The header name is matched case-insensitively, as HTTP requires.
    auto lower = signed_post(R"({"id":"msg-2","from":"user-7","text":"hi"})");
    lower.headers[1].first = "x-echo-secret";
    CHECK(echo.webhook(lower).events.size() == 1);
    CHECK(host.metric_total("webhook_events") == 2);
    CHECK_FALSE(host.logged("Сайн уу"));
    CHECK_FALSE(host.logged(secret));
}

TEST_CASE("a webhook without the right secret is refused and emits nothing", "[echo]") {
    sbt::fake_host host = load_echo();
    auto echo = create_demo(host);
    const std::string body = R"({"id":"msg-1","from":"user-7","text":"hi"})";

    auto wrong = echo.webhook(signed_post(body, secret + "x"));
    CHECK(wrong.status == 401);
    CHECK(wrong.events.empty());
    auto prefix = echo.webhook(signed_post(body, secret.substr(0, 5)));
    CHECK(prefix.status == 401);
    auto missing = echo.webhook({.method = "POST", .path = "/webhooks/echo/demo", .body = body});
    CHECK(missing.status == 401);
    CHECK(missing.events.empty());
    CHECK(host.logged("X-Echo-Secret does not match", SB_LOG_WARN));
    CHECK(host.logged("no X-Echo-Secret header", SB_LOG_WARN));
    CHECK(host.metric_total("webhooks_refused") == 3);
    CHECK_FALSE(host.logged(secret));
}

TEST_CASE("an authenticated body we cannot read is stored as webhook.unhandled", "[echo]") {
    sbt::fake_host host = load_echo();
    auto echo = create_demo(host);

    auto bad = echo.webhook(signed_post("id=1&text=hi"));
    CHECK(bad.status == 200);
    REQUIRE(bad.events.size() == 1);
    CHECK(bad.events[0].at("type") == "webhook.unhandled");
    CHECK_THAT(std::string(bad.events[0].at("reason").as_string()), Contains("not JSON"));
    CHECK(bad.events[0].at("raw") == "id=1&text=hi");

    auto no_from = echo.webhook(signed_post(R"({"id":"msg-1","text":"hi"})"));
    REQUIRE(no_from.events.size() == 1);
    CHECK(no_from.events[0].at("type") == "webhook.unhandled");
    CHECK_THAT(std::string(no_from.events[0].at("reason").as_string()), Contains("\"from\""));
    CHECK(host.logged("webhook.unhandled stored", SB_LOG_WARN));
}

TEST_CASE("GET is answered 405", "[echo]") {
    sbt::fake_host host = load_echo();
    auto echo = create_demo(host);
    auto r = echo.webhook({.method = "GET", .path = "/webhooks/echo/demo", .query = "x=1"});
    CHECK(r.status == 405);
    CHECK(r.events.empty());
}

TEST_CASE("the reply stage answers echo messages with message.send", "[echo]") {
    sbt::fake_host host = load_echo();
    auto echo = create_demo(host);
    json::object received{{"type", "message.received"},
                          {"channel", "echo"},
                          {"provider_message_id", "msg-1"},
                          {"contact", {{"provider_id", "user-7"}}},
                          {"text", "hello"},
                          {"conversation", {{"id", 12}}}};

    auto r = echo.run_stage("reply", received);
    REQUIRE(r.ok());
    const json::object& send = r.output();
    CHECK(send.at("type") == "message.send");
    CHECK(send.at("channel") == "echo");
    CHECK(send.at("tenant") == "demo");
    CHECK(send.at("recipient").at("provider_id") == "user-7");
    CHECK(send.at("conversation_id") == 12);
    CHECK(send.at("text") == "echo: hello");

    received.erase("conversation");
    auto without_conversation = echo.run_stage("reply", received);
    REQUIRE(without_conversation.ok());
    CHECK_FALSE(without_conversation.output().contains("conversation_id"));

    // Messages of other channels in the same route are not echoed to our reply_url.
    received["channel"] = "messenger";
    auto other = echo.run_stage("reply", received);
    CHECK(other.ok());
    CHECK(other.outputs.empty());
    CHECK_THROWS_AS(echo.run_stage("shout", received), std::invalid_argument);
}

TEST_CASE("message.send is POSTed to reply_url with the idempotency key", "[echo]") {
    sbt::fake_host host = load_echo();
    auto echo = host.create("demo", {{"shared_secret", secret}, {"reply_url", reply_url}, {"timeout", "30s"}});

    host.push_http_reply(sbt::http_reply::json(200, {{"id", "out-99"}}));
    auto r = echo.execute(send_command(), with_key());
    REQUIRE(r.ok());
    CHECK(r.output().at("provider_message_id") == "out-99");

    auto requests = host.http_requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "POST");
    CHECK(requests[0].url == reply_url);
    CHECK(requests[0].header("idempotency-key") == "key-42");
    CHECK(requests[0].header("Content-Type") == "application/json");
    CHECK(requests[0].timeout_ms == 30000);
    CHECK(requests[0].json() == json::parse(R"({"to":"user-7","text":"echo: hello","idempotency_key":"key-42"})"));

    // A receiver that answers without an id: the idempotency key stands in for it.
    host.push_http_reply({.status = 202, .body = ""});
    auto accepted = echo.execute(send_command(), with_key("key-43"));
    REQUIRE(accepted.ok());
    CHECK(accepted.output().at("provider_message_id") == "key-43");
    CHECK(host.metric_total("messages_sent") == 2);
}

TEST_CASE("send failures are classified retryable or final", "[echo]") {
    sbt::fake_host host = load_echo();
    auto echo = create_demo(host);
    CHECK(host.http_requests().empty());

    host.push_http_reply({.status = 429});
    CHECK(echo.execute(send_command()).status() == SB_ERR_RETRYABLE);
    host.push_http_reply({.status = 503, .body = "echo: hello"});
    auto unavailable = echo.execute(send_command());
    CHECK(unavailable.status() == SB_ERR_RETRYABLE);
    CHECK(unavailable.error->code == "http_503");
    CHECK_THAT(unavailable.error->message, !Contains("echo: hello"));  // never quote message text

    host.push_http_reply({.status = 400});
    auto refused = echo.execute(send_command());
    CHECK(refused.status() == SB_ERR_FINAL);
    CHECK(refused.error->code == "http_400");
    CHECK_THAT(refused.error->message, Contains("HTTP 400"));

    host.push_http_reply(sbt::http_reply::failure("timed out after 5000 ms"));
    auto timeout = echo.execute(send_command());
    CHECK(timeout.status() == SB_ERR_RETRYABLE);
    CHECK_THAT(timeout.error->message, Contains("timed out"));
    CHECK(host.http_requests().size() == 4);

    // The host never hands the echo channel a command it does not declare; the fake host refuses too.
    CHECK_THROWS_AS(echo.execute(json::object{{"type", "lead.upsert"}}), std::invalid_argument);
    CHECK(echo.execute(send_command(), with_key("")).status() == SB_ERR_INVALID);
    CHECK(echo.execute(std::string_view("not json")).status() != SB_OK);
    CHECK(host.http_requests().size() == 4);  // invalid commands never reach the network
}

TEST_CASE("a webhook round trip: received, echoed, sent", "[echo]") {
    sbt::fake_host host = load_echo();
    auto echo = create_demo(host);
    host.set_http_responder([](const sbt::outbound_request& req) {
        return sbt::http_reply::json(200, {{"id", "out-" + std::string(*req.header("Idempotency-Key"))}});
    });

    auto in = echo.webhook(signed_post(R"({"id":"msg-5","from":"user-9","text":"ping"})"));
    REQUIRE(in.events.size() == 1);
    auto staged = echo.run_stage("reply", in.events[0]);
    REQUIRE(staged.outputs.size() == 1);
    json::object command = staged.outputs[0];
    auto sent = echo.execute(command, with_key("key-1"));
    REQUIRE(sent.ok());
    CHECK(sent.output().at("provider_message_id") == "out-key-1");
    CHECK(host.http_requests().at(0).json().at("text") == "echo: ping");
    CHECK(host.http_requests().at(0).json().at("to") == "user-9");

    // A route's `with: { prefix: ... }` reaches the stage in its call context.
    auto prefixed = echo.run_stage("reply", in.events[0], {.params = {{"prefix", "re: "}}});
    REQUIRE(prefixed.outputs.size() == 1);
    CHECK(prefixed.outputs[0].at("text") == "re: ping");
}
