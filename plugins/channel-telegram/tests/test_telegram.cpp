// The Telegram plugin through the SDK's fake host, on the Bot API's own example Updates
// (../shared/fixtures/telegram, from core.telegram.org and courier's fixtures) and the Bot API's
// answer shapes (ok/result, ok:false with error_code, description, parameters.retry_after).
#include <switchboard/sdk/testing.hpp>
#include <switchboard/telegram/update.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace json = boost::json;
namespace sbt = switchboard::sdk::testing;
namespace fs = std::filesystem;

namespace {

const std::string secret = "tg-webhook-secret-42";
const std::string token = "123456:ABC-test-token";
const fs::path shared = fs::path(SWITCHBOARD_SOURCE_DIR) / ".." / "shared" / "fixtures" / "telegram";

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

sbt::fake_host load() { return sbt::fake_host::load(std::string(SWITCHBOARD_PLUGIN_DIR) + "/switchboard-telegram.so"); }

sbt::tenant_instance create(sbt::fake_host& host) {
    return host.create("demo", {{"bot_token", token}, {"webhook_secret", secret}, {"api_base", "https://tg.example.test"}});
}

sbt::inbound_request post(std::string body, std::optional<std::string> header = secret) {
    sbt::inbound_request r{.method = "POST", .path = "/webhooks/telegram/demo", .body = std::move(body)};
    r.headers.emplace_back("Content-Type", "application/json");
    if (header) r.headers.emplace_back("X-Telegram-Bot-Api-Secret-Token", *header);
    return r;
}

/// The one event a fixture Update becomes.
json::object event_of(sbt::tenant_instance& bot, const std::string& fixture) {
    auto r = bot.webhook(post(slurp(shared / fixture)));
    REQUIRE(r.status == 200);
    REQUIRE(r.events.size() == 1);
    return r.events[0];
}

}  // namespace

TEST_CASE("telegram: a text Update becomes message.received, deduplicated by update_id", "[telegram]") {
    if (!fs::exists(shared)) {
        WARN("../shared/fixtures/telegram is not next to the repository: skipped");
        return;
    }
    auto host = load();
    auto bot = create(host);
    auto ev = event_of(bot, "courier-message-text.json");
    CHECK(ev.at("type") == "message.received");
    CHECK(ev.at("provider_message_id") == "3527065:41");
    CHECK(ev.at("contact").at("provider_id") == "3527065");
    CHECK(ev.at("contact").at("name") == "Nic Pottier");
    CHECK(ev.at("contact").at("username") == "nicpottier");
    CHECK(ev.at("text") == "Hello World");
    CHECK(ev.at("timestamp_ms") == 1454119029000LL);
    CHECK(ev.at("dedupe_key") == "update:174114370");
    CHECK(ev.at("channel") == "telegram");
}

TEST_CASE("telegram: photos, documents, replies, entities, edits and button presses", "[telegram]") {
    if (!fs::exists(shared)) {
        WARN("../shared/fixtures/telegram is not next to the repository: skipped");
        return;
    }
    auto host = load();
    auto bot = create(host);
    auto photo = event_of(bot, "courier-message-photo.json");
    REQUIRE(photo.at("attachments").as_array().size() == 1);
    CHECK(photo.at("attachments").as_array()[0].at("type") == "image");
    auto document = event_of(bot, "core-docs-message-document.json");
    CHECK(document.at("attachments").as_array()[0].at("type") == "file");
    auto reply = event_of(bot, "core-docs-message-reply.json");
    CHECK(reply.at("reply_to").as_string().find(':') != json::string::npos);
    auto entities = event_of(bot, "core-docs-message-entities.json");
    CHECK(entities.at("entities").is_array());
    auto start = event_of(bot, "core-docs-message-text-start.json");
    CHECK(start.at("text").as_string().starts_with("/start"));
    auto edited = event_of(bot, "core-docs-edited-message.json");
    CHECK(edited.at("type") == "message.edited");
    auto pressed = event_of(bot, "core-docs-callback-query-inline.json");
    CHECK(pressed.at("type") == "telegram.callback");
    CHECK(pressed.at("callback_query_id") == "4382bfdwdsb323b2d9");
    CHECK(pressed.at("data") == "Data from button callback");
    CHECK(pressed.at("contact").at("provider_id") == "1111111");
    CHECK(pressed.at("dedupe_key") == "update:10000");
}

