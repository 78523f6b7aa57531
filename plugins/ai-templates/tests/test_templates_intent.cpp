// Keyword intent matching of the templates plugin: every intent in both languages, priority, word
// boundaries, case folding, punctuation, and the catalog's validation.
#include <switchboard/templates/intent.hpp>

#include <switchboard/sdk/plugin.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

using namespace switchboard::templates;
using switchboard::sdk::error_kind;
using switchboard::sdk::plugin_error;

namespace {

std::string name_of(std::optional<intent> i) { return i ? std::string(intent_name(*i)) : std::string("<none>"); }

void check_all(const std::vector<std::pair<const char*, const char*>>& cases) {
    const auto& matcher = intent_matcher::shipped();
    for (const auto& [text, expected] : cases) {
        INFO("message: " << text);
        CHECK(name_of(matcher.match(text)) == expected);
    }
}

// Runs from_json on a catalog and returns the plugin_error message; fails the test if it does not throw.
std::string catalog_error(const char* json) {
    try {
        intent_matcher::from_json(boost::json::parse(json), "intents-test.json");
    } catch (const plugin_error& e) {
        CHECK(e.kind() == error_kind::invalid);
        return e.what();
    }
    FAIL("from_json accepted " << json);
    return {};
}

}  // namespace

TEST_CASE("intent names round-trip and fallback/attachment are not matchable", "[templates]") {
    for (intent i : all_intents) {
        INFO(intent_name(i));
        CHECK(parse_intent(intent_name(i)) == i);
    }
    CHECK(intent_name(intent::return_request) == "return");
    CHECK_FALSE(parse_intent("Greeting"));
    CHECK_FALSE(parse_intent(""));
    CHECK_FALSE(is_matchable(intent::fallback));
    CHECK_FALSE(is_matchable(intent::attachment));
    CHECK(matchable_intents.front() == intent::handoff);
    CHECK(matchable_intents.back() == intent::greeting);
}

TEST_CASE("the shipped catalog has keywords for every matchable intent", "[templates]") {
    const auto& matcher = intent_matcher::shipped();
    for (intent i : matchable_intents) {
        INFO(intent_name(i));
        CHECK(matcher.keyword_count(i) >= 5);
    }
    CHECK(matcher.keyword_count(intent::fallback) == 0);
    CHECK(matcher.keyword_count(intent::attachment) == 0);
}

TEST_CASE("every intent is recognised in English", "[templates]") {
    check_all({
        {"Hi!", "greeting"},
        {"hello there", "greeting"},
        {"Good morning :)", "greeting"},
        {"HEY", "greeting"},
        {"Where is my order?", "order_status"},
        {"tracking number pls", "order_status"},
        {"Can I pay with QPay?", "payment"},
        {"please send me the invoice", "payment"},
        {"Do you deliver to Darkhan?", "shipping"},
        {"shipping fee to Erdenet?", "shipping"},
        {"What size should I take?", "size_guide"},
        {"will it fit me", "size_guide"},
        {"The zipper is broken", "complaint"},
        {"This is terrible service", "complaint"},
        {"I want a refund", "return"},
        {"can I exchange it", "return"},
        {"What's the price?", "product_search"},
        {"do you have this in black", "product_search"},
        {"is it in stock", "product_search"},
        {"I want to talk to a human", "handoff"},
        {"operator please", "handoff"},
        {"can I talk to someone", "handoff"},
        {"a real person please", "handoff"},
        {"agent", "handoff"},
    });
}

TEST_CASE("every intent is recognised in Mongolian", "[templates]") {
    check_all({
        {"Сайн байна уу", "greeting"},
        {"сайн уу", "greeting"},
        {"Өглөөний мэнд!", "greeting"},
        {"Миний захиалга хаана явна?", "order_status"},
        {"захиалгаа шалгаж өгөөч", "order_status"},
        {"Төлбөр яаж төлөх вэ", "payment"},
        {"дансны дугаараа өгөөч", "payment"},
        {"Хүргэлт хэд хоног болдог вэ", "shipping"},
        {"хот руу хүргэх үү", "shipping"},
        {"Ямар размер авах вэ", "size_guide"},
        {"хэмжээ нь ямар вэ", "size_guide"},
        {"Гомдол гаргах гэсэн юм", "complaint"},
        {"цүнх эвдэрсэн ирсэн", "complaint"},
        {"Буцаах боломжтой юу", "return"},
        {"өөр өнгөөр солих уу", "return"},
        {"Энэ цамц байгаа юу", "product_search"},
        {"үнэ нь хэд вэ", "product_search"},
        {"шинэ бараа ирсэн үү", "product_search"},
        {"Оператортой холбоно уу", "handoff"},
        {"хүнтэй ярих", "handoff"},
        {"хүн рүү шилжүүлээч", "handoff"},
        {"ажилтантай холбоорой", "handoff"},
        {"хүнтэй ярихыг хүсч байна", "handoff"},
    });
}

TEST_CASE("the highest-priority intent wins when several match", "[templates]") {
    check_all({
        {"Hi, where is my order?", "order_status"},       // order_status > greeting
        {"My order arrived broken", "complaint"},         // complaint > order_status
        {"I want to return it, let me talk to a human", "handoff"},  // handoff > return
        {"Refund for my order please", "return"},         // return > order_status
        {"Can I pay on delivery?", "payment"},            // payment > shipping
        {"How much is delivery?", "shipping"},            // shipping > product_search
        {"Do you have this in size M?", "size_guide"},    // size_guide > product_search
        {"hello, is this product available", "product_search"},  // product_search > greeting
        {"сайн байна уу, оператор", "handoff"},
        {"захиалга маань эвдэрсэн ирсэн", "complaint"},
        {"захиалгаа буцаах гэсэн юм", "return"},
        {"сайн байна уу, энэ бараа байгаа юу", "product_search"},
    });
}

