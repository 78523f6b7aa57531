// Normalizing Messenger and Instagram webhooks (switchboard/meta/webhook.hpp): every shared
// provider fixture first, then the project's own variations in tests/fixtures/meta.
#include <switchboard/meta/profile.hpp>
#include <switchboard/meta/webhook.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace switchboard::meta;

namespace {

using event_list = std::vector<json::object>;

fs::path shared_fixtures() { return fs::path(SWITCHBOARD_SOURCE_DIR) / ".." / "shared" / "fixtures"; }
fs::path own_fixtures() { return fs::path(SWITCHBOARD_SOURCE_DIR) / "tests" / "fixtures" / "meta"; }

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    REQUIRE(in);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::optional<json::value> at(const json::object& ev, std::string_view pointer) {
    json::value v = ev;
    boost::system::error_code ec;
    auto* p = v.find_pointer(pointer, ec);
    if (!p) return std::nullopt;
    return *p;
}

std::string str(const json::object& ev, std::string_view pointer) {
    auto v = at(ev, pointer);
    if (!v) return "<absent>";
    if (v->is_string()) return std::string(v->get_string());
    return "<not a string: " + json::serialize(*v) + ">";
}

int64_t num(const json::object& ev, std::string_view pointer) {
    auto v = at(ev, pointer);
    if (!v || !v->is_number()) return std::numeric_limits<int64_t>::min();
    return v->to_number<int64_t>();
}

bool has(const json::object& ev, std::string_view pointer) { return at(ev, pointer).has_value(); }

event_list parse_for(const channel_profile& profile, std::string_view body, std::string_view own = {},
                     bool tenant_in_path = true) {
    parse_options o;
    o.channel = profile.channel;
    o.object = profile.object;
    o.own_account_id = own;
    o.tenant_in_path = tenant_in_path;
    return parse_webhook(body, o);
}

/// Checks every event carries what every consumer relies on.
void check_common(const event_list& events, std::string_view channel) {
    for (auto& ev : events) {
        INFO(json::serialize(ev));
        CHECK(str(ev, "/channel") == channel);
        CHECK(has(ev, "/raw"));
        std::string type = str(ev, "/type");
        if (type == "webhook.unhandled") {
            CHECK_FALSE(str(ev, "/reason").empty());
        } else {
            REQUIRE((type == "message.received" || type == "message.echoed" || type == "message.status"));
            CHECK(str(ev, "/contact/provider_id") != "<absent>");
            CHECK(str(ev, "/account_id") != "<absent>");
        }
        if (type == "message.received" || type == "message.echoed")
            CHECK_FALSE(str(ev, "/provider_message_id").empty());
    }
}

/// A single messaging item (the vlix-event-* fixtures) wrapped in the envelope Meta posts.
std::string wrap_item(const std::string& item_json, std::string_view object, std::string_view entry_id) {
    json::object entry;
    entry["id"] = entry_id;
    entry["time"] = 1500000000000;
    entry["messaging"] = json::array{json::parse(item_json)};
    json::object body;
    body["object"] = object;
    body["entry"] = json::array{std::move(entry)};
    return json::serialize(body);
}

using expectation = std::function<void(const event_list&)>;

const std::map<std::string, expectation>& messenger_expectations() {
    static const std::map<std::string, expectation> m{
        {"courier-page-attachment-image.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/type") == "message.received");
             CHECK(str(e[0], "/provider_message_id") == "external_id");
             CHECK(str(e[0], "/account_id") == "1234567890");
             CHECK(str(e[0], "/contact/provider_id") == "5678");
             CHECK(num(e[0], "/timestamp_ms") == 1459991487970);
             CHECK_FALSE(has(e[0], "/text"));
             CHECK(str(e[0], "/attachments/0/type") == "image");
             CHECK(str(e[0], "/attachments/0/url") == "https://image-url/foo.png");
             CHECK(str(e[0], "/attachments/0/payload/url") == "https://image-url/foo.png");
         }},
        {"courier-page-delivery.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/type") == "message.status");
             CHECK(str(e[0], "/status") == "delivered");
             CHECK(str(e[0], "/provider_message_ids/0") == "mid.1458668856218:ed81099e15d3f4f233");
             CHECK(num(e[0], "/watermark_ms") == 1458668856253);
             CHECK(str(e[0], "/contact/provider_id") == "5678");
             CHECK(num(e[0], "/timestamp_ms") == 1459991487970);
         }},
        {"courier-page-echo.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/type") == "message.echoed");
             CHECK(str(e[0], "/provider_message_id") == "qT7ywaK");
             // In an echo the contact is the recipient and the account the sender.
             CHECK(str(e[0], "/contact/provider_id") == "1234567890");
             CHECK(str(e[0], "/account_id") == "5678");
         }},
        {"courier-page-postback-referral.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/type") == "message.received");
             CHECK(str(e[0], "/provider_message_id") == "postback:5678:1459991487970");
             CHECK(str(e[0], "/postback/title") == "postback title");
             CHECK(str(e[0], "/postback/payload") == "postback payload");
             CHECK(str(e[0], "/postback/referral/ref") == "postback ref");
             CHECK(str(e[0], "/postback/referral/source") == "postback source");
         }},
        {"courier-page-referral.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/type") == "message.received");
             CHECK(str(e[0], "/provider_message_id") == "referral:5678:1459991487970");
             CHECK(str(e[0], "/referral/ref") == "referral id");
             CHECK(str(e[0], "/referral/ad_id") == "ad id");
             CHECK(str(e[0], "/contact/provider_id") == "5678");
             CHECK(str(e[0], "/contact/user_ref") == "5678");
             CHECK_FALSE(has(e[0], "/text"));
         }},
        {"courier-page-sticker-thumbs-up.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/type") == "message.received");
             CHECK(str(e[0], "/sticker_id") == "369239263222822");
             CHECK(str(e[0], "/attachments/0/url") == "https://scontent.xx.fbcdn.net/v/arst");
         }},
        {"courier-page-text.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/type") == "message.received");
             CHECK(str(e[0], "/text") == "Hello World");
             CHECK(str(e[0], "/provider_message_id") == "external_id");
             CHECK_FALSE(has(e[0], "/attachments"));
         }},
        {"mseri-page-attachment-image.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/provider_message_id") == "mid.1458696618141:b4ef9d19ec21086067");
             CHECK(str(e[0], "/account_id") == "PAGE_ID");
             CHECK(str(e[0], "/contact/provider_id") == "USER_ID");
             CHECK(num(e[0], "/timestamp_ms") == 1458696618268);
             CHECK(str(e[0], "/attachments/0/url") == "IMAGE_URL");
         }},
        {"mseri-page-delivery.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/status") == "delivered");
             CHECK(num(e[0], "/watermark_ms") == 1458668856253);
             // The item has no timestamp: the entry's time stands in.
             CHECK(num(e[0], "/timestamp_ms") == 1458668856451);
         }},
        {"mseri-page-postback.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/provider_message_id") == "postback:USER_ID:1458692752478");
             CHECK(str(e[0], "/postback/payload") == "USER_DEFINED_PAYLOAD");
             CHECK_FALSE(has(e[0], "/postback/title"));
         }},
        {"mseri-page-text-message.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/text") == "hello, world!");
             CHECK(num(e[0], "/timestamp_ms") == 1457764197627);
         }},
        {"vlix-event-attachment-image.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/provider_message_id") == "mid.$cAAFSuiOlE3doibGxAFiWxoQ_dosX");
             CHECK(str(e[0], "/attachments/0/url").rfind("https://scontent-ort2-2.xx.fbcdn.net/v/t34.0-12/", 0) == 0);
         }},
        {"vlix-event-delivery.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/status") == "delivered");
             CHECK(str(e[0], "/provider_message_ids/0") == "mid.1488128564673:5e67fce3a6");
             CHECK(num(e[0], "/watermark_ms") == 1488128564613);
             CHECK(str(e[0], "/contact/provider_id") == "1739141089378194");
         }},
        {"vlix-event-echo-button-template.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/type") == "message.echoed");
             CHECK(str(e[0], "/contact/provider_id") == "1739141089378194");
             CHECK(str(e[0], "/account_id") == "234554838031189");
             CHECK(str(e[0], "/metadata") == "<DEVELOPER_DEFINED_METADATA_STRING>");
             CHECK(str(e[0], "/app_id") == "743273262513025");
             CHECK(str(e[0], "/text") == "Button text");
             CHECK(str(e[0], "/attachments/0/type") == "template");
             CHECK_FALSE(has(e[0], "/attachments/0/url"));  // "url": null in the payload
             CHECK(str(e[0], "/attachments/0/payload/template_type") == "button");
         }},
        {"vlix-event-echo-text.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/type") == "message.echoed");
             CHECK(str(e[0], "/text") == "test test");
             CHECK(str(e[0], "/app_id") == "743273262513025");
             CHECK_FALSE(has(e[0], "/metadata"));
         }},
        {"vlix-event-postback-referral.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/provider_message_id") == "postback:1739141089378194:1520151355121");
             CHECK(str(e[0], "/postback/title") == "Aan de slag");
             CHECK(str(e[0], "/postback/payload") == "getstarted");
             CHECK(str(e[0], "/postback/referral/source") == "SHORTLINK");
             CHECK(str(e[0], "/postback/referral/ref") == "some_cta_or_another");
         }},
        {"vlix-event-postback.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/postback/payload") == "getstarted");
             CHECK_FALSE(has(e[0], "/postback/referral"));
         }},
        {"vlix-event-read.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/type") == "message.status");
             CHECK(str(e[0], "/status") == "read");
             CHECK(num(e[0], "/watermark_ms") == 1518439571400);
             CHECK_FALSE(has(e[0], "/provider_message_ids"));
         }},
        {"vlix-event-text-quick-reply.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/text") == "CLICK HERE");
             CHECK(str(e[0], "/quick_reply_payload") == "some_payload");
         }},
        {"vlix-page-standby-text-message.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/type") == "webhook.unhandled");
             CHECK_THAT(str(e[0], "/reason"), Catch::Contains("standby"));
             CHECK(str(e[0], "/raw/message/mid") == "mid.$cAAEIQkYwD5bNu1Kzh1hgg1r2bI_K");
         }},
        {"vlix-page-text-message.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/type") == "message.received");
             CHECK(str(e[0], "/text") == "This is a text message");
             CHECK(str(e[0], "/account_id") == "234554838031189");
         }},
    };
    return m;
}