TEST_CASE("telegram: a wrong, missing or unconfigured secret token is refused and nothing is emitted", "[telegram]") {
    auto host = load();
    auto bot = create(host);
    const std::string body = R"({"update_id":1,"message":{"message_id":1,"chat":{"id":5,"type":"private"},"text":"x"}})";
    auto wrong = bot.webhook(post(body, "not-the-secret"));
    CHECK(wrong.status == 401);
    CHECK(wrong.events.empty());
    auto missing = bot.webhook(post(body, std::nullopt));
    CHECK(missing.status == 401);
    CHECK(missing.events.empty());
    CHECK(bot.webhook({.method = "GET", .path = "/webhooks/telegram/demo"}).status == 405);
    auto unconfigured = host.create("other", {{"bot_token", token}});
    auto refused = unconfigured.webhook(post(body));
    CHECK(refused.status == 403);
    CHECK(refused.events.empty());
    CHECK(host.logged("TELEGRAM_WEBHOOK_SECRET"));
    CHECK_FALSE(host.logged(secret));
}

TEST_CASE("telegram: an authenticated body it cannot read is kept as unhandled", "[telegram]") {
    auto host = load();
    auto bot = create(host);
    for (const char* body : {"not json", "[1]", R"({"message":{}})", R"({"update_id":7,"poll":{"id":"1"}})"}) {
        auto r = bot.webhook(post(body));
        CHECK(r.status == 200);
        REQUIRE(r.events.size() == 1);
        CHECK(r.events[0].at("type") == "webhook.unhandled");
    }
}

TEST_CASE("telegram: replies go out through sendMessage with buttons as an inline keyboard", "[telegram]") {
    auto host = load();
    auto bot = create(host);
    host.push_http_reply(sbt::http_reply::json(200, json::parse(R"({"ok":true,"result":{"message_id":77,
        "chat":{"id":3527065,"type":"private"},"date":1454119030,"text":"Hi"}})")));
    json::object send{{"type", "message.send"}, {"channel", "telegram"}, {"recipient", {{"provider_id", "3527065"}}},
                      {"text", "Hi"}, {"in_reply_to", "3527065:41"},
                      {"buttons", json::array{json::object{{"title", "Confirm"}, {"payload", "confirm:9"}}}}};
    auto sent = bot.execute(send);
    REQUIRE(sent.ok());
    CHECK(sent.output().at("provider_message_id") == "3527065:77");
    auto req = host.http_requests().at(0);
    CHECK(req.url == "https://tg.example.test/bot" + token + "/sendMessage");
    CHECK(req.json() == json::parse(R"({"chat_id":"3527065","text":"Hi",
        "reply_parameters":{"message_id":41,"allow_sending_without_reply":true},
        "reply_markup":{"inline_keyboard":[[{"text":"Confirm","callback_data":"confirm:9"}]]}})"));
    CHECK_FALSE(host.logged(token));
}

