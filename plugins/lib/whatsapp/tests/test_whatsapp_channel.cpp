// The two WhatsApp plugins (switchboard-whatsapp.so, switchboard-whatsapp-360dialog.so) through
// the SDK's fake host: webhook authentication, the send mapping (text, media, interactive,
// templates, the 24-hour window) and the Cloud API errors (Cloud API Error Codes).
#include <switchboard/meta/signature.hpp>
#include <switchboard/sdk/host.hpp>
#include <switchboard/whatsapp/warmup.hpp>
#include <switchboard/sdk/testing.hpp>

#include <catch2/catch.hpp>

namespace json = boost::json;
namespace sbt = switchboard::sdk::testing;

namespace {

const std::string app_secret = "wa-app-secret";
const int64_t now = 1'800'000'000'000;
const std::string body = R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages",)"
                         R"("value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1065"},)"
                         R"("messages":[{"from":"97688","id":"wamid.T1","timestamp":"1700000000","type":"text",)"
                         R"("text":{"body":"sain uu"}}]}}]}]})";

sbt::fake_host load(const std::string& name) {
    auto host = sbt::fake_host::load(std::string(SWITCHBOARD_PLUGIN_DIR) + "/switchboard-" + name + ".so");
    host.set_now_ms(now);
    return host;
}

sbt::tenant_instance cloud(sbt::fake_host& host, std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> s{{"app_secret", app_secret}, {"verify_token", "vt-1"},
                                         {"access_token", "EAAG-token"}, {"phone_number_id", "1065"},
                                         {"api_base", "https://graph.example.test/v21.0"}};
    for (auto& [k, v] : extra) s[k] = v;
    return host.create("shop", s);
}

sbt::inbound_request signed_post(const std::string& b, std::string secret = app_secret) {
    sbt::inbound_request r{.method = "POST", .path = "/webhooks/whatsapp/shop", .body = b};
    r.headers.emplace_back("X-Hub-Signature-256", "sha256=" + switchboard::meta::hmac_sha256_hex(secret, b));
    return r;
}

json::object send(json::object extra = {}) {
    json::object cmd{{"type", "message.send"}, {"channel", "whatsapp"}, {"recipient", {{"provider_id", "97688"}}},
                     {"text", "Hello"}, {"last_inbound_ms", now - 60'000}, {"job_id", "42"}};
    for (auto& [k, v] : extra) cmd[k] = v;
    return cmd;
}

sbt::http_reply accepted(const char* wamid = "wamid.OUT1") {
    return sbt::http_reply::json(200, {{"messaging_product", "whatsapp"},
                                       {"contacts", json::array{json::object{{"input", "97688"}, {"wa_id", "97688"}}}},
                                       {"messages", json::array{json::object{{"id", wamid}}}}});
}

sbt::http_reply graph_error(int status, int64_t code, const char* message) {
    return sbt::http_reply::json(status, {{"error", {{"message", message}, {"type", "OAuthException"}, {"code", code},
                                                     {"fbtrace_id", "AbC"}}}});
}

}  // namespace

TEST_CASE("whatsapp plugin: signed webhooks are accepted, forged and unsigned ones refused", "[whatsapp]") {
    auto host = load("whatsapp");
    auto wa = cloud(host);
    auto ok = wa.webhook(signed_post(body));
    CHECK(ok.status == 200);
    REQUIRE(ok.events.size() == 1);
    CHECK(ok.events[0].at("provider_message_id") == "wamid.T1");
    auto forged = wa.webhook(signed_post(body, "another-secret"));
    CHECK(forged.status == 401);
    CHECK(forged.events.empty());
    sbt::inbound_request unsigned_post{.method = "POST", .path = "/webhooks/whatsapp/shop", .body = body};
    CHECK(wa.webhook(unsigned_post).status == 401);
    auto unconfigured = host.create("bare", {});
    CHECK(unconfigured.webhook(signed_post(body)).status == 503);
    CHECK(host.logged("FACEBOOK_APP_SECRET"));
    CHECK(host.route_keys(signed_post(body)) == std::vector<std::string>{"1065"});
}

TEST_CASE("whatsapp plugin: the subscription handshake echoes hub.challenge for the right verify token", "[whatsapp]") {
    auto host = load("whatsapp");
    auto wa = cloud(host);
    auto ok = wa.webhook({.method = "GET", .path = "/webhooks/whatsapp/shop",
                          .query = "hub.mode=subscribe&hub.verify_token=vt-1&hub.challenge=1158201444"});
    CHECK(ok.status == 200);
    CHECK(ok.body == "1158201444");
    CHECK(wa.webhook({.method = "GET", .path = "/webhooks/whatsapp/shop",
                      .query = "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"})
              .status == 403);
}

TEST_CASE("whatsapp plugin: a text reply goes to /{phone-number-id}/messages and returns the wamid", "[whatsapp]") {
    auto host = load("whatsapp");
    auto wa = cloud(host);
    host.push_http_reply(accepted());
    auto sent = wa.execute(send());
    REQUIRE(sent.ok());
    CHECK(sent.output().at("provider_message_id") == "wamid.OUT1");
    auto req = host.http_requests().at(0);
    CHECK(req.url == "https://graph.example.test/v21.0/1065/messages");
    CHECK(req.header("Authorization") == "Bearer EAAG-token");
    CHECK(req.json() == json::parse(R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"97688",
        "type":"text","text":{"body":"Hello","preview_url":false},"biz_opaque_callback_data":"42"})"));
}

TEST_CASE("whatsapp plugin: buttons, lists, link buttons, media and templates map to Cloud API messages", "[whatsapp]") {
    auto host = load("whatsapp");
    auto wa = cloud(host);
    auto body_of = [&](json::object extra) {
        host.clear_records();
        host.push_http_reply(accepted());
        auto r = wa.execute(send(std::move(extra)));
        REQUIRE(r.ok());
        return host.http_requests().at(0).json().as_object();
    };
    auto buttons = body_of({{"buttons", json::parse(R"([{"title":"Yes","payload":"YES"},{"title":"No"}])")}});
    CHECK(buttons.at("type") == "interactive");
    CHECK(buttons.at("interactive").at("type") == "button");
    CHECK(buttons.at("interactive").at("action").at("buttons").as_array()[1].at("reply").at("id") == "No");
    json::array many;
    for (int i = 1; i <= 5; ++i) many.push_back(json::object{{"title", "Slot " + std::to_string(i)}, {"payload", std::to_string(i)}});
    auto list = body_of({{"quick_replies", many}});
    CHECK(list.at("interactive").at("type") == "list");
    CHECK(list.at("interactive").at("action").at("sections").as_array()[0].at("rows").as_array().size() == 5);
    json::array too_many;
    for (int i = 1; i <= 11; ++i) too_many.push_back(json::object{{"title", "Option " + std::to_string(i)}});
    auto degraded = body_of({{"buttons", too_many}});
    CHECK(degraded.at("type") == "text");
    CHECK(degraded.at("text").at("body").as_string().find("\n11. Option 11") != json::string::npos);
    auto link = body_of({{"buttons", json::parse(R"([{"title":"Book","url":"https://shop.example/book"}])")}});
    CHECK(link.at("interactive").at("type") == "cta_url");
    auto image = body_of({{"attachment", {{"type", "image"}, {"url", "https://cdn.example/p.jpg"}}}});
    CHECK(image.at("type") == "image");
    CHECK(image.at("image") == json::parse(R"({"link":"https://cdn.example/p.jpg","caption":"Hello"})"));
    auto header = body_of({{"attachment", {{"type", "image"}, {"url", "https://cdn.example/p.jpg"}}},
                           {"buttons", json::parse(R"([{"title":"Buy"}])")}});
    CHECK(header.at("interactive").at("header").at("type") == "image");
    auto templ = body_of({{"template", json::parse(R"({"name":"order_ready","language":"mn","parameters":["#42"]})")},
                          {"last_inbound_ms", now - 3LL * 86'400'000}});
    CHECK(templ.at("template") == json::parse(R"({"name":"order_ready","language":{"code":"mn"},
        "components":[{"type":"body","parameters":[{"type":"text","text":"#42"}]}]})"));
}

TEST_CASE("whatsapp plugin: outside the 24-hour window only a template goes out", "[whatsapp]") {
    auto host = load("whatsapp");
    auto strict = cloud(host);
    auto late = send({{"last_inbound_ms", now - 25LL * 3'600'000}});
    auto refused = strict.execute(late);
    CHECK(refused.status() == SB_ERR_FINAL);
    CHECK(refused.error->code == "customer_service_window");
    CHECK(host.http_requests().empty());
    json::object never = send();
    never.erase("last_inbound_ms");
    CHECK(strict.execute(never).error->code == "customer_service_window");
    auto fallback = cloud(host, {{"fallback_template", "we_are_here"}, {"fallback_template_language", "mn"}});
    host.push_http_reply(accepted("wamid.T"));
    auto sent = fallback.execute(late);
    REQUIRE(sent.ok());
    CHECK(sent.output().at("template") == "we_are_here");
    CHECK(host.http_requests().at(0).json().at("template") ==
          json::parse(R"({"name":"we_are_here","language":{"code":"mn"}})"));
}

TEST_CASE("whatsapp plugin: throughput and pair-rate errors defer, re-engagement is final, 5xx retries", "[whatsapp]") {
    auto host = load("whatsapp");
    auto wa = cloud(host);
    host.push_http_reply(graph_error(400, 130429, "Rate limit hit"));
    auto throughput = wa.execute(send());
    CHECK(throughput.status() == SB_ERR_RETRY_AFTER);
    CHECK(throughput.error->retry_after_ms == 2000);
    host.push_http_reply(graph_error(400, 131056, "(Business Account, Consumer Account) pair rate limit hit"));
    auto pair = wa.execute(send());
    CHECK(pair.status() == SB_ERR_RETRY_AFTER);
    CHECK(pair.error->retry_after_ms == 6000);
    host.push_http_reply(graph_error(400, 131047, "Re-engagement message"));
    auto reengage = wa.execute(send());
    CHECK(reengage.status() == SB_ERR_FINAL);
    CHECK(reengage.error->code == "131047");
    CHECK(reengage.error->message.find("fallback_template") != std::string::npos);
    host.push_http_reply(sbt::http_reply::json(503, json::object{}));
    CHECK(wa.execute(send()).status() == SB_ERR_RETRYABLE);
    host.push_http_reply({429, {{"Retry-After", "7"}}, "{}"});
    auto limited = wa.execute(send());
    CHECK(limited.status() == SB_ERR_RETRY_AFTER);
    CHECK(limited.error->retry_after_ms == 7000);
    host.push_http_reply(sbt::http_reply::failure("timeout"));
    CHECK(wa.execute(send()).status() == SB_ERR_RETRYABLE);
    host.push_http_reply(graph_error(401, 190, "Error validating access token"));
    CHECK(wa.execute(send()).status() == SB_ERR_FINAL);
    host.push_http_reply(sbt::http_reply::json(200, json::object{{"messages", json::array{}}}));
    CHECK(wa.execute(send()).error->code == "no_wamid");
    auto bare = host.create("bare", {});
    CHECK(bare.execute(send()).error->code == "not_configured");
}

TEST_CASE("whatsapp-360dialog plugin: a shared secret header guards webhooks; sends carry D360-API-KEY", "[whatsapp]") {
    auto host = load("whatsapp-360dialog");
    auto d360 = host.create("shop", {{"api_key", "d360-key"}, {"webhook_secret", "hook-secret"},
                                     {"api_base", "https://waba.example.test"}});
    sbt::inbound_request post{.method = "POST", .path = "/webhooks/whatsapp-360dialog/shop", .body = body};
    CHECK(d360.webhook(post).status == 401);
    post.headers.emplace_back("X-Webhook-Secret", "nope");
    CHECK(d360.webhook(post).status == 401);
    post.headers.back().second = "hook-secret";
    auto ok = d360.webhook(post);
    CHECK(ok.status == 200);
    REQUIRE(ok.events.size() == 1);
    CHECK(ok.events[0].at("channel") == "whatsapp-360dialog");
    auto unconfigured = host.create("bare", {});
    CHECK(unconfigured.webhook(post).status == 403);
    CHECK(host.logged("D360_WEBHOOK_SECRET"));
    host.push_http_reply(accepted("wamid.D360"));
    auto sent = d360.execute(send());
    REQUIRE(sent.ok());
    CHECK(sent.output().at("provider_message_id") == "wamid.D360");
    auto req = host.http_requests().at(0);
    CHECK(req.url == "https://waba.example.test/messages");
    CHECK(req.header("D360-API-KEY") == "d360-key");
    CHECK(!req.header("Authorization"));
}

TEST_CASE("whatsapp: warm-up days and weeks follow the tenant's time zone", "[whatsapp]") {
    namespace wa = switchboard::whatsapp;
    wa::warmup_policy p{.start = "2026-11-02", .daily_limits = {20, 50, 100, 1000}, .time_zone = "Asia/Ulaanbaatar"};
    // 2026-11-02T15:30:00Z is 23:30 on Nov 2 in Ulaanbaatar (UTC+8)... and 2026-11-02T16:30Z is Nov 3 there.
    const int64_t nov2_1530z = 1793633400000;
    auto day = wa::warmup_today(p, nov2_1530z);
    CHECK(day.date == "2026-11-02");
    CHECK(day.week == 0);
    CHECK(day.limit == 20);
    CHECK(day.next_reset_ms == 1793635200000);  // 2026-11-02T16:00:00Z = Nov 3 00:00 local
    CHECK(wa::warmup_today(p, nov2_1530z + 3'600'000).date == "2026-11-03");
    CHECK(wa::warmup_today(p, nov2_1530z + 7 * 86'400'000LL).limit == 50);
    CHECK(wa::warmup_today(p, nov2_1530z + 14 * 86'400'000LL).limit == 100);
    CHECK(wa::warmup_today(p, nov2_1530z + 60 * 86'400'000LL).limit == 1000);
    CHECK(wa::warmup_today(p, nov2_1530z - 5 * 86'400'000LL).limit == 20);  // before the start: week 1's limit
    CHECK_THROWS_AS(wa::validate({.start = "2026-13-40"}), switchboard::sdk::plugin_error);
    CHECK_THROWS_AS(wa::validate({.start = "2026-11-02", .time_zone = "Mars/Olympus"}), switchboard::sdk::plugin_error);
    CHECK_THROWS_AS(wa::validate({.start = "2026-11-02", .daily_limits = {}}), switchboard::sdk::plugin_error);
    CHECK_NOTHROW(wa::validate({.start = "", .time_zone = "Mars/Olympus"}));  // no warm-up: nothing to check
}

TEST_CASE("whatsapp plugin: past the day's warm-up quota a send waits for local midnight", "[whatsapp]") {
    auto host = load("whatsapp");
    const int64_t nov2_1530z = 1793633400000;  // 23:30 in Ulaanbaatar
    host.set_now_ms(nov2_1530z);
    auto wa = cloud(host, {{"warmup_start", "2026-11-02"}, {"warmup_daily_limits", R"(["2","5"])"},
                           {"time_zone", "Asia/Ulaanbaatar"}});
    auto now_send = [&] { return send({{"last_inbound_ms", host.now_ms() - 1000}}); };
    for (int i = 0; i < 2; ++i) {
        host.push_http_reply(accepted());
        REQUIRE(wa.execute(now_send()).ok());
    }
    CHECK(host.gauge("shop", "warmup_sent_today") == 2.0);
    CHECK(host.gauge("shop", "warmup_daily_limit") == 2.0);
    auto held = wa.execute(now_send());
    CHECK(held.status() == SB_ERR_RETRY_AFTER);
    CHECK(held.error->code == "warmup_quota");
    CHECK(held.error->retry_after_ms == 1800'000 + 1000);  // half an hour to local midnight, plus a second
    CHECK(host.http_requests().size() == 2);
    // A failed send gives its slot back; the next local day has a fresh quota.
    host.advance_ms(1801'000);
    host.push_http_reply(sbt::http_reply::json(503, json::object{}));
    CHECK(wa.execute(now_send()).status() == SB_ERR_RETRYABLE);
    host.push_http_reply(accepted());
    CHECK(wa.execute(now_send()).ok());
    CHECK(host.gauge("shop", "warmup_sent_today") == 1.0);
    CHECK_THROWS_WITH(host.create("bad", {{"warmup_start", "2026-11-02"}, {"time_zone", "Mars/Olympus"}}),
                      Catch::Contains("time_zone 'Mars/Olympus' is not in the time zone database"));
}