const std::map<std::string, expectation>& instagram_expectations() {
    static const std::map<std::string, expectation> m{
        {"chatwoot-factory-story-reply.json",
         [](const event_list& e) {
             // A test factory body without the top-level "object": authenticated but not understood.
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/type") == "webhook.unhandled");
             CHECK_THAT(str(e[0], "/reason"), Catch::Contains("object is missing"));
             CHECK(has(e[0], "/raw/entry"));
         }},
        {"courier-ig-attachment-image.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/type") == "message.received");
             CHECK(str(e[0], "/attachments/0/type") == "image");
             CHECK(str(e[0], "/attachments/0/url") == "https://image-url/foo.png");
         }},
        {"courier-ig-echo.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/type") == "message.echoed");
             CHECK(str(e[0], "/provider_message_id") == "qT7ywaK");
         }},
        {"courier-ig-icebreaker-postback.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/postback/title") == "icebreaker question");
             CHECK(str(e[0], "/postback/payload") == "get_started");
             CHECK(str(e[0], "/provider_message_id") == "postback:5678:1459991487970");
         }},
        {"courier-ig-like-heart.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/attachments/0/type") == "like_heart");
             CHECK_FALSE(has(e[0], "/attachments/0/url"));
             CHECK_FALSE(has(e[0], "/attachments/0/payload"));
         }},
        {"courier-ig-story-mention.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/attachments/0/type") == "story_mention");
             CHECK(str(e[0], "/attachments/0/url") == "https://story-url");
         }},
        {"courier-ig-text.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/text") == "Hello World");
             CHECK(str(e[0], "/contact/provider_id") == "5678");
             CHECK(str(e[0], "/account_id") == "1234567890");
         }},
        {"courier-ig-unsent-deleted.json",
         [](const event_list& e) {
             REQUIRE(e.size() == 1);
             CHECK(str(e[0], "/type") == "webhook.unhandled");
             CHECK_THAT(str(e[0], "/reason"), Catch::Contains("is_deleted"));
             CHECK(str(e[0], "/raw/message/mid") == "external_id");
         }},
    };
    return m;
}

