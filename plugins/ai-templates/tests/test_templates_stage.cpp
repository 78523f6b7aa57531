// The templates.reply stage, driven through the real instance class and an sdk::emitter over a
// capturing sb_sink: one reply per message, handoff, silence after escalation, postbacks,
// quick replies, attachments, locale choice and settings.
#include <switchboard/templates/instance.hpp>
#include <switchboard/templates/responder.hpp>

#include <switchboard/sdk/plugin.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace switchboard::templates;
namespace sdk = switchboard::sdk;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// Collects what a stage emits, parsed back from the JSON text that crossed the sink.
class capture {
public:
    capture() : sink_{sizeof(sb_sink), this, [](void* ctx, sb_str item) {
                          static_cast<capture*>(ctx)->items.push_back(json::parse(sdk::view(item)).as_object());
                          return SB_OK;
                      }} {}
    capture(const capture&) = delete;
    capture& operator=(const capture&) = delete;
    const sb_sink* sink() const { return &sink_; }
    std::vector<json::object> items;

private:
    sb_sink sink_;
};

// A fake host that records log lines and metrics, so tests can see what the plugin reports.
class recording_host {
public:
    recording_host() {
        api_.struct_size = sizeof api_;
        api_.ctx = this;
        api_.log = [](void* ctx, int32_t, sb_str line) {
            static_cast<recording_host*>(ctx)->logs.emplace_back(sdk::view(line));
        };
        api_.metric_add = [](void* ctx, sb_str name, double value) {
            static_cast<recording_host*>(ctx)->metrics.emplace_back(std::string(sdk::view(name)), value);
        };
    }
    recording_host(const recording_host&) = delete;
    recording_host& operator=(const recording_host&) = delete;
    sdk::host services() const { return sdk::host(&api_); }
    double metric(std::string_view name) const {
        double total = 0;
        for (auto& [n, v] : metrics)
            if (n == name) total += v;
        return total;
    }
    std::vector<std::string> logs;
    std::vector<std::pair<std::string, double>> metrics;

private:
    sb_host_api api_{};
};

sdk::settings make_settings(std::initializer_list<std::pair<const char*, std::string>> values = {}) {
    sdk::settings s;
    // The host applies the declared defaults before create(); do the same.
    s.set("locale", "en");
    s.set("detect_language", "true");
    s.set("business_name", "our shop");
    for (auto& [k, v] : values) s.set(k, v);
    return s;
}

json::object message(std::string_view text, bool escalated = false) {
    json::object e{{"type", "message.received"},
                   {"tenant", "demo"},
                   {"channel", "messenger"},
                   {"provider_message_id", "m_abc"},
                   {"account_id", "1234567890"},
                   {"contact", {{"provider_id", "psid-77"}, {"name", "Bold"}}},
                   {"timestamp_ms", 1700000000000},
                   {"raw", json::object{}},
                   {"conversation", {{"id", 42}, {"escalated", escalated}}}};
    if (!text.empty()) e["text"] = text;
    return e;
}

std::vector<json::object> run(templates_instance& inst, const json::object& event) {
    capture cap;
    sdk::emitter out(cap.sink());
    inst.run_stage(sdk::call(), "reply", event, out);
    return std::move(cap.items);
}

// Runs the stage and requires exactly one message.send; returns it.
json::object reply_to(templates_instance& inst, const json::object& event) {
    auto items = run(inst, event);
    REQUIRE(items.size() == 1);
    REQUIRE(items[0].at("type") == "message.send");
    return items[0];
}

std::string str(const json::object& o, std::string_view key) { return std::string(o.at(key).as_string()); }

std::string expected_text(locale l, intent i, std::string_view business, std::string_view contact) {
    const placeholder values[] = {{"business_name", business}, {"contact_name", contact}};
    return render(template_store::shipped().text(l, i), values);
}

template <class F>
sdk::plugin_error thrown_by(F&& f) {
    try {
        f();
    } catch (const sdk::plugin_error& e) {
        return e;
    }
    FAIL("no plugin_error was thrown");
    return sdk::plugin_error(sdk::error_kind::final, "");
}

std::string temp_file(const std::string& content) {
    static std::atomic<int> counter{0};
    auto p = fs::temp_directory_path() /
             ("switchboard-templates-stage-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".json");
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
}

}  // namespace