TEST_CASE("single keywords match whole words only", "[templates]") {
    check_all({
        {"this", "<none>"},        // "hi" inside "this"
        {"Which one", "<none>"},   // "hi" inside "which"
        {"history", "<none>"},
        {"relationship", "<none>"},  // "ship"
        {"cardigan", "<none>"},      // "card"
        {"they", "<none>"},          // "hey"
        {"a fitting room", "<none>"},  // "fit"
        {"shipping", "shipping"},
        {"мэндчилгээ", "<none>"},   // "мэнд" is a whole word, not a stem
        {"үнэн үү", "<none>"},      // "үнэ" must not match "үнэн" (true)
    });
}

TEST_CASE("stems and phrases may run into suffixes", "[templates]") {
    check_all({
        {"захиалгын дугаар", "order_status"},
        {"ТӨЛБӨРӨӨ төлчихлөө", "payment"},
        {"хүргэлтийн хугацаа", "shipping"},
        {"операторт холбоорой", "handoff"},
        {"хүнтэй ярихыг хүсэж байна", "handoff"},
        {"сайн байна ууу", "greeting"},
    });
}

TEST_CASE("matching ignores Latin and Cyrillic case", "[templates]") {
    check_all({
        {"HELLO", "greeting"},
        {"WhErE iS mY pArCeL", "order_status"},
        {"САЙН БАЙНА УУ", "greeting"},
        {"ӨГЛӨӨНИЙ МЭНД", "greeting"},
        {"ҮНЭ", "product_search"},
        {"ТӨЛБӨР", "payment"},
        {"ХҮРГЭЛТ", "shipping"},
        {"ОПЕРАТОР", "handoff"},
    });
}

TEST_CASE("Mongolian typed without ө and ү still matches", "[templates]") {
    check_all({
        {"толбор", "payment"},
        {"хун руу", "handoff"},
        {"унэ", "product_search"},
        {"хургэлт", "shipping"},
    });
}

TEST_CASE("matching tolerates punctuation, emoji and invalid bytes", "[templates]") {
    check_all({
        {"hello!!!", "greeting"},
        {"...order???", "order_status"},
        {"hi,there", "greeting"},
        {"👋hi👋", "greeting"},
        {"where's my parcel", "order_status"},
        {"where\u2019s my parcel", "order_status"},
        {"refund-please", "return"},
        {"сайн уу?!", "greeting"},
        {"\xff hi \xfe", "greeting"},
        {"", "<none>"},
        {"?!", "<none>"},
        {"asdfgh", "<none>"},
    });
}

TEST_CASE("from_json builds a matcher with word, stem and phrase keywords", "[templates]") {
    auto m = intent_matcher::from_json(
        boost::json::parse(R"({"en": {"greeting": ["yo", "what*", "good day"], "handoff": ["boss"]},
                               "mn": {"payment": ["мөнгө"]}})"),
        "custom.json");
    CHECK(name_of(m.match("yo!")) == "greeting");
    CHECK(name_of(m.match("yoyo")) == "<none>");
    CHECK(name_of(m.match("whatever")) == "greeting");
    CHECK(name_of(m.match("a good daytime")) == "greeting");
    CHECK(name_of(m.match("yo boss")) == "handoff");
    CHECK(name_of(m.match("МӨНГӨ")) == "payment");
    CHECK(name_of(m.match("hello")) == "<none>");
    CHECK(m.keyword_count(intent::greeting) == 3);
}

TEST_CASE("an empty matcher matches nothing", "[templates]") {
    intent_matcher m;
    CHECK_FALSE(m.match("hello"));
}

TEST_CASE("from_json refuses malformed catalogs, naming the source and the key", "[templates]") {
    auto msg = catalog_error(R"(["hi"])");
    CHECK_THAT(msg, Catch::Contains("intents-test.json") && Catch::Contains("an array"));

    msg = catalog_error(R"({"fr": {"greeting": ["salut"]}})");
    CHECK_THAT(msg, Catch::Contains("intents-test.json") && Catch::Contains("unknown locale 'fr'"));

    msg = catalog_error(R"({"en": {"greting": ["hi"]}})");
    CHECK_THAT(msg, Catch::Contains("unknown intent 'en.greting'") && Catch::Contains("did you mean 'greeting'"));

    msg = catalog_error(R"({"en": {"fallback": ["hi"]}})");
    CHECK_THAT(msg, Catch::Contains("unknown intent 'en.fallback'"));

    msg = catalog_error(R"({"en": ["hi"]})");
    CHECK_THAT(msg, Catch::Contains("'en' is an array"));

    msg = catalog_error(R"({"en": {"greeting": "hi"}})");
    CHECK_THAT(msg, Catch::Contains("'en.greeting' is a string"));

    msg = catalog_error(R"({"mn": {"greeting": ["сайн", 5]}})");
    CHECK_THAT(msg, Catch::Contains("'mn.greeting[1]' is a number"));

    msg = catalog_error(R"({"en": {"greeting": ["hi", "!!!"]}})");
    CHECK_THAT(msg, Catch::Contains("'en.greeting[1]' has no letter or digit"));
}