void run_shared_folder(const channel_profile& profile, const std::string& folder,
                       const std::map<std::string, expectation>& expectations) {
    fs::path dir = shared_fixtures() / folder;
    if (!fs::is_directory(dir)) {
        WARN("shared fixtures not found at " << dir.string() << "; skipping");
        return;
    }
    size_t seen = 0;
    for (auto& file : fs::directory_iterator(dir)) {
        if (file.path().extension() != ".json") continue;
        std::string name = file.path().filename().string();
        INFO("fixture " << folder << "/" << name);
        std::string body = slurp(file.path());
        json::value parsed = json::parse(body);
        // A bare messaging item (no envelope) is posted the way Meta would wrap it.
        if (parsed.is_object() && !parsed.as_object().contains("object") && parsed.as_object().contains("sender"))
            body = wrap_item(body, profile.object, "234554838031189");
        event_list events = parse_for(profile, body);
        REQUIRE_FALSE(events.empty());
        check_common(events, profile.channel);
        auto it = expectations.find(name);
        if (it == expectations.end()) {
            WARN("no specific expectation for new shared fixture " << folder << "/" << name
                                                                   << " (common checks only)");
            continue;
        }
        it->second(events);
        ++seen;
    }
    CHECK(seen == expectations.size());
}

}  // namespace

