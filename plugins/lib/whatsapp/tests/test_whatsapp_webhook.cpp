// WhatsApp webhook normalization (switchboard/whatsapp/webhook.hpp) on the real example payloads
// in ../shared/fixtures/whatsapp_cloud (pywa's and courier's) and 360dialog (legacy on-premise),
// plus the shapes those files do not cover, written here in the Cloud API's own form.
#include <switchboard/whatsapp/webhook.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace json = boost::json;
namespace wa = switchboard::whatsapp;
namespace fs = std::filesystem;

namespace {

const fs::path shared = fs::path(SWITCHBOARD_SOURCE_DIR) / ".." / "shared" / "fixtures";

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<json::object> parse(const std::string& body, std::string_view own = "") {
    return wa::parse_webhook(body, {.channel = "whatsapp", .own_phone_number_id = own});
}

json::object one_event(const std::string& fixture) {
    auto events = parse(slurp(shared / fixture));
    REQUIRE(events.size() == 1);
    return events[0];
}

/// A Cloud API notification with one value.
std::string notification(const json::object& value) {
    json::object v = value;
    v["messaging_product"] = "whatsapp";
    v["metadata"] = {{"display_phone_number", "15550001111"}, {"phone_number_id", "106540352242922"}};
    return json::serialize(json::object{
        {"object", "whatsapp_business_account"},
        {"entry", json::array{json::object{{"id", "102290129340398"},
                                           {"changes", json::array{json::object{{"field", "messages"}, {"value", v}}}}}}}});
}

#define REQUIRE_SHARED()                                                              \
    if (!fs::exists(shared / "whatsapp_cloud")) {                                     \
        WARN("../shared/fixtures is not next to the repository: skipped");            \
        return;                                                                       \
    }

}  // namespace

TEST_CASE("whatsapp: a text message becomes message.received with the wamid and the profile name", "[whatsapp]") {
    REQUIRE_SHARED();
    auto ev = one_event("whatsapp_cloud/pywa-message-text.json");
    CHECK(ev.at("type") == "message.received");
    CHECK(ev.at("channel") == "whatsapp");
    CHECK(ev.at("provider_message_id") == "wamid.xyzxyz");
    CHECK(ev.at("account_id") == "1122334455667");
    CHECK(ev.at("contact").at("provider_id") == "972987654321");
    CHECK(ev.at("contact").at("name") == "Test Name");
    CHECK(ev.at("text") == "Body Text");
    CHECK(ev.at("timestamp_ms") == 1697043223000LL);
    CHECK(ev.at("raw").at("id") == "wamid.xyzxyz");
}

TEST_CASE("whatsapp: media, location, replies, referrals, buttons and lists", "[whatsapp]") {
    REQUIRE_SHARED();
    auto image = one_event("whatsapp_cloud/pywa-message-image-with-url.json");
    auto& a = image.at("attachments").as_array().at(0).as_object();
    CHECK(a.at("type") == "image");
    CHECK(a.at("media_id") == "65463453");
    CHECK(a.at("mime_type") == "image/jpeg");
    CHECK(a.at("url").as_string().starts_with("https://lookaside.fbsbx.com/"));
    CHECK(one_event("whatsapp_cloud/pywa-message-voice.json").at("attachments").as_array()[0].at("type") == "voice");
    auto document = one_event("whatsapp_cloud/pywa-message-document.json");
    CHECK(document.at("attachments").as_array()[0].at("type") == "document");
    CHECK(document.at("forwarded") == true);
    auto location = one_event("whatsapp_cloud/pywa-message-location.json");
    CHECK(location.at("attachments").as_array()[0].at("payload").at("name") == "Facebook HQ");
    CHECK(one_event("whatsapp_cloud/pywa-message-text-reply-context.json").at("reply_to") == "wamid.xyzxyz==");
    auto referral = one_event("whatsapp_cloud/pywa-message-referral-ctwa.json");
    CHECK(referral.at("referral").at("ctwa_clid") == "CTWA_CLID");
    CHECK(referral.at("text") == "BODY");
    auto button = one_event("whatsapp_cloud/pywa-interactive-button-reply.json");
    CHECK(button.at("postback").at("payload") == "callback_data");
    CHECK(button.at("postback").at("kind") == "button_reply");
    CHECK(button.at("text") == "title");
    CHECK(one_event("whatsapp_cloud/pywa-interactive-list-reply.json").at("postback").at("kind") == "list_reply");
    auto quick = one_event("whatsapp_cloud/pywa-template-quick-reply-button.json");
    CHECK(quick.at("quick_reply_payload") == "callback_data");
    CHECK(quick.at("text") == "title");
    auto courier_button = one_event("whatsapp_cloud/courier-wac-template-button.json");
    CHECK(courier_button.at("quick_reply_payload") == "No-Button-Payload");
    CHECK(courier_button.at("reply_to") == "gBGGFmkiWVVPAgkgQkwi7IORac0");
    auto courier_image = one_event("whatsapp_cloud/courier-wac-image.json");
    CHECK(courier_image.at("attachments").as_array()[0].at("type") == "image");
}

