// The TikTok channel: Tiktok-Signature against the vector computed from TikTok's documented
// envelope example (../shared SIGNATURES.md), Business Messaging events in the shapes Chatwoot's
// receiver reads, and TikTok's messaging rules through the fake host (user first, window,
// daily limit per customer deferred to the next UTC day).
#include <switchboard/sdk/plugin.hpp>
#include <switchboard/sdk/testing.hpp>
#include <switchboard/tiktok/tiktok.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace json = boost::json;
namespace sbt = switchboard::sdk::testing;
namespace tt = switchboard::tiktok;
namespace fs = std::filesystem;

namespace {

const fs::path shared = fs::path(SWITCHBOARD_SOURCE_DIR) / ".." / "shared" / "fixtures" / "tiktok";
const std::string secret = "tiktok-client-secret";
const int64_t now = 1'800'000'000'000;

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string envelope(const std::string& event, const json::object& content, const std::string& business = "biz-1") {
    return json::serialize(json::object{{"client_key", "ck"}, {"event", event}, {"create_time", now / 1000},
                                        {"user_openid", business}, {"content", json::serialize(content)}});
}

json::object dm(const std::string& id, const std::string& from, const std::string& to, const std::string& text) {
    return {{"type", "text"}, {"message_id", id}, {"timestamp", now}, {"conversation_id", "conv-" + from + to},
            {"text", {{"body", text}}}, {"from", "Saraa"}, {"from_user", {{"id", from}}}, {"to", "Shop"},
            {"to_user", {{"id", to}}}};
}

json::object send(json::object extra = {}) {
    json::object c{{"type", "message.send"}, {"channel", "tiktok"}, {"recipient", {{"provider_id", "conv-u1biz-1"}}},
                   {"text", "Hi"}, {"last_inbound_ms", now - 60'000}};
    for (auto& [k, v] : extra) c[k] = v;
    return c;
}

sbt::http_reply sent(const char* id) {
    return sbt::http_reply::json(200, {{"code", 0}, {"message", "OK"}, {"data", {{"message", {{"message_id", id}}}}}});
}

}  // namespace

TEST_CASE("tiktok: the signature matches the vector over TikTok's documented envelope", "[tiktok]") {
    if (!fs::exists(shared)) {
        WARN("../shared/fixtures/tiktok is not next to the repository: skipped");
        return;
    }
    const std::string body = slurp(shared / "developers-webhook-envelope-authorization-removed.json");
    REQUIRE(body.size() == 202);
    const std::string header = "t=1633174587,s=5e37c97631b6711dccbe2148b443561f42906c69b26a6bdab0d76a2ac8e4dd03";
    CHECK(tt::sign("test_client_secret", 1633174587, body) == header);
    CHECK(tt::verify_signature(header, "test_client_secret", body, 1633174587000, 5000) == tt::signature_status::valid);
    CHECK(tt::verify_signature(header, "test_client_secret", body, 1633174587000 + 60'000, 5000) ==
          tt::signature_status::stale);
    CHECK(tt::verify_signature(header, "other", body, 1633174587000, 5000) == tt::signature_status::mismatch);
    CHECK(tt::verify_signature(std::nullopt, "test_client_secret", body, 0, 5000) == tt::signature_status::missing);
    CHECK(tt::verify_signature("t=x,s=1", "test_client_secret", body, 0, 5000) == tt::signature_status::malformed);
    auto events = tt::parse_webhook(body, "");
    REQUIRE(events.size() == 1);
    CHECK(events[0].at("type") == "webhook.unhandled");
    CHECK(events[0].at("reason") == "event 'authorization.removed'");
}

TEST_CASE("tiktok: direct messages, echoes and read receipts", "[tiktok]") {
    auto in = tt::parse_webhook(envelope("im_receive_msg", dm("m1", "u1", "biz-1", "sain uu")), "biz-1");
    REQUIRE(in.size() == 1);
    CHECK(in[0].at("type") == "message.received");
    CHECK(in[0].at("provider_message_id") == "m1");
    CHECK(in[0].at("contact").at("provider_id") == "conv-u1biz-1");
    CHECK(in[0].at("contact").at("user_id") == "u1");
    CHECK(in[0].at("contact").at("name") == "Saraa");
    CHECK(in[0].at("text") == "sain uu");
    CHECK(in[0].at("timestamp_ms") == now);
    auto echo = tt::parse_webhook(envelope("im_send_msg", dm("m2", "biz-1", "u1", "hello")), "biz-1");
    CHECK(echo.at(0).at("type") == "message.echoed");
    CHECK(echo.at(0).at("contact").at("user_id") == "u1");
    auto own = tt::parse_webhook(envelope("im_receive_msg", dm("m3", "biz-1", "u1", "from the app")), "biz-1");
    CHECK(own.at(0).at("type") == "message.echoed");
    json::object image = dm("m4", "u1", "biz-1", "");
    image.erase("text");
    image["type"] = "image";
    image["image"] = {{"media_id", "v0.img"}};
    image["referenced_message_info"] = {{"referenced_message_id", "m0"}};
    auto img = tt::parse_webhook(envelope("im_receive_msg", image), "biz-1");
    CHECK(img.at(0).at("attachments").as_array()[0].at("media_id") == "v0.img");
    CHECK(img.at(0).at("reply_to") == "m0");
    json::object read{{"conversation_id", "conv-u1biz-1"}, {"read", {{"last_read_timestamp", now}}},
                      {"from_user", {{"id", "u1"}}}};
    auto receipt = tt::parse_webhook(envelope("im_mark_read_msg", read), "biz-1");
    CHECK(receipt.at(0).at("type") == "message.status");
    CHECK(receipt.at(0).at("status") == "read");
    CHECK(receipt.at(0).at("watermark_ms") == now);
    read["from_user"] = {{"id", "biz-1"}};
    CHECK(tt::parse_webhook(envelope("im_mark_read_msg", read), "biz-1").at(0).at("type") == "webhook.unhandled");
    for (const char* garbage : {"", "{}", "[1]", R"({"event":"im_receive_msg","content":"{"})",
                                R"({"event":"im_receive_msg","content":{"a":1}})", R"({"event":"im_receive_msg","content":"{}"})"})
        CHECK(tt::parse_webhook(garbage, "biz-1").at(0).at("type") == "webhook.unhandled");
}

TEST_CASE("tiktok plugin: signed fresh webhooks pass; forged, stale and unsigned ones are refused", "[tiktok]") {
    auto host = sbt::fake_host::load(std::string(SWITCHBOARD_PLUGIN_DIR) + "/switchboard-tiktok.so");
    host.set_now_ms(now);
    auto tiktok = host.create("shop", {{"client_secret", secret}, {"business_id", "biz-1"}, {"access_token", "act"}});
    const std::string body = envelope("im_receive_msg", dm("m1", "u1", "biz-1", "hi"));
    auto post = [&](std::string header) {
        sbt::inbound_request r{.method = "POST", .path = "/webhooks/tiktok/shop", .body = body};
        r.headers.emplace_back("Tiktok-Signature", std::move(header));
        return tiktok.webhook(r);
    };
    auto ok = post(tt::sign(secret, now / 1000, body));
    CHECK(ok.status == 200);
    CHECK(ok.events.size() == 1);
    CHECK(post(tt::sign("forged", now / 1000, body)).status == 401);
    CHECK(post(tt::sign(secret, now / 1000 - 3600, body)).status == 401);  // a replay an hour later
    CHECK(host.logged("stale"));
    CHECK(post("").status == 401);
    auto bare = host.create("bare", {});
    CHECK(bare.webhook({.method = "POST", .path = "/webhooks/tiktok/bare", .body = body}).status == 403);
}

TEST_CASE("tiktok plugin: user first, the window, and ten a day deferred to the next day", "[tiktok]") {
    auto host = sbt::fake_host::load(std::string(SWITCHBOARD_PLUGIN_DIR) + "/switchboard-tiktok.so");
    host.set_now_ms(now);
    auto tiktok = host.create("shop", {{"client_secret", secret}, {"business_id", "biz-1"}, {"access_token", "act"},
                                       {"api_base", "https://tiktok.example.test"}});
    json::object first = send();
    first.erase("last_inbound_ms");
    CHECK(tiktok.execute(first).error->code == "user_not_first");
    CHECK(tiktok.execute(send({{"last_inbound_ms", now - 25 * 3'600'000LL}})).error->code == "messaging_window");
    CHECK(host.http_requests().empty());
    for (int i = 0; i < 10; ++i) {
        host.push_http_reply(sent(("out" + std::to_string(i)).c_str()));
        REQUIRE(tiktok.execute(send()).ok());
    }
    auto req = host.http_requests().at(0);
    CHECK(req.url == "https://tiktok.example.test/open_api/v1.3/business/message/send/");
    CHECK(req.header("Access-Token") == "act");
    CHECK(req.json() == json::parse(R"({"business_id":"biz-1","recipient_type":"CONVERSATION","recipient":"conv-u1biz-1",
        "message_type":"TEXT","text":{"body":"Hi"}})"));
    auto eleventh = tiktok.execute(send());
    CHECK(eleventh.status() == SB_ERR_RETRY_AFTER);
    CHECK(eleventh.error->code == "daily_limit");
    CHECK(eleventh.error->retry_after_ms == switchboard::sdk::ms_until_utc_midnight(now) + 1000);
    CHECK(host.http_requests().size() == 10);
    // Another customer is not affected; a failed send gives its slot back.
    json::object other = send({{"recipient", {{"provider_id", "conv-u2biz-1"}}}});
    host.push_http_reply(sbt::http_reply::json(200, {{"code", 40100}, {"message", "Too many requests"}}));
    CHECK(tiktok.execute(other).status() == SB_ERR_RETRY_AFTER);
    host.push_http_reply(sbt::http_reply::json(500, json::object{}));
    CHECK(tiktok.execute(other).status() == SB_ERR_RETRYABLE);
    host.push_http_reply(sbt::http_reply::json(200, {{"code", 40002}, {"message", "invalid recipient"}}));
    CHECK(tiktok.execute(other).status() == SB_ERR_FINAL);
    CHECK(host.kv_get("shop", "tiktok.sent:conv-u2biz-1:" + std::to_string(now / 86'400'000)).value_or("0") == "0");
    // The next day the customer can be answered again (if still within the window).
    host.advance_ms(switchboard::sdk::ms_until_utc_midnight(now) + 1000);
    host.push_http_reply(sent("next-day"));
    CHECK(tiktok.execute(send({{"last_inbound_ms", host.now_ms() - 3'600'000}})).ok());
}