TEST_CASE("meta: every shared Messenger fixture normalizes as expected", "[meta][webhook]") {
    run_shared_folder(messenger_profile, "messenger", messenger_expectations());
}

TEST_CASE("meta: every shared Instagram fixture normalizes as expected", "[meta][webhook]") {
    run_shared_folder(instagram_profile, "instagram", instagram_expectations());
}

TEST_CASE("meta: raw carries the messaging item exactly", "[meta][webhook]") {
    fs::path p = shared_fixtures() / "messenger" / "vlix-event-text-quick-reply.json";
    if (!fs::exists(p)) {
        WARN("shared fixtures not found; skipping");
        return;
    }
    json::object item = json::parse(slurp(p)).as_object();
    json::object ev = normalize_messaging_item(item, "messenger", "234554838031189", std::nullopt);
    CHECK(ev.at("raw") == json::value(item));
    CHECK(str(ev, "/account_id") == "234554838031189");
}

TEST_CASE("meta: Instagram story reply item keeps the story reference", "[meta][webhook]") {
    fs::path p = shared_fixtures() / "instagram" / "chatwoot-factory-story-reply.json";
    if (!fs::exists(p)) {
        WARN("shared fixtures not found; skipping");
        return;
    }
    json::value body = json::parse(slurp(p));
    const json::object& item = body.at("entry").at(0).at("messaging").at(0).as_object();
    json::object ev = normalize_messaging_item(item, "instagram", "instagram-message-id-123", std::nullopt);
    CHECK(str(ev, "/type") == "message.received");
    CHECK(str(ev, "/provider_message_id") == "message-id-1");
    CHECK(str(ev, "/reply_to_story/url") == "https://chatwoot-assets.local/sample.png");
    CHECK_FALSE(has(ev, "/reply_to"));
    // The factory writes ISO dates where Meta sends epoch milliseconds: no timestamp is invented.
    CHECK_FALSE(has(ev, "/timestamp_ms"));
}