TEST_CASE("whatsapp: reactions, unsupported messages and value errors", "[whatsapp]") {
    REQUIRE_SHARED();
    auto reaction = one_event("whatsapp_cloud/pywa-message-reaction.json");
    CHECK(reaction.at("type") == "message.reaction");
    CHECK(reaction.at("reaction").at("message_id") == "wamid.yzxyzx=");
    CHECK(reaction.at("reaction").at("emoji") == "\xF0\x9F\x98\xAE");
    CHECK(reaction.at("dedupe_key") == "reaction:wamid.xyzxyz");
    auto unsupported = one_event("whatsapp_cloud/pywa-message-unsupported-with-errors.json");
    CHECK(unsupported.at("type") == "message.received");
    CHECK(unsupported.at("unsupported").at("code") == "131000");
    CHECK(unsupported.at("unsupported").at("details") == "Unsupported webhook payload");
    auto errors = one_event("whatsapp_cloud/courier-wac-value-errors.json");
    CHECK(errors.at("type") == "webhook.unhandled");
    CHECK(errors.at("reason").as_string().starts_with("value.errors: 0 We were unable to authenticate"));
}

TEST_CASE("whatsapp: statuses become message.status with the wamid and the error of a failure", "[whatsapp]") {
    REQUIRE_SHARED();
    for (auto [file, status] : {std::pair{"pywa-status-sent.json", "sent"}, {"pywa-status-delivered.json", "delivered"},
                                {"pywa-status-read.json", "read"}, {"courier-wac-status-sent.json", "sent"}}) {
        auto ev = one_event(std::string("whatsapp_cloud/") + file);
        CHECK(ev.at("type") == "message.status");
        CHECK(ev.at("status") == status);
        CHECK(ev.at("provider_message_ids").as_array().size() == 1);
        CHECK(ev.at("dedupe_key").as_string().starts_with("status:"));
    }
    auto failed = one_event("whatsapp_cloud/pywa-status-failed.json");
    CHECK(failed.at("status") == "failed");
    CHECK(failed.at("provider_message_ids").as_array()[0] == "wamid.xyzxyz");
    CHECK(failed.at("contact").at("provider_id") == "972987654321");
    CHECK(failed.at("error_code") == "130472");
    CHECK(failed.at("error_reason").as_string().find("experiment") != json::string::npos);
    CHECK(failed.at("timestamp_ms") == 1689380458000LL);
    CHECK(one_event("whatsapp_cloud/courier-wac-status-failed.json").at("status") == "failed");
}

TEST_CASE("whatsapp: 360dialog's legacy on-premise bodies read as Cloud API values", "[whatsapp]") {
    REQUIRE_SHARED();
    auto text = one_event("360dialog/courier-legacy-onprem-message-text.json");
    CHECK(text.at("type") == "message.received");
    CHECK(text.at("provider_message_id") == "41");
    CHECK(text.at("contact").at("provider_id") == "250788123123");
    CHECK(text.at("text") == "hello world");
    auto sent = one_event("360dialog/courier-legacy-onprem-status-sent.json");
    CHECK(sent.at("type") == "message.status");
    CHECK(sent.at("provider_message_ids").as_array()[0] == "9712A34B4A8B6AD50F");
}