TEST_CASE("telegram: Bot API errors are classified; 429 defers by retry_after", "[telegram]") {
    auto host = load();
    auto bot = create(host);
    json::object send{{"type", "message.send"}, {"recipient", {{"provider_id", "5"}}}, {"text", "Hi"}};
    host.push_http_reply(sbt::http_reply::json(429, json::parse(R"({"ok":false,"error_code":429,
        "description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}})")));
    auto limited = bot.execute(send);
    CHECK(limited.status() == SB_ERR_RETRY_AFTER);
    CHECK(limited.error->retry_after_ms == 5000);
    host.push_http_reply(sbt::http_reply::json(502, json::object{}));
    CHECK(bot.execute(send).status() == SB_ERR_RETRYABLE);
    host.push_http_reply(sbt::http_reply::json(403, json::parse(R"({"ok":false,"error_code":403,
        "description":"Forbidden: bot was blocked by the user"})")));
    auto blocked = bot.execute(send);
    CHECK(blocked.status() == SB_ERR_FINAL);
    CHECK(blocked.error->code == "403");
    CHECK(blocked.error->message.find("blocked by the user") != std::string::npos);
    CHECK(bot.execute(json::object{{"type", "message.send"}, {"recipient", {{"provider_id", "5"}}}}).status() ==
          SB_ERR_INVALID);
}

TEST_CASE("telegram: a button press is answered with answerCallbackQuery", "[telegram]") {
    auto host = load();
    auto bot = create(host);
    host.push_http_reply(sbt::http_reply::json(200, json::parse(R"({"ok":true,"result":true})")));
    auto answered = bot.execute(json::object{{"type", "telegram.answer_callback"}, {"callback_query_id", "4382bf"},
                                             {"text", "Confirmed"}});
    REQUIRE(answered.ok());
    auto req = host.http_requests().at(0);
    CHECK(req.url == "https://tg.example.test/bot" + token + "/answerCallbackQuery");
    CHECK(req.json() == json::parse(R"({"callback_query_id":"4382bf","text":"Confirmed"})"));
    auto unconfigured = host.create("other", {{"webhook_secret", secret}});
    CHECK(unconfigured.execute(json::object{{"type", "telegram.answer_callback"}, {"callback_query_id", "x"}}).status() ==
          SB_ERR_FINAL);
}

TEST_CASE("telegram: set_webhook registers the instance's public URL with its secret token", "[telegram]") {
    auto host = load();
    auto bot = host.create_instance("demo", "telegram",
                                    {{"bot_token", token}, {"webhook_secret", secret}, {"api_base", "https://tg.example.test"}},
                                    "https://bot.example.com/webhooks/telegram/demo");
    host.push_http_reply(sbt::http_reply::json(200, json::parse(R"({"ok":true,"result":true})")));
    auto set = bot.execute(json::object{{"type", "telegram.set_webhook"}});
    REQUIRE(set.ok());
    CHECK(set.output().at("url") == "https://bot.example.com/webhooks/telegram/demo");
    CHECK(host.http_requests().at(0).json() == json::parse(R"({"url":"https://bot.example.com/webhooks/telegram/demo",
        "secret_token":"tg-webhook-secret-42","allowed_updates":["message","edited_message","callback_query"]})"));
    auto without_url = create(host); // no server.public_url: nothing to register
    auto refused = without_url.execute(json::object{{"type", "telegram.set_webhook"}});
    CHECK(refused.status() == SB_ERR_INVALID);
    CHECK(refused.error->message.find("SWITCHBOARD_PUBLIC_URL") != std::string::npos);
}

TEST_CASE("telegram: a staff link code is minted once and consumed once by /start", "[telegram][staff]") {
    auto host = load();
    auto admin = host.create("demo", {{"bot_token", token}, {"webhook_secret", secret}, {"bot_username", "shop_staff_bot"}});
    auto minted = admin.execute(json::object{{"type", "telegram.link_code"}, {"staff", "nurse-7"}});
    REQUIRE(minted.ok());
    const std::string code(minted.output().at("code").as_string());
    CHECK(code.size() == 32);
    CHECK(minted.output().at("link").as_string() == "https://t.me/shop_staff_bot?start=" + code);
    CHECK(host.kv_get("demo", "telegram.link:" + code, "@tenant") == std::string("nurse-7"));

    // The staff bot (a second instance) receives the deep link's /start.
    auto staff_bot = host.create_instance("demo", "staff-bot", {{"bot_token", "999:staff"}, {"webhook_secret", secret}});
    json::object start{{"type", "message.received"}, {"channel", "staff-bot"}, {"provider_message_id", "55:1"},
                       {"contact", {{"provider_id", "55"}}}, {"text", "/start " + code}};
    auto linked = staff_bot.run_stage("link", start);
    REQUIRE(linked.outputs.size() == 2);
    CHECK(linked.outputs[0].at("type") == "telegram.staff_linked");
    CHECK(linked.outputs[0].at("staff") == "nurse-7");
    CHECK(linked.outputs[0].at("chat_id") == "55");
    CHECK(linked.outputs[1].at("type") == "message.send");
    CHECK(linked.outputs[1].at("recipient").at("provider_id") == "55");
    CHECK(host.kv_get("demo", "telegram.staff:nurse-7", "@tenant") == std::string("55"));
    CHECK_FALSE(host.kv_get("demo", "telegram.link:" + code, "@tenant"));

    auto rerun = staff_bot.run_stage("link", start); // the same route run again (same idempotency key)
    REQUIRE(rerun.outputs.size() == 2);
    CHECK(rerun.outputs[0].at("staff") == "nurse-7");
    auto again = staff_bot.run_stage("link", start, {.idempotency_key = "another-message"}); // single use
    REQUIRE(again.outputs.size() == 1);
    CHECK(std::string(again.outputs[0].at("text").as_string()).find("already used") != std::string::npos);
    start["text"] = "/start deadbeefdeadbeefdeadbeefdeadbeef";
    auto unknown = staff_bot.run_stage("link", start, {.idempotency_key = "third-message"});
    REQUIRE(unknown.outputs.size() == 1);
    CHECK(std::string(unknown.outputs[0].at("text").as_string()).find("expired or is unknown") != std::string::npos);
    start["text"] = "hello";
    CHECK(staff_bot.run_stage("link", start).outputs.empty());
    CHECK(switchboard::telegram::start_code("/start ab_C-9") == "ab_C-9");
    CHECK(switchboard::telegram::start_code("/start a b").empty());
    CHECK(switchboard::telegram::start_code("/startx").empty());
}

TEST_CASE("telegram: alert buttons carry 'sb:<action>:<ref>' within the Bot API's 64 bytes", "[telegram]") {
    namespace tg = switchboard::telegram;
    CHECK(tg::alert_callback_data("confirm", "appt-42") == "sb:confirm:appt-42");
    CHECK(tg::alert_callback_data("", "x").empty());
    CHECK(tg::alert_callback_data("a:b", "x").empty());
    CHECK(tg::alert_callback_data("confirm", std::string(60, 'r')).empty());
    auto parsed = tg::parse_alert_callback("sb:reject:appt:7");
    REQUIRE(parsed);
    CHECK(parsed->first == "reject");
    CHECK(parsed->second == "appt:7");
    CHECK_FALSE(tg::parse_alert_callback("Data from button callback"));
    CHECK_FALSE(tg::parse_alert_callback("sb::x"));
    auto call = tg::build_alert(json::parse(R"({"text":"New booking","ref":"b1","actions":[{"title":"OK","action":"ok"}]})")
                                    .as_object(),
                                "7001", "https://tg.example.test", token, 1000);
    CHECK(call.url == "https://tg.example.test/bot" + token + "/sendMessage");
    CHECK(json::parse(call.body).at("reply_markup") ==
          json::parse(R"({"inline_keyboard":[[{"text":"OK","callback_data":"sb:ok:b1"}]]})"));
    CHECK_THROWS_AS(tg::build_alert(json::parse(R"({"text":"x","actions":[{"title":"OK"}]})").as_object(), "1",
                                    "https://t", token, 1),
                    switchboard::sdk::plugin_error);
    auto edit = tg::build_edit(json::parse(R"({"chat_id":"7001","message_id":5,"text":"done"})").as_object(),
                               "https://tg.example.test", token, 1000);
    CHECK(json::parse(edit.body) == json::parse(R"({"chat_id":"7001","message_id":5,"text":"done"})"));
    CHECK_THROWS_AS(tg::build_edit(json::parse(R"({"chat_id":"7001","text":"done"})").as_object(), "https://t", token, 1),
                    switchboard::sdk::plugin_error);
}

TEST_CASE("telegram: in a group the conversation is the group and the member is the sender", "[telegram]") {
    auto events = switchboard::telegram::parse_update(R"({"update_id":5,"message":{"message_id":9,"date":1700000000,
        "text":"who is open today?","from":{"id":42,"first_name":"Saraa","username":"saraa"},
        "chat":{"id":-1001234,"type":"supergroup","title":"Gym members"}}})");
    REQUIRE(events.size() == 1);
    CHECK(events[0].at("contact").at("provider_id") == "-1001234");
    CHECK(events[0].at("contact").at("name") == "Gym members");
    CHECK(events[0].at("sender").at("id") == "42");
    CHECK(events[0].at("sender").at("username") == "saraa");
    CHECK(events[0].at("chat_type") == "supergroup");
}