TEST_CASE("meta: batched Messenger notification, own page, tenant in path", "[meta][webhook]") {
    std::string body = slurp(own_fixtures() / "messenger-batch.json");
    event_list e = parse_for(messenger_profile, body, "100200300400", true);
    check_common(e, "messenger");
    REQUIRE(e.size() == 7);

    CHECK(str(e[0], "/type") == "message.received");
    CHECK(str(e[0], "/provider_message_id") == "m_batch_text_1");
    CHECK(str(e[0], "/text") == "Сайн байна уу, \xc3\xa4\xc3\xb6\xc3\xa5");
    CHECK(str(e[0], "/reply_to") == "m_earlier_1");
    CHECK(num(e[0], "/timestamp_ms") == 1700000000100);

    CHECK(str(e[1], "/type") == "message.received");
    CHECK(str(e[1], "/provider_message_id") == "postback:24000000000000001:1700000000200");
    CHECK(str(e[1], "/postback/payload") == "GET_STARTED");

    CHECK(str(e[2], "/type") == "message.status");
    CHECK(str(e[2], "/status") == "delivered");
    CHECK_FALSE(has(e[2], "/provider_message_ids"));
    CHECK(num(e[2], "/watermark_ms") == 1700000000250);
    CHECK(str(e[2], "/contact/provider_id") == "24000000000000002");

    CHECK(str(e[3], "/type") == "webhook.unhandled");
    CHECK_THAT(str(e[3], "/reason"), Catch::Contains("reaction"));
    CHECK(str(e[3], "/raw/reaction/mid") == "m_batch_text_1");

    CHECK(str(e[4], "/type") == "message.echoed");
    CHECK(str(e[4], "/metadata") == "job-42");
    CHECK(str(e[4], "/app_id") == "555000111222333");
    CHECK(str(e[4], "/contact/provider_id") == "24000000000000001");
    CHECK(str(e[4], "/account_id") == "100200300400");

    CHECK(str(e[5], "/type") == "webhook.unhandled");
    CHECK_THAT(str(e[5], "/reason"), Catch::Contains("message_edit"));

    CHECK(str(e[6], "/type") == "webhook.unhandled");
    CHECK_THAT(str(e[6], "/reason"), Catch::Contains("entry for account 999888777666 is not this tenant's"));
    CHECK(str(e[6], "/raw/id") == "999888777666");
}

TEST_CASE("meta: foreign entries are skipped when the host routed by payload", "[meta][webhook]") {
    std::string body = slurp(own_fixtures() / "messenger-batch.json");
    event_list e = parse_for(messenger_profile, body, "100200300400", false);
    REQUIRE(e.size() == 6);
    for (auto& ev : e) CHECK(str(ev, "/raw/id") != "999888777666");
    CHECK(str(e[5], "/type") == "webhook.unhandled");  // message_edit, not the foreign entry
    CHECK_THAT(str(e[5], "/reason"), Catch::Contains("message_edit"));
}

TEST_CASE("meta: without an account id setting every entry is this tenant's", "[meta][webhook]") {
    std::string body = slurp(own_fixtures() / "messenger-batch.json");
    event_list e = parse_for(messenger_profile, body, "", true);
    REQUIRE(e.size() == 7);
    CHECK(str(e[6], "/type") == "message.received");
    CHECK(str(e[6], "/provider_message_id") == "m_other_page_1");
    CHECK(str(e[6], "/account_id") == "999888777666");
}

