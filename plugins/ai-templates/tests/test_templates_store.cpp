// Reply templates of the templates plugin: the shipped set, placeholder rendering, and override files.
#include <switchboard/templates/template_store.hpp>
#include <switchboard/templates/text.hpp>

#include <switchboard/sdk/plugin.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <unistd.h>

using namespace switchboard::templates;
using switchboard::sdk::error_kind;
using switchboard::sdk::plugin_error;
namespace fs = std::filesystem;

namespace {

// A directory of its own under the system temp dir, removed with everything in it.
class temp_dir {
public:
    temp_dir() {
        static std::atomic<int> counter{0};
        path_ = fs::temp_directory_path() /
                ("switchboard-templates-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    std::string write(const std::string& name, const std::string& content) const {
        auto p = path_ / name;
        std::ofstream(p, std::ios::binary) << content;
        return p.string();
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

// Applies an override file and returns the plugin_error message; fails the test if nothing is thrown.
std::string override_error(template_store& store, const std::string& path) {
    try {
        store.apply_overrides_file(path);
    } catch (const plugin_error& e) {
        CHECK(e.kind() == error_kind::invalid);
        return e.what();
    }
    FAIL("apply_overrides_file accepted " << path);
    return {};
}

std::string rendered(std::string_view tmpl, std::string_view business, std::string_view contact) {
    const placeholder values[] = {{"business_name", business}, {"contact_name", contact}};
    return render(tmpl, values);
}

}  // namespace

TEST_CASE("the shipped replies cover every intent in English and Mongolian", "[templates]") {
    const template_store store = template_store::shipped();
    CHECK(store.missing().empty());
    for (locale l : all_locales)
        for (intent i : all_intents) {
            INFO(locale_code(l) << "." << intent_name(i));
            const std::string& text = store.text(l, i);
            REQUIRE_FALSE(text.empty());
            auto letters = count_letters(text);
            if (l == locale::mn)
                CHECK(letters.cyrillic > letters.latin);
            else
                CHECK(letters.cyrillic == 0);
        }
}

TEST_CASE("the shipped replies use only the placeholders the responder fills", "[templates]") {
    const template_store store = template_store::shipped();
    const std::regex brace(R"(\{([a-z0-9_]+)\})");
    const std::set<std::string> known = {"business_name", "contact_name"};
    for (locale l : all_locales)
        for (intent i : all_intents) {
            const std::string& text = store.text(l, i);
            for (std::sregex_iterator it(text.begin(), text.end(), brace), end; it != end; ++it) {
                INFO(locale_code(l) << "." << intent_name(i) << " uses " << it->str());
                CHECK(known.count((*it)[1].str()) == 1);
            }
        }
    // The greeting addresses the shop in both languages.
    CHECK_THAT(store.text(locale::en, intent::greeting), Catch::Contains("{business_name}"));
    CHECK_THAT(store.text(locale::mn, intent::greeting), Catch::Contains("{business_name}"));
}

TEST_CASE("the shipped handoff notice and fallback tell the customer what happens next", "[templates]") {
    const template_store store = template_store::shipped();
    CHECK_THAT(store.text(locale::en, intent::handoff), Catch::Contains("team"));
    CHECK_THAT(store.text(locale::mn, intent::handoff), Catch::Contains("ажилтан"));
    CHECK_THAT(store.text(locale::en, intent::fallback), Catch::Contains("operator"));
    CHECK_THAT(store.text(locale::mn, intent::fallback), Catch::Contains("оператор"));
}

TEST_CASE("render substitutes known placeholders", "[templates]") {
    CHECK(rendered("Hi {contact_name}! Welcome to {business_name}.", "Nomin", "Bold") == "Hi Bold! Welcome to Nomin.");
    CHECK(rendered("{business_name}{contact_name}", "A", "B") == "AB");
    CHECK(rendered("{contact_name}", "A", "Болд") == "Болд");
    CHECK(rendered("no placeholders", "A", "B") == "no placeholders");
    CHECK(rendered("", "A", "B") == "");
}

TEST_CASE("render leaves unknown placeholders and stray braces as written", "[templates]") {
    CHECK(rendered("Order {order_id} for {contact_name}", "A", "Bold") == "Order {order_id} for Bold");
    CHECK(rendered("{Business_Name}", "A", "B") == "{Business_Name}");
    CHECK(rendered("{} { } {", "A", "B") == "{} { } {");
    CHECK(rendered("{business_name", "A", "B") == "{business_name");
    CHECK(rendered("{{business_name}}", "A", "B") == "{A}");
    CHECK(rendered("тест {үнэ}", "A", "B") == "тест {үнэ}");
}

TEST_CASE("render is a single pass: values are never rendered again", "[templates]") {
    CHECK(rendered("Hi {contact_name}", "Shop", "{business_name}") == "Hi {business_name}");
}

TEST_CASE("render drops the space before an empty value", "[templates]") {
    CHECK(rendered("Hi {contact_name}!", "A", "") == "Hi!");
    CHECK(rendered("Сайн байна уу {contact_name}! Тавтай", "A", "") == "Сайн байна уу! Тавтай");
    CHECK(rendered("Уучлаарай {contact_name}, ийм", "A", "") == "Уучлаарай, ийм");
    CHECK(rendered("{contact_name}", "A", "") == "");
    CHECK(rendered("Dear {contact_name} thanks", "A", "") == "Dear thanks");
}

TEST_CASE("apply_overrides replaces only the entries it names", "[templates]") {
    template_store store = template_store::shipped();
    const std::string mn_greeting = store.text(locale::mn, intent::greeting);
    const std::string en_fallback = store.text(locale::en, intent::fallback);
    store.apply_overrides(boost::json::parse(R"({"en": {"greeting": "Yo {contact_name}"}, "mn": {}})"), "test");
    CHECK(store.text(locale::en, intent::greeting) == "Yo {contact_name}");
    CHECK(store.text(locale::mn, intent::greeting) == mn_greeting);
    CHECK(store.text(locale::en, intent::fallback) == en_fallback);
    CHECK(store.missing().empty());
}

TEST_CASE("an empty store reports every entry as missing", "[templates]") {
    template_store store;
    auto missing = store.missing();
    CHECK(missing.size() == locale_count * intent_count);
    CHECK(missing.front() == "en.handoff");
    CHECK(missing.back() == "mn.attachment");
}

TEST_CASE("apply_overrides_file reads a good override file", "[templates]") {
    temp_dir dir;
    const std::string path = dir.write("replies.json", R"({
  "mn": {"greeting": "Сайн уу {contact_name}! {business_name} байна.", "fallback": "Ойлгосонгүй."},
  "en": {"attachment": "Got it."}
})");
    template_store store = template_store::shipped();
    const std::string en_greeting = store.text(locale::en, intent::greeting);
    store.apply_overrides_file(path);
    CHECK(store.text(locale::mn, intent::greeting) == "Сайн уу {contact_name}! {business_name} байна.");
    CHECK(store.text(locale::mn, intent::fallback) == "Ойлгосонгүй.");
    CHECK(store.text(locale::en, intent::attachment) == "Got it.");
    CHECK(store.text(locale::en, intent::greeting) == en_greeting);
}

TEST_CASE("the shipped replies.json is itself a valid override file", "[templates]") {
    // Admins copy share/templates/replies.json to start an override.
    const fs::path shipped = fs::path(SWITCHBOARD_SOURCE_DIR) / "share" / "templates" / "replies.json";
    REQUIRE(fs::exists(shipped));
    template_store store;
    store.apply_overrides_file(shipped.string());
    CHECK(store.missing().empty());
    const template_store embedded = template_store::shipped();
    for (locale l : all_locales)
        for (intent i : all_intents) CHECK(store.text(l, i) == embedded.text(l, i));
}

TEST_CASE("apply_overrides_file refuses a file it cannot read", "[templates]") {
    temp_dir dir;
    template_store store = template_store::shipped();
    const std::string missing = (dir.path() / "nope.json").string();
    auto msg = override_error(store, missing);
    CHECK_THAT(msg, Catch::Contains("templates_file '" + missing + "'") && Catch::Contains("cannot open"));

    msg = override_error(store, dir.path().string());
    CHECK_THAT(msg, Catch::Contains(dir.path().string()) && Catch::Contains("is a directory"));
}

TEST_CASE("apply_overrides_file refuses bad JSON with its position", "[templates]") {
    temp_dir dir;
    template_store store = template_store::shipped();

    std::string path = dir.write("trailing-comma.json", "{\n  \"en\": {\n    \"greeting\": \"Hi\",\n  }\n}\n");
    auto msg = override_error(store, path);
    CHECK_THAT(msg, Catch::Contains(path) && Catch::Contains("invalid JSON at line 4"));

    path = dir.write("truncated.json", "{\"en\": {\"greeting\": \"Hi\"}");
    msg = override_error(store, path);
    CHECK_THAT(msg, Catch::Contains(path) && Catch::Contains("invalid JSON"));

    path = dir.write("empty.json", "");
    msg = override_error(store, path);
    CHECK_THAT(msg, Catch::Contains(path) && Catch::Contains("invalid JSON at line 1, column 1"));

    path = dir.write("two-documents.json", "{\"en\": {}}\n{\"mn\": {}}");
    msg = override_error(store, path);
    CHECK_THAT(msg, Catch::Contains(path) && Catch::Contains("text after the JSON document at line 2, column 1"));
}

TEST_CASE("apply_overrides_file refuses unknown locales and intents, naming the key", "[templates]") {
    temp_dir dir;
    template_store store = template_store::shipped();

    std::string path = dir.write("locale.json", R"({"en": {"greeting": "Hi"}, "fr": {"greeting": "Salut"}})");
    auto msg = override_error(store, path);
    CHECK_THAT(msg, Catch::Contains(path) && Catch::Contains("unknown locale 'fr'") && Catch::Contains("use en or mn"));

    path = dir.write("locale-typo.json", R"({"mm": {"greeting": "Сайн уу"}})");
    msg = override_error(store, path);
    CHECK_THAT(msg, Catch::Contains("unknown locale 'mm'") && Catch::Contains("did you mean 'mn'"));

    path = dir.write("intent.json", R"({"mn": {"greting": "Сайн уу"}})");
    msg = override_error(store, path);
    CHECK_THAT(msg, Catch::Contains(path) && Catch::Contains("unknown intent 'mn.greting'") &&
                        Catch::Contains("did you mean 'greeting'") && Catch::Contains("size_guide"));

    path = dir.write("intent-far.json", R"({"en": {"weather": "Sunny"}})");
    msg = override_error(store, path);
    CHECK_THAT(msg, Catch::Contains("unknown intent 'en.weather'") && !Catch::Contains("did you mean"));
}

TEST_CASE("apply_overrides_file refuses entries of the wrong shape, naming the key", "[templates]") {
    temp_dir dir;
    template_store store = template_store::shipped();

    std::string path = dir.write("array.json", R"([{"en": {}}])");
    auto msg = override_error(store, path);
    CHECK_THAT(msg, Catch::Contains(path) && Catch::Contains("the document is an array"));

    path = dir.write("locale-string.json", R"({"en": "Hi"})");
    msg = override_error(store, path);
    CHECK_THAT(msg, Catch::Contains(path) && Catch::Contains("'en' is a string"));

    path = dir.write("number.json", R"({"en": {"greeting": 5}})");
    msg = override_error(store, path);
    CHECK_THAT(msg, Catch::Contains(path) && Catch::Contains("'en.greeting' is a number"));

    path = dir.write("empty-text.json", R"({"mn": {"fallback": ""}})");
    msg = override_error(store, path);
    CHECK_THAT(msg, Catch::Contains(path) && Catch::Contains("'mn.fallback' is empty"));
}

TEST_CASE("a refused override file leaves the store unchanged", "[templates]") {
    temp_dir dir;
    template_store store = template_store::shipped();
    const std::string before = store.text(locale::en, intent::greeting);
    // The good entry comes first: it must not be applied when a later one is refused.
    const std::string path = dir.write("half.json", R"({"en": {"greeting": "Changed", "nonsense": "x"}})");
    override_error(store, path);
    CHECK(store.text(locale::en, intent::greeting) == before);
}

TEST_CASE("edit_distance counts single-character edits", "[templates]") {
    CHECK(edit_distance("", "") == 0);
    CHECK(edit_distance("greeting", "greeting") == 0);
    CHECK(edit_distance("greting", "greeting") == 1);
    CHECK(edit_distance("mm", "mn") == 1);
    CHECK(edit_distance("abc", "") == 3);
    CHECK(edit_distance("kitten", "sitting") == 3);
}
