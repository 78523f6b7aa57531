// The Twilio channel: X-Twilio-Signature against the test vectors of Twilio's own validator
// (twilio/twilio-python tests/unit/test_request_validator.py, quoted in ../shared SIGNATURES.md),
// the real webhook bodies in ../shared/fixtures/twilio (courier's), and sends through the fake host.
#include <switchboard/sdk/crypto.hpp>
#include <switchboard/sdk/testing.hpp>
#include <switchboard/twilio/twilio.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace json = boost::json;
namespace sbt = switchboard::sdk::testing;
namespace tw = switchboard::twilio;
namespace codec = switchboard::sdk::codec;
namespace fs = std::filesystem;

namespace {

const fs::path shared = fs::path(SWITCHBOARD_SOURCE_DIR) / ".." / "shared" / "fixtures" / "twilio";
const std::string url = "https://mycompany.com/myapp.php?foo=1&bar=2";
const codec::form_fields params{{"CallSid", "CA1234567890ABCDE"}, {"Caller", "+14158675309"}, {"Digits", "1234"},
                                {"From", "+14158675309"}, {"To", "+18005551212"}};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

json::object one(const std::string& fixture) {
    auto events = tw::parse_webhook(slurp(shared / fixture));
    REQUIRE(events.size() == 1);
    return events[0];
}

const std::string token = "twilio-auth-token";
const std::string public_url = "https://bot.example.test/webhooks/twilio/shop";
const int64_t now = 1'800'000'000'000;

sbt::inbound_request signed_post(const std::string& body, std::string key = token) {
    sbt::inbound_request r{.method = "POST", .path = "/webhooks/twilio/shop", .body = body};
    r.public_url = public_url;
    r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    r.headers.emplace_back("X-Twilio-Signature", tw::signature(key, public_url, codec::form_decode(body)));
    return r;
}

json::object send(const std::string& to, json::object extra = {}) {
    json::object c{{"type", "message.send"}, {"channel", "twilio"}, {"recipient", {{"provider_id", to}}},
                   {"text", "Hi"}, {"last_inbound_ms", now - 1000}};
    for (auto& [k, v] : extra) c[k] = v;
    return c;
}

}  // namespace