TEST_CASE("meta: unusual Messenger items are stored as unhandled, never dropped", "[meta][webhook]") {
    std::string body = slurp(own_fixtures() / "messenger-edge-items.json");
    event_list e = parse_for(messenger_profile, body, "100200300400");
    check_common(e, "messenger");
    REQUIRE(e.size() == 9);
    CHECK(str(e[0], "/type") == "webhook.unhandled");
    CHECK_THAT(str(e[0], "/reason"), Catch::Contains("is_unsupported"));
    CHECK(str(e[1], "/type") == "webhook.unhandled");
    CHECK_THAT(str(e[1], "/reason"), Catch::Contains("without mid"));
    CHECK(str(e[2], "/type") == "webhook.unhandled");
    CHECK_THAT(str(e[2], "/reason"), Catch::Contains("'optin'"));
    CHECK(str(e[3], "/type") == "webhook.unhandled");
    CHECK(str(e[3], "/raw") == "not an object");

    CHECK(str(e[4], "/type") == "message.received");
    CHECK(str(e[4], "/attachments/0/type") == "fallback");
    CHECK(str(e[4], "/attachments/0/url") == "https://example.org/shared");
    CHECK_FALSE(has(e[4], "/attachments/0/payload"));
    CHECK(str(e[4], "/quick_reply_payload") == "PICK_RED");

    CHECK(str(e[5], "/type") == "message.status");
    CHECK(str(e[5], "/status") == "read");
    CHECK(num(e[5], "/watermark_ms") == 1700000099350);

    CHECK(str(e[6], "/type") == "webhook.unhandled");
    CHECK_THAT(str(e[6], "/reason"), Catch::Contains("standby"));
    CHECK(str(e[6], "/raw/message/mid") == "m_standby_1");
    CHECK(str(e[7], "/type") == "webhook.unhandled");
    CHECK_THAT(str(e[7], "/reason"), Catch::Contains("feed comment without from.id or comment_id"));
    CHECK(str(e[8], "/type") == "webhook.unhandled");
    CHECK_THAT(str(e[8], "/reason"), Catch::Contains("no messaging[]"));
}

TEST_CASE("meta: batched Instagram notification", "[meta][webhook]") {
    std::string body = slurp(own_fixtures() / "instagram-batch.json");
    event_list e = parse_for(instagram_profile, body, "17841400000000001");
    check_common(e, "instagram");
    REQUIRE(e.size() == 6);
    CHECK(str(e[0], "/type") == "message.received");
    CHECK(str(e[0], "/reply_to") == "aWdfZAG1faXRlbTpwcmV2aW91cw");
    CHECK(str(e[0], "/account_id") == "17841400000000001");
    // Instagram postbacks carry their own mid, which wins over a synthetic id.
    CHECK(str(e[1], "/provider_message_id") == "aWdfZAG1faXRlbTpwb3N0YmFjaw");
    CHECK(str(e[1], "/postback/title") == "Prices");
    // Instagram reads name the message read instead of a watermark.
    CHECK(str(e[2], "/type") == "message.status");
    CHECK(str(e[2], "/status") == "read");
    CHECK(str(e[2], "/provider_message_ids/0") == "aWdfZAG1faXRlbTpvdXJfcmVwbHk");
    CHECK_FALSE(has(e[2], "/watermark_ms"));
    CHECK(str(e[3], "/type") == "webhook.unhandled");
    CHECK_THAT(str(e[3], "/reason"), Catch::Contains("reaction"));
    CHECK(str(e[4], "/type") == "webhook.unhandled");
    CHECK_THAT(str(e[4], "/reason"), Catch::Contains("is_deleted"));
    CHECK(str(e[5], "/type") == "webhook.unhandled");
    CHECK_THAT(str(e[5], "/reason"), Catch::Contains("entry for account 17841400000000002"));
}