TEST_CASE("a text message gets exactly one message.send with every field", "[templates]") {
    templates_instance inst(sdk::host(), make_settings());
    auto items = run(inst, message("Hello!"));
    REQUIRE(items.size() == 1);
    const json::object expected{{"type", "message.send"},
                                {"channel", "messenger"},
                                {"recipient", {{"provider_id", "psid-77"}}},
                                {"conversation_id", 42},
                                {"in_reply_to", "m_abc"},
                                {"text", expected_text(locale::en, intent::greeting, "our shop", "Bold")},
                                {"intent", "greeting"},
                                {"locale", "en"}};
    CHECK(items[0] == expected);
    CHECK_THAT(str(items[0], "text"), Catch::StartsWith("Hi Bold! Welcome to our shop."));
}

TEST_CASE("every matchable intent gets its own reply in both languages", "[templates]") {
    templates_instance inst(sdk::host(), make_settings());
    const std::vector<std::tuple<const char*, intent, locale>> cases = {
        {"hello", intent::greeting, locale::en},
        {"where is my order", intent::order_status, locale::en},
        {"how do I pay", intent::payment, locale::en},
        {"delivery to Darkhan?", intent::shipping, locale::en},
        {"which size fits me", intent::size_guide, locale::en},
        {"it arrived damaged", intent::complaint, locale::en},
        {"I want a refund", intent::return_request, locale::en},
        {"do you have white sneakers", intent::product_search, locale::en},
        {"Сайн байна уу", intent::greeting, locale::mn},
        {"Захиалга маань хаана явна", intent::order_status, locale::mn},
        {"Төлбөрөө яаж төлөх вэ", intent::payment, locale::mn},
        {"Хүргэлт байгаа юу?", intent::shipping, locale::mn},
        {"Размер ямар байна", intent::size_guide, locale::mn},
        {"Гомдол байна", intent::complaint, locale::mn},
        {"Буцаах боломжтой юу", intent::return_request, locale::mn},
        {"Энэ бараа байгаа юу", intent::product_search, locale::mn},
    };
    for (auto& [text, which, lang] : cases) {
        INFO("message: " << text);
        auto reply = reply_to(inst, message(text));
        CHECK(str(reply, "intent") == intent_name(which));
        CHECK(str(reply, "locale") == locale_code(lang));
        CHECK(str(reply, "text") ==
              expected_text(lang, which, lang == locale::mn ? "манай дэлгүүр" : "our shop", "Bold"));
        CHECK(str(reply, "text").find('{') == std::string::npos);
    }
}

TEST_CASE("a handoff request escalates the conversation, then sends the notice", "[templates]") {
    templates_instance inst(sdk::host(), make_settings());
    for (const char* text : {"I want to talk to a human", "оператор", "хүнтэй ярих", "хүн рүү", "ажилтантай холбоорой",
                             "real person please", "can I talk to someone?", "AGENT"}) {
        INFO("message: " << text);
        auto items = run(inst, message(text));
        REQUIRE(items.size() == 2);
        const json::object escalated{{"type", "conversation.escalated"},
                                     {"channel", "messenger"},
                                     {"conversation_id", 42},
                                     {"reason", "customer asked for a human"}};
        CHECK(items[0] == escalated);
        CHECK(items[1].at("type") == "message.send");
        CHECK(str(items[1], "intent") == "handoff");
        CHECK(items[1].at("conversation_id") == 42);
        CHECK(items[1].at("in_reply_to") == "m_abc");
        const locale lang = str(items[1], "locale") == "mn" ? locale::mn : locale::en;
        CHECK(str(items[1], "text") == expected_text(lang, intent::handoff, "", "Bold"));
    }
}

TEST_CASE("the bot stays silent once the conversation is escalated", "[templates]") {
    recording_host host;
    templates_instance inst(host.services(), make_settings());
    for (const char* text : {"hello", "human please", "where is my order", ""}) {
        INFO("message: " << text);
        CHECK(run(inst, message(text, /*escalated=*/true)).empty());
    }
    CHECK(host.metric("replies") == 0);
    CHECK(host.metric("replies_suppressed_escalated") == 4);
}

TEST_CASE("a message nothing matches gets the fallback reply", "[templates]") {
    templates_instance inst(sdk::host(), make_settings());
    auto reply = reply_to(inst, message("asdf qwerty"));
    CHECK(str(reply, "intent") == "fallback");
    CHECK(str(reply, "text") == expected_text(locale::en, intent::fallback, "our shop", "Bold"));

    reply = reply_to(inst, message("ямар нэгэн юм"));
    CHECK(str(reply, "intent") == "fallback");
    CHECK(str(reply, "locale") == "mn");

    // Emoji only: there is text, but nothing to match and no letters to pick a language from.
    reply = reply_to(inst, message("👍"));
    CHECK(str(reply, "intent") == "fallback");
    CHECK(str(reply, "locale") == "en");
}