TEST_CASE("whatsapp: contacts cards, stickers, videos and batched values", "[whatsapp]") {
    auto body = notification(json::object{
        {"contacts", json::array{json::object{{"profile", {{"name", "Bolor"}}}, {"wa_id", "97688110000"}}}},
        {"messages",
         json::array{
             json::object{{"from", "97688110000"}, {"id", "wamid.A"}, {"timestamp", "1700000000"}, {"type", "contacts"},
                          {"contacts", json::array{json::object{{"name", {{"formatted_name", "Tuya"}}}}}}},
             json::object{{"from", "97688110000"}, {"id", "wamid.B"}, {"timestamp", "1700000001"}, {"type", "sticker"},
                          {"sticker", {{"id", "st-1"}, {"mime_type", "image/webp"}, {"animated", false}}}},
             json::object{{"from", "97688110000"}, {"id", "wamid.C"}, {"timestamp", "1700000002"}, {"type", "video"},
                          {"video", {{"id", "vid-1"}, {"caption", "look"}}}},
             json::object{{"from", "97688110000"}, {"id", "wamid.D"}, {"timestamp", "1700000003"}, {"type", "system"},
                          {"system", {{"body", "changed number"}}}},
             json::object{{"from", "97688110000"}, {"id", "wamid.E"}, {"timestamp", "1700000004"},
                          {"type", "unsupported"},
                          {"errors", json::array{json::object{{"code", 131051}, {"title", "Message type unknown"}}}}}}}});
    auto events = parse(body);
    REQUIRE(events.size() == 5);
    CHECK(events[0].at("attachments").as_array()[0].at("type") == "contacts");
    CHECK(events[0].at("contact").at("name") == "Bolor");
    CHECK(events[1].at("attachments").as_array()[0].at("media_id") == "st-1");
    CHECK(events[2].at("text") == "look");
    CHECK(events[3].at("type") == "webhook.unhandled");
    CHECK(events[3].at("reason").as_string().find("'system'") != json::string::npos);
    CHECK(events[4].at("unsupported").at("code") == "131051");
}

TEST_CASE("whatsapp: values of another number, other fields and garbage are reported, never dropped", "[whatsapp]") {
    auto body = notification(json::object{{"statuses", json::array{json::object{{"id", "wamid.S"}, {"status", "sent"},
                                                                                {"timestamp", "1700000000"},
                                                                                {"recipient_id", "976"}}}}});
    auto mine = parse(body, "106540352242922");
    REQUIRE(mine.size() == 1);
    CHECK(mine[0].at("type") == "message.status");
    auto other = parse(body, "999");
    REQUIRE(other.size() == 1);
    CHECK(other[0].at("type") == "webhook.unhandled");
    CHECK(wa::parse_webhook(body, {.channel = "whatsapp", .own_phone_number_id = "999", .tenant_in_path = false})
              .empty());
    auto field = parse(R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":
        "message_template_status_update","value":{"event":"APPROVED"}}]}]})");
    REQUIRE(field.size() == 1);
    CHECK(field[0].at("reason").as_string().find("message_template_status_update") != json::string::npos);
    for (const char* garbage : {"", "[]", "{", R"({"object":"page","entry":[]})", R"({"messages":7})",
                                R"({"object":"whatsapp_business_account","entry":[{"changes":[7]}]})"}) {
        auto events = parse(garbage);
        REQUIRE(!events.empty());
        for (auto& ev : events) CHECK(ev.at("type") == "webhook.unhandled");
    }
    auto deleted = parse(notification(json::object{
        {"statuses", json::array{json::object{{"id", "wamid.S"}, {"status", "deleted"}, {"recipient_id", "976"}}}}}));
    CHECK(deleted.at(0).at("type") == "webhook.unhandled");
}