TEST_CASE("meta: bodies that are not a notification for this channel", "[meta][webhook]") {
    SECTION("not JSON: raw is the body as a string") {
        std::string body = slurp(own_fixtures() / "not-json.txt");
        event_list e = parse_for(messenger_profile, body);
        REQUIRE(e.size() == 1);
        CHECK(str(e[0], "/type") == "webhook.unhandled");
        CHECK(str(e[0], "/channel") == "messenger");
        CHECK_THAT(str(e[0], "/reason"), Catch::Contains("not JSON"));
        CHECK(str(e[0], "/raw") == body);
    }
    SECTION("another product's object") {
        std::string body = slurp(own_fixtures() / "wrong-object.json");
        event_list e = parse_for(messenger_profile, body);
        REQUIRE(e.size() == 1);
        CHECK_THAT(str(e[0], "/reason"), Catch::Contains("\"whatsapp_business_account\""));
        CHECK_THAT(str(e[0], "/reason"), Catch::Contains("expected \"page\""));
        CHECK(str(e[0], "/raw/object") == "whatsapp_business_account");
    }
    SECTION("an Instagram body posted to the Messenger endpoint and vice versa") {
        std::string ig = slurp(own_fixtures() / "instagram-batch.json");
        event_list e = parse_for(messenger_profile, ig);
        REQUIRE(e.size() == 1);
        CHECK(str(e[0], "/type") == "webhook.unhandled");
        std::string fb = slurp(own_fixtures() / "messenger-batch.json");
        e = parse_for(instagram_profile, fb);
        REQUIRE(e.size() == 1);
        CHECK_THAT(str(e[0], "/reason"), Catch::Contains("expected \"instagram\""));
    }
    SECTION("empty body, array, entry not an array, entry item not an object") {
        CHECK(str(parse_for(messenger_profile, "")[0], "/reason").find("not JSON") != std::string::npos);
        CHECK(str(parse_for(messenger_profile, "[]")[0], "/reason") == "body is not a JSON object");
        CHECK(str(parse_for(messenger_profile, R"({"object":"page","entry":{}})")[0], "/reason") ==
              "body has no entry[] array");
        event_list e = parse_for(messenger_profile, R"({"object":"page","entry":[42]})");
        REQUIRE(e.size() == 1);
        CHECK(str(e[0], "/reason") == "entry item is not an object");
        CHECK(parse_for(messenger_profile, R"({"object":"page","entry":[]})").empty());
    }
}

TEST_CASE("meta: synthetic ids are stable across redeliveries", "[meta][webhook]") {
    json::object item = json::parse(R"({"sender":{"id":"7"},"recipient":{"id":"1"},"postback":{"payload":"P"}})")
                            .as_object();
    json::object a = normalize_messaging_item(item, "messenger", "1", std::nullopt);
    json::object b = normalize_messaging_item(item, "messenger", "1", std::nullopt);
    CHECK(str(a, "/provider_message_id") == str(b, "/provider_message_id"));
    CHECK(str(a, "/provider_message_id").rfind("postback:7:sha256-", 0) == 0);
    json::object c = normalize_messaging_item(item, "messenger", "1", 1700000000000);
    CHECK(str(c, "/provider_message_id") == "postback:7:1700000000000");
}

TEST_CASE("meta: numeric ids and sender-less items", "[meta][webhook]") {
    json::object numeric = json::parse(R"({"sender":{"id":24000000000000001},"recipient":{"id":100200300400},
        "timestamp":1700000000000,"message":{"mid":"m1","text":"hi"}})")
                               .as_object();
    json::object ev = normalize_messaging_item(numeric, "messenger", "", std::nullopt);
    CHECK(str(ev, "/contact/provider_id") == "24000000000000001");
    CHECK(str(ev, "/account_id") == "100200300400");

    json::object no_sender = json::parse(R"({"recipient":{"id":"1"},"message":{"mid":"m2"}})").as_object();
    ev = normalize_messaging_item(no_sender, "messenger", "1", std::nullopt);
    CHECK(str(ev, "/type") == "webhook.unhandled");
    CHECK_THAT(str(ev, "/reason"), Catch::Contains("sender.id"));

    json::object empty = json::parse(R"({"sender":{"id":"7"},"recipient":{"id":"1"},"timestamp":1})").as_object();
    ev = normalize_messaging_item(empty, "messenger", "1", std::nullopt);
    CHECK(str(ev, "/type") == "webhook.unhandled");
    CHECK_THAT(str(ev, "/reason"), Catch::Contains("no event field"));
}