TEST_CASE("twilio: signatures match Twilio's own validator test vectors", "[twilio]") {
    CHECK(tw::signature("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    // A repeated key sorts its values too.
    CHECK(tw::signature("12345", url, {{"Sid", "CA123"}, {"SidAccount", "AC123"}, {"Digits", "5678"}, {"Digits", "1234"}}) ==
          "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    const std::string body = codec::form_encode(params);
    CHECK(tw::verify_signature("RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345", url, body));
    // Signed over the URL with the default port; our public URL has none (and the reverse).
    CHECK(tw::verify_signature("kvajT1Ptam85bY51eRf/AJRuM3w=", "12345", url, body));
    CHECK(tw::verify_signature("RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2",
                               body));
    CHECK(tw::verify_signature("Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", "12345", "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
                               body));
    CHECK_FALSE(tw::verify_signature("RSOYDt4T1cUTdK1PDd93/VVr8B8=", "54321", url, body));
    CHECK_FALSE(tw::verify_signature("RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345", url, body + "&Extra=1"));
    CHECK_FALSE(tw::verify_signature(std::nullopt, "12345", url, body));
}

TEST_CASE("twilio: inbound SMS and WhatsApp messages, media and buttons", "[twilio]") {
    if (!fs::exists(shared)) {
        WARN("../shared/fixtures/twilio is not next to the repository: skipped");
        return;
    }
    auto sms = one("courier-sms-inbound-text.form");
    CHECK(sms.at("type") == "message.received");
    CHECK(sms.at("provider_message_id") == "SMe287d7109a5a925f182f0e07fe5b223b");
    CHECK(sms.at("contact").at("provider_id") == "+14133881111");
    CHECK(sms.at("account_id") == "+12028831111");
    CHECK(sms.at("text") == "Msg");
    CHECK(sms.at("messaging") == "sms");
    auto media = one("courier-sms-inbound-media.form");
    CHECK(media.at("attachments").as_array().size() == 2);
    CHECK(media.at("attachments").as_array()[1].at("url") == "dog.jpg");
    auto wa = one("courier-whatsapp-inbound-text.form");
    CHECK(wa.at("contact").at("provider_id") == "whatsapp:+14133881111");
    CHECK(wa.at("messaging") == "whatsapp");
    CHECK(one("courier-whatsapp-inbound-button.form").at("quick_reply_payload") == "Confirm");
    auto profile = tw::parse_webhook("MessageSid=SM1&From=whatsapp%3A%2B97688&To=whatsapp%3A%2B1415&Body=hi&"
                                     "ProfileName=Saraa&WaId=97688&NumMedia=1&MediaUrl0=https%3A%2F%2Fm%2F1&"
                                     "MediaContentType0=image%2Fjpeg&OriginalRepliedMessageSid=SM0");
    CHECK(profile.at(0).at("contact").at("name") == "Saraa");
    CHECK(profile.at(0).at("contact").at("wa_id") == "97688");
    CHECK(profile.at(0).at("attachments").as_array()[0].at("type") == "image");
    CHECK(profile.at(0).at("reply_to") == "SM0");
}

TEST_CASE("twilio: status callbacks map into the status model; 21610 is an opt-out", "[twilio]") {
    if (!fs::exists(shared)) {
        WARN("../shared/fixtures/twilio is not next to the repository: skipped");
        return;
    }
    CHECK(one("courier-status-delivered.form").at("status") == "delivered");
    CHECK(one("courier-status-read.form").at("status") == "read");
    auto sent = one("courier-status-sent-messaging-service.form");
    CHECK(sent.at("status") == "sent");
    CHECK(sent.at("dedupe_key") == "status:SM0b6e2697aae04182a9f5b5c7a8994c7f:sent");
    auto failed = tw::parse_webhook(slurp(shared / "courier-status-failed-21610.form"));
    REQUIRE(failed.size() == 2);
    CHECK(failed[0].at("status") == "failed");
    CHECK(failed[0].at("error_code") == "21610");
    CHECK(failed[0].at("error_reason") == "the recipient unsubscribed (replied STOP)");
    CHECK(failed[1].at("type") == "contact.opted_out");
    CHECK(failed[1].at("contact").at("provider_id") == "+12028831111");
    auto unreachable = tw::parse_webhook("MessageSid=SM9&MessageStatus=undelivered&ErrorCode=30003&To=%2B1");
    CHECK(unreachable.at(0).at("error_reason") == "unreachable destination handset");
    CHECK(tw::parse_webhook("MessageSid=SM9&MessageStatus=queued").at(0).at("status") == "sent");
    CHECK(tw::parse_webhook("MessageSid=SM9&MessageStatus=wat").at(0).at("type") == "webhook.unhandled");
    CHECK(tw::parse_webhook("garbage").at(0).at("type") == "webhook.unhandled");
    CHECK(tw::parse_webhook("").at(0).at("type") == "webhook.unhandled");
}

TEST_CASE("twilio plugin: signed webhooks pass; forged, unsigned and unverifiable ones are refused", "[twilio]") {
    auto host = sbt::fake_host::load(std::string(SWITCHBOARD_PLUGIN_DIR) + "/switchboard-twilio.so");
    auto tw_instance = host.create_instance("shop", "twilio", {{"account_sid", "AC1"}, {"auth_token", token}},
                                            public_url);
    const std::string body = "MessageSid=SM1&From=%2B97688&To=%2B1415&Body=hello";
    auto ok = tw_instance.webhook(signed_post(body));
    CHECK(ok.status == 200);
    CHECK(ok.body.find("<Response>") != std::string::npos);
    REQUIRE(ok.events.size() == 1);
    CHECK(tw_instance.webhook(signed_post(body, "other-token")).status == 401);
    auto no_url = signed_post(body);
    no_url.public_url.clear();
    CHECK(tw_instance.webhook(no_url).status == 503);
    CHECK(host.logged("SWITCHBOARD_PUBLIC_URL"));
    auto bare = host.create("bare", {});
    CHECK(bare.webhook(signed_post(body)).status == 403);
    CHECK(host.logged("TWILIO_AUTH_TOKEN"));
}

TEST_CASE("twilio plugin: sends use Basic auth, the right sender and StatusCallback; STOP is remembered", "[twilio]") {
    auto host = sbt::fake_host::load(std::string(SWITCHBOARD_PLUGIN_DIR) + "/switchboard-twilio.so");
    host.set_now_ms(now);
    auto tw_instance = host.create_instance("shop", "twilio",
                                            {{"account_sid", "AC1"}, {"auth_token", token},
                                             {"whatsapp_number", "+14155238886"}, {"sms_number", "+14155550000"},
                                             {"api_base", "https://twilio.example.test"}},
                                            public_url);
    host.push_http_reply(sbt::http_reply::json(201, {{"sid", "SMout1"}, {"status", "queued"}}));
    auto sent = tw_instance.execute(send("whatsapp:+97688", {{"buttons", json::parse(R"([{"title":"Yes"},{"title":"No"}])")},
                                                             {"attachment", {{"type", "image"}, {"url", "https://c/p.jpg"}}}}));
    REQUIRE(sent.ok());
    CHECK(sent.output().at("provider_message_id") == "SMout1");
    auto req = host.http_requests().at(0);
    CHECK(req.url == "https://twilio.example.test/2010-04-01/Accounts/AC1/Messages.json");
    CHECK(req.header("Authorization") == switchboard::sdk::crypto::basic_auth("AC1", token));
    auto form = codec::form_decode(req.body);
    CHECK(codec::form_value(form, "From") == "whatsapp:+14155238886");
    CHECK(codec::form_value(form, "Body") == "Hi\n\n1. Yes\n2. No");
    CHECK(codec::form_value(form, "MediaUrl") == "https://c/p.jpg");
    CHECK(codec::form_value(form, "StatusCallback") == public_url);

    host.clear_records();
    json::object old = send("+97699");
    old.erase("last_inbound_ms");  // SMS has no window
    host.push_http_reply(sbt::http_reply::json(201, {{"sid", "SMout2"}}));
    REQUIRE(tw_instance.execute(old).ok());
    CHECK(codec::form_value(codec::form_decode(host.http_requests().at(0).body), "From") == "+14155550000");
    CHECK(tw_instance.execute(send("whatsapp:+97688", {{"last_inbound_ms", now - 2 * 86'400'000LL}})).error->code ==
          "customer_service_window");

    host.push_http_reply(sbt::http_reply::json(400, {{"code", 21610}, {"message", "Attempt to send to unsubscribed recipient"},
                                                     {"status", 400}}));
    auto stopped = tw_instance.execute(send("+97600"));
    CHECK(stopped.status() == SB_ERR_FINAL);
    CHECK(stopped.error->code == "21610");
    host.clear_records();
    CHECK(tw_instance.execute(send("+97600")).error->code == "21610");
    CHECK(host.http_requests().empty());  // known opt-out: Twilio is not called again

    host.push_http_reply({429, {{"Retry-After", "3"}}, R"({"code":20429,"message":"Too Many Requests"})"});
    auto limited = tw_instance.execute(send("+97601"));
    CHECK(limited.status() == SB_ERR_RETRY_AFTER);
    CHECK(limited.error->retry_after_ms == 3000);
    host.push_http_reply(sbt::http_reply::json(503, json::object{}));
    CHECK(tw_instance.execute(send("+97601")).status() == SB_ERR_RETRYABLE);
    host.push_http_reply(sbt::http_reply::json(400, {{"code", 21211}, {"message", "Invalid 'To' Phone Number"}}));
    CHECK(tw_instance.execute(send("+97601")).status() == SB_ERR_FINAL);
}