TEST_CASE("postbacks match on the payload, then the title", "[templates]") {
    templates_instance inst(sdk::host(), make_settings());
    auto postback = [](const char* payload, const char* title) {
        auto e = message("");
        e["postback"] = {{"payload", payload}, {"title", title}};
        return e;
    };
    CHECK(str(reply_to(inst, postback("GET_STARTED", "Get Started")), "intent") == "greeting");
    CHECK(str(reply_to(inst, postback("ORDER_STATUS", "Track")), "intent") == "order_status");
    CHECK(str(reply_to(inst, postback("size_guide", "?")), "intent") == "size_guide");
    CHECK(str(reply_to(inst, postback("btn_17", "Shipping info")), "intent") == "shipping");
    CHECK(str(reply_to(inst, postback("btn_18", "Something else")), "intent") == "fallback");
    // The payload outranks the title.
    CHECK(str(reply_to(inst, postback("PAYMENT", "Hello")), "intent") == "payment");
    // "fallback" is not a payload that selects an intent: the title decides.
    CHECK(str(reply_to(inst, postback("fallback", "Hi")), "intent") == "greeting");

    // A handoff button escalates like typed text.
    auto items = run(inst, postback("TALK_TO_HUMAN", "Talk to us"));
    REQUIRE(items.size() == 2);
    CHECK(items[0].at("type") == "conversation.escalated");

    // The language follows the visible title, not the developer's payload.
    auto reply = reply_to(inst, postback("ORDER_STATUS", "Захиалга шалгах"));
    CHECK(str(reply, "locale") == "mn");
    CHECK(str(reply, "intent") == "order_status");
}

TEST_CASE("quick replies match on the payload, then the text", "[templates]") {
    templates_instance inst(sdk::host(), make_settings());
    auto quick = [](const char* payload, const char* text) {
        auto e = message(text);
        e["quick_reply_payload"] = payload;
        return e;
    };
    auto reply = reply_to(inst, quick("SIZE_GUIDE", "Хэмжээ"));
    CHECK(str(reply, "intent") == "size_guide");
    CHECK(str(reply, "locale") == "mn");
    CHECK(str(reply_to(inst, quick("opt_1", "refund please")), "intent") == "return");
    CHECK(str(reply_to(inst, quick("return", "hello")), "intent") == "return");
    CHECK(str(reply_to(inst, quick("opt_2", "maybe")), "intent") == "fallback");
}

TEST_CASE("attachments and stickers without text get the acknowledgement", "[templates]") {
    templates_instance inst(sdk::host(), make_settings({{"locale", "mn"}}));
    auto with_attachments = [](const char* text, json::array attachments) {
        auto e = message(text);
        e["attachments"] = std::move(attachments);
        return e;
    };
    auto image = json::array{json::object{{"type", "image"}, {"url", "https://example.invalid/p.jpg"}}};
    auto sticker = json::array{json::object{{"type", "sticker"}, {"payload", {{"sticker_id", 369239263222822}}}}};

    auto reply = reply_to(inst, with_attachments("", image));
    CHECK(str(reply, "intent") == "attachment");
    CHECK(str(reply, "locale") == "mn");  // no text: the tenant locale
    CHECK(str(reply, "text") == expected_text(locale::mn, intent::attachment, "манай дэлгүүр", "Bold"));

    CHECK(str(reply_to(inst, with_attachments("", sticker)), "intent") == "attachment");
    CHECK(str(reply_to(inst, with_attachments("👍", sticker)), "intent") == "attachment");
    // Text decides when there is some.
    CHECK(str(reply_to(inst, with_attachments("how much is this?", image)), "intent") == "product_search");
    CHECK(str(reply_to(inst, with_attachments("look", image)), "intent") == "fallback");
    // An empty attachment list is no attachment.
    CHECK(str(reply_to(inst, with_attachments("", json::array{})), "intent") == "fallback");
}

TEST_CASE("a bare referral is greeted", "[templates]") {
    templates_instance inst(sdk::host(), make_settings());
    auto e = message("");
    e["referral"] = {{"ref", "summer_ad"}, {"source", "ADS"}};
    CHECK(str(reply_to(inst, e), "intent") == "greeting");
}