TEST_CASE("meta: entry ids and route keys of unverified bodies", "[meta][webhook]") {
    std::string batch = slurp(own_fixtures() / "messenger-batch.json");
    CHECK(entry_ids(batch) == std::vector<std::string>{"100200300400", "999888777666"});
    CHECK(entry_ids(R"({"object":"page","entry":[{"id":12345},{"id":"12345"},{"time":1},"x"]})") ==
          std::vector<std::string>{"12345"});
    CHECK(entry_ids("not json").empty());
    CHECK(entry_ids(R"({"entry":"x"})").empty());
    CHECK(entry_ids("[1,2]").empty());

    auto request_for = [](std::string_view method, std::string_view body) {
        sb_http_request r{};
        r.method = switchboard::sdk::borrow(method);
        r.path = switchboard::sdk::borrow("/webhooks/messenger");
        r.body = switchboard::sdk::borrow(body);
        return r;
    };
    sb_http_request post = request_for("POST", batch);
    CHECK(route_keys(switchboard::sdk::request(post)) == std::vector<std::string>{"100200300400", "999888777666"});
    sb_http_request get = request_for("GET", batch);
    CHECK(route_keys(switchboard::sdk::request(get)).empty());
}

TEST_CASE("meta: whether a webhook path names the tenant", "[meta][webhook]") {
    CHECK(path_names_tenant("/webhooks/messenger/demo", "messenger"));
    CHECK(path_names_tenant("/webhooks/messenger/demo/", "messenger"));
    CHECK_FALSE(path_names_tenant("/webhooks/messenger", "messenger"));
    CHECK_FALSE(path_names_tenant("/webhooks/messenger/", "messenger"));
    CHECK_FALSE(path_names_tenant("/api/webhooks/instagram", "instagram"));
    CHECK(path_names_tenant("/api/webhooks/instagram/shop-1", "instagram"));
    // Unknown shapes report foreign entries instead of skipping them.
    CHECK(path_names_tenant("/", "messenger"));
    CHECK(path_names_tenant("/hooks/other", "messenger"));
}

TEST_CASE("meta: a comment on a Page post becomes comment.received; own comments and other changes do not",
          "[meta][webhook]") {
    auto change = [](std::string author, std::string item, std::string verb) {
        return json::parse(R"({"field":"feed","value":{"from":{"id":")" + author +
                           R"(","name":"Bolor"},"post_id":"104_55","comment_id":"55_77","parent_id":"104_55",)"
                           R"("message":"How much?","created_time":1700000000,"item":")" + item + R"(","verb":")" +
                           verb + R"("}})")
            .as_object();
    };
    auto ev = normalize_feed_change(change("6100", "comment", "add"), "messenger", "104");
    CHECK(ev.at("type") == "comment.received");
    CHECK(ev.at("account_id") == "104");
    CHECK(ev.at("contact").at("provider_id") == "6100");
    CHECK(ev.at("contact").at("name") == "Bolor");
    CHECK(ev.at("comment_id") == "55_77");
    CHECK(ev.at("post_id") == "104_55");
    CHECK_FALSE(ev.contains("parent_id"));  // a top-level comment: its parent is the post
    CHECK(ev.at("text") == "How much?");
    CHECK(ev.at("timestamp_ms") == 1700000000000LL);
    CHECK(ev.at("dedupe_key") == "comment:55_77");
    CHECK(normalize_feed_change(change("104", "comment", "add"), "messenger", "104").at("type") == "webhook.unhandled");
    CHECK(normalize_feed_change(change("6100", "reaction", "add"), "messenger", "104").at("type") == "webhook.unhandled");
    CHECK(normalize_feed_change(change("6100", "comment", "remove"), "messenger", "104").at("type") == "webhook.unhandled");
    // Through parse_webhook: Messenger reads feed changes, Instagram reports them.
    const std::string body = R"({"object":"page","entry":[{"id":"104","time":1,"changes":[)" +
                             json::serialize(change("6100", "comment", "add")) + "]}]}";
    auto events = parse_webhook(body, {.channel = "messenger", .object = "page"});
    REQUIRE(events.size() == 1);
    CHECK(events[0].at("type") == "comment.received");
}
