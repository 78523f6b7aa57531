// Tests of the @NAME@ plugin: the built switchboard-@NAME@.so, loaded by the SDK's fake host the
// way the service loads it. No running service, no network: outbound HTTP is answered by the
// fake host, and its clock is set by the test.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <switchboard/sdk/testing.hpp>

#include <boost/json.hpp>

namespace json = boost::json;
namespace sbt = switchboard::sdk::testing;

namespace {

const std::string secret = "change-me-webhook-secret";
const std::string send_url = "https://provider.example.test/send";

sbt::tenant_instance create(sbt::fake_host& host) {
    return host.create("demo", {{"webhook_secret", secret}, {"send_url", send_url}});
}

sbt::inbound_request post(std::string body, std::string header = secret) {
    return {.method = "POST",
            .path = "/webhooks/@NAME@/demo",
            .headers = {{"Content-Type", "application/json"}, {"X-Webhook-Secret", std::move(header)}},
            .body = std::move(body)};
}

}  // namespace

TEST_CASE("the plugin loads and declares its settings", "[@NAME@]") {
    auto host = sbt::fake_host::load(PLUGIN_FILE);
    CHECK(host.name() == "@NAME@");
    CHECK(host.descriptor().capabilities == (SB_CAP_CHANNEL | SB_CAP_STAGE));
    REQUIRE(host.descriptor().commands_count == 2); // message.send and its own @NAME@.typing
    CHECK(std::string(host.descriptor().commands[1]) == "@NAME@.typing");
    CHECK_THROWS(host.create("demo", {{"webhook_secret", secret}})); // send_url is required
}

TEST_CASE("an authenticated webhook becomes message.received", "[@NAME@]") {
    auto host = sbt::fake_host::load(PLUGIN_FILE);
    host.set_now_ms(1'720'000'000'000);
    auto plugin = create(host);
    auto r = plugin.webhook(post(R"({"id":"m-1","from":"user-1","text":"hello"})"));
    CHECK(r.status == 200);
    REQUIRE(r.events.size() == 1);
    CHECK(r.events[0].at("type") == "message.received");
    CHECK(r.events[0].at("provider_message_id") == "m-1");
    CHECK(r.events[0].at("contact").at("provider_id") == "user-1");
    CHECK(r.events[0].at("timestamp_ms") == 1'720'000'000'000);
    CHECK(r.events[0].at("tenant") == "demo");
}

TEST_CASE("a wrong or missing secret is refused and emits nothing", "[@NAME@]") {
    auto host = sbt::fake_host::load(PLUGIN_FILE);
    auto plugin = create(host);
    auto wrong = plugin.webhook(post(R"({"id":"m-1","from":"u","text":"x"})", "not-the-secret"));
    CHECK(wrong.status == 401);
    CHECK(wrong.events.empty());
    auto missing = plugin.webhook({.method = "POST", .path = "/webhooks/@NAME@/demo", .body = "{}"});
    CHECK(missing.status == 401);
    CHECK(host.logged("webhook refused with 401"));
}

TEST_CASE("an authenticated body it cannot read is kept as unhandled", "[@NAME@]") {
    auto host = sbt::fake_host::load(PLUGIN_FILE);
    auto plugin = create(host);
    auto r = plugin.webhook(post("not json"));
    CHECK(r.status == 200);
    REQUIRE(r.events.size() == 1);
    CHECK(r.events[0].at("type") == "webhook.unhandled");
}

TEST_CASE("message.send posts to send_url and classifies failures", "[@NAME@]") {
    auto host = sbt::fake_host::load(PLUGIN_FILE);
    auto plugin = create(host);
    json::object send{{"type", "message.send"}, {"recipient", {{"provider_id", "user-1"}}}, {"text", "hi!"}};
    const sbt::call_options call{.idempotency_key = "42"}; // the host derives it from the inbound message id

    host.push_http_reply(sbt::http_reply::json(200, {{"id", "out-1"}}));
    auto ok = plugin.execute(send, call);
    REQUIRE(ok.ok());
    CHECK(ok.output().at("provider_message_id") == "out-1");
    auto sent = host.http_requests().at(0);
    CHECK(sent.url == send_url);
    CHECK(sent.header("Idempotency-Key") == "42");
    CHECK(sent.json().at("to") == "user-1");

    host.push_http_reply(sbt::http_reply::json(503, {}));
    CHECK(plugin.execute(send, call).status() == SB_ERR_RETRYABLE);
    host.push_http_reply(sbt::http_reply::json(400, {}));
    CHECK(plugin.execute(send, call).status() == SB_ERR_FINAL);
    host.push_http_reply(sbt::http_reply::failure("connection refused"));
    CHECK(plugin.execute(send, call).status() == SB_ERR_RETRYABLE);
}

TEST_CASE("its own command @NAME@.typing is declared and executed", "[@NAME@]") {
    auto host = sbt::fake_host::load(PLUGIN_FILE);
    auto plugin = create(host);
    host.push_http_reply(sbt::http_reply::json(200, {}));
    auto typing = plugin.execute(json::object{{"type", "@NAME@.typing"}, {"recipient", {{"provider_id", "user-1"}}}},
                                 {.idempotency_key = "k-typing"});
    REQUIRE(typing.ok());
    CHECK(host.http_requests().at(0).json().at("action") == "typing");
    CHECK(host.http_requests().at(0).header("Idempotency-Key") == "k-typing");
}

TEST_CASE("a daily send limit defers sends until midnight instead of failing them", "[@NAME@]") {
    auto host = sbt::fake_host::load(PLUGIN_FILE);
    host.set_now_ms(1'720'000'000'000); // 09:46:40 UTC
    auto plugin = host.create("demo", {{"webhook_secret", secret}, {"send_url", send_url}, {"daily_send_limit", "1"}});
    json::object send{{"type", "message.send"}, {"recipient", {{"provider_id", "user-1"}}}, {"text", "hi"}};
    host.push_http_reply(sbt::http_reply::json(200, {{"id", "out-1"}}));
    REQUIRE(plugin.execute(send).ok());
    auto second = plugin.execute(send);
    CHECK(second.status() == SB_ERR_RETRY_AFTER);
    CHECK(second.error->retry_after_ms == 86'400'000 - 1'720'000'000'000 % 86'400'000);
    CHECK(host.http_requests().size() == 1);
    host.advance_ms(second.error->retry_after_ms); // the next day: the counter expired
    host.push_http_reply(sbt::http_reply::json(200, {{"id", "out-2"}}));
    CHECK(plugin.execute(send).ok());
}

TEST_CASE("the triage stage escalates on a keyword from the list setting", "[@NAME@]") {
    auto host = sbt::fake_host::load(PLUGIN_FILE);
    auto plugin = host.create("demo", {{"webhook_secret", secret}, {"send_url", send_url},
                                       {"escalation_keywords", R"(["refund","manager"])"}});
    json::object message{{"type", "message.received"}, {"provider_message_id", "m-1"},
                         {"contact", {{"provider_id", "user-1"}}}, {"text", "I want a REFUND"}};
    auto r = plugin.run_stage("triage", message, {.params = {{"reason", "refund request"}}});
    REQUIRE(r.outputs.size() == 1);
    CHECK(r.outputs[0].at("type") == "conversation.escalated");
    CHECK(r.outputs[0].at("reason") == "refund request");
    message["text"] = "thanks";
    CHECK(plugin.run_stage("triage", message).outputs.empty());
}