TEST_CASE("the reply language follows the script of the message", "[templates]") {
    responder_config en;  // tenant locale en, detection on
    responder_config mn;
    mn.tenant_locale = locale::mn;
    responder_config mn_fixed = mn;
    mn_fixed.detect_language = false;

    CHECK(reply_locale(message("Сайн байна уу"), en) == locale::mn);
    CHECK(reply_locale(message("hello"), mn) == locale::en);
    CHECK(reply_locale(message("hi сайн уу"), en) == locale::mn);  // any Cyrillic letter → mn
    CHECK(reply_locale(message("12345 !!"), en) == locale::en);    // no letters → tenant locale
    CHECK(reply_locale(message("12345 !!"), mn) == locale::mn);
    CHECK(reply_locale(message(""), mn) == locale::mn);
    CHECK(reply_locale(message("hello"), mn_fixed) == locale::mn);  // detection off
    CHECK(reply_locale(message("ÖZEL"), mn) == locale::en);       // Latin-1 letters count as Latin
}

TEST_CASE("detect_language=false answers in the tenant locale", "[templates]") {
    templates_instance inst(sdk::host(), make_settings({{"locale", "mn"}, {"detect_language", "false"}}));
    auto reply = reply_to(inst, message("hello"));
    CHECK(str(reply, "locale") == "mn");
    CHECK(str(reply, "intent") == "greeting");
    CHECK(str(reply, "text") == expected_text(locale::mn, intent::greeting, "манай дэлгүүр", "Bold"));
}

TEST_CASE("business_name and contact_name fill the reply", "[templates]") {
    templates_instance inst(sdk::host(), make_settings({{"business_name", "Nomin Fashion"}}));
    auto reply = reply_to(inst, message("hi"));
    CHECK_THAT(str(reply, "text"), Catch::StartsWith("Hi Bold! Welcome to Nomin Fashion."));
    reply = reply_to(inst, message("сайн уу"));
    CHECK_THAT(str(reply, "text"), Catch::StartsWith("Сайн байна уу Bold! Тавтай морилно уу, энэ бол Nomin Fashion."));

    // Without a contact name the greeting still reads well.
    auto anonymous = message("hi");
    anonymous["contact"].as_object().erase("name");
    CHECK_THAT(str(reply_to(inst, anonymous), "text"), Catch::StartsWith("Hi! Welcome to Nomin Fashion."));
    anonymous["contact"].as_object()["name"] = nullptr;
    CHECK_THAT(str(reply_to(inst, anonymous), "text"), Catch::StartsWith("Hi! Welcome"));
}

TEST_CASE("the same event always gives the same reply", "[templates]") {
    templates_instance inst(sdk::host(), make_settings());
    auto event = message("my parcel is damaged, I want a refund");
    auto first = run(inst, event);
    auto second = run(inst, event);
    CHECK(first == second);
    REQUIRE(first.size() == 1);
    CHECK(str(first[0], "intent") == "complaint");
}

TEST_CASE("message text never reaches the log", "[templates]") {
    recording_host host;
    templates_instance inst(host.services(), make_settings());
    const std::string secret = "my card number is 4111 1111 1111 1111";
    auto reply = reply_to(inst, message(secret));
    CHECK(str(reply, "intent") == "payment");
    REQUIRE_FALSE(host.logs.empty());
    for (const auto& line : host.logs) {
        CHECK(line.find("4111") == std::string::npos);
        CHECK(line.find("card") == std::string::npos);
    }
    CHECK(host.metric("replies") == 1);

    run(inst, message("human"));
    CHECK(host.metric("handoffs") == 1);
    CHECK(host.metric("replies") == 2);
}

TEST_CASE("an unsupported locale is refused at creation", "[templates]") {
    auto e = thrown_by([] { templates_instance refused(sdk::host(), make_settings({{"locale", "xx"}})); });
    CHECK(e.kind() == sdk::error_kind::invalid);
    CHECK(std::string(e.what()) == "locale 'xx' is not supported: use en or mn");
    e = thrown_by([] { templates_instance refused(sdk::host(), make_settings({{"locale", "EN"}})); });
    CHECK(std::string(e.what()) == "locale 'EN' is not supported: use en or mn");
}

TEST_CASE("config_from_settings applies the defaults", "[templates]") {
    auto config = config_from_settings(sdk::settings());
    CHECK(config.tenant_locale == locale::en);
    CHECK(config.detect_language);
    CHECK(config.business_name == "our shop");
    CHECK(business_name_for(config, locale::en) == "our shop");
    CHECK(business_name_for(config, locale::mn) == "манай дэлгүүр");
    config.business_name = "Номин";
    CHECK(business_name_for(config, locale::en) == "Номин");
    CHECK(business_name_for(config, locale::mn) == "Номин");
}

TEST_CASE("templates_file overrides replies per locale and intent", "[templates]") {
    const std::string path =
        temp_file(R"({"mn": {"greeting": "Сайн уу {contact_name}, {business_name} байна!"}, "en": {}})");
    templates_instance inst(sdk::host(), make_settings({{"templates_file", path}, {"business_name", "Номин"}}));
    fs::remove(path);  // read at creation: the instance no longer needs the file
    CHECK(str(reply_to(inst, message("сайн байна уу")), "text") == "Сайн уу Bold, Номин байна!");
    CHECK(str(reply_to(inst, message("hello")), "text") ==
          expected_text(locale::en, intent::greeting, "Номин", "Bold"));
}

TEST_CASE("an unusable templates_file is refused at creation, naming the file and key", "[templates]") {
    const std::string missing = (fs::temp_directory_path() / "switchboard-templates-does-not-exist.json").string();
    auto e = thrown_by([&] { templates_instance refused(sdk::host(), make_settings({{"templates_file", missing}})); });
    CHECK(e.kind() == sdk::error_kind::invalid);
    CHECK_THAT(std::string(e.what()), Catch::Contains("templates_file '" + missing + "'"));

    const std::string bad = temp_file(R"({"en": {"greeting": "Hi"}, "de": {"greeting": "Hallo"}})");
    e = thrown_by([&] { templates_instance refused(sdk::host(), make_settings({{"templates_file", bad}})); });
    fs::remove(bad);
    CHECK(e.kind() == sdk::error_kind::invalid);
    CHECK_THAT(std::string(e.what()), Catch::Contains(bad) && Catch::Contains("unknown locale 'de'"));
}

TEST_CASE("the templates setting holds the override JSON itself", "[templates]") {
    // What a `templates_file:` in switchboard.yaml becomes after the host reads *_file settings.
    templates_instance inst(sdk::host(), make_settings({{"templates", R"({"en": {"fallback": "Pardon?"}})"}}));
    CHECK(str(reply_to(inst, message("qwerty")), "text") == "Pardon?");

    auto e = thrown_by([] { templates_instance refused(sdk::host(), make_settings({{"templates", "{\"en\": {\"x\": 1"}})); });
    CHECK(e.kind() == sdk::error_kind::invalid);
    CHECK_THAT(std::string(e.what()), Catch::Contains("setting 'templates'") && Catch::Contains("invalid JSON"));

    const std::string path = temp_file("{}");
    e = thrown_by([&] {
        templates_instance refused(sdk::host(), make_settings({{"templates_file", path}, {"templates", "{}"}}));
    });
    fs::remove(path);
    CHECK_THAT(std::string(e.what()), Catch::Contains("both templates_file and templates"));
}

TEST_CASE("the stage refuses other stage names and events", "[templates]") {
    templates_instance inst(sdk::host(), make_settings());
    capture cap;
    sdk::emitter out(cap.sink());

    auto e = thrown_by([&] { inst.run_stage(sdk::call(), "answer", message("hi"), out); });
    CHECK(e.kind() == sdk::error_kind::final);
    CHECK_THAT(std::string(e.what()), Catch::Contains("templates.answer") && Catch::Contains("templates.reply"));

    auto echo = message("hi");
    echo["type"] = "message.echoed";
    e = thrown_by([&] { inst.run_stage(sdk::call(), "reply", echo, out); });
    CHECK(e.kind() == sdk::error_kind::invalid);
    CHECK_THAT(std::string(e.what()), Catch::Contains("message.echoed"));
    CHECK(cap.items.empty());
}

TEST_CASE("the stage refuses events that lack what the reply needs, naming the field", "[templates]") {
    templates_instance inst(sdk::host(), make_settings());
    capture cap;
    sdk::emitter out(cap.sink());
    auto refused = [&](json::object event, const char* field) {
        INFO("field: " << field);
        auto e = thrown_by([&] { inst.run_stage(sdk::call(), "reply", event, out); });
        CHECK(e.kind() == sdk::error_kind::invalid);
        CHECK_THAT(std::string(e.what()), Catch::Contains(std::string("'") + field + "'"));
    };

    auto e = message("hi");
    e.erase("conversation");
    refused(e, "conversation");

    e = message("hi");
    e["conversation"].as_object().erase("escalated");
    refused(e, "conversation.escalated");

    e = message("hi");
    e["conversation"].as_object()["escalated"] = "no";
    refused(e, "conversation.escalated");

    e = message("hi");
    e["conversation"].as_object()["id"] = "42";
    refused(e, "conversation.id");

    e = message("hi");
    e.erase("channel");
    refused(e, "channel");

    e = message("hi");
    e["contact"].as_object().erase("provider_id");
    refused(e, "contact.provider_id");

    e = message("hi");
    e.erase("contact");
    refused(e, "contact.provider_id");

    e = message("hi");
    e.erase("provider_message_id");
    refused(e, "provider_message_id");

    CHECK(cap.items.empty());
}
