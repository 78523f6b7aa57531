// How customers spell: folding, Latin-script Mongolian, abbreviations, typos — and the accuracy
// of the shipped intent catalog on the labelled customer messages under tests/data/intents/.
#include <switchboard/templates/evaluation.hpp>
#include <switchboard/templates/spelling.hpp>
#include <switchboard/templates/text.hpp>

#include <switchboard/sdk/plugin.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace switchboard::templates;

namespace {

std::string joined(const std::vector<word>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : " ") + u32_to_utf8(w);
    return out;
}

std::string transliterated(const char* text) { return joined(forms_for_matching(normalize_for_matching(text)).transliterated); }
std::string as_written(const char* text) { return joined(forms_for_matching(normalize_for_matching(text)).as_written); }

std::string name_of(std::optional<intent> i) { return i ? std::string(intent_name(*i)) : std::string("<none>"); }

}  // namespace

TEST_CASE("Cyrillic folding makes the spellings customers mix up agree", "[templates][spelling]") {
    CHECK(u32_to_utf8(fold_cyrillic(U"хүргэлтийн")) == "хургелтин");
    CHECK(u32_to_utf8(fold_cyrillic(U"төлбөр")) == "толбор");
    CHECK(u32_to_utf8(fold_cyrillic(U"захиалгыг")) == "захиалгиг");
    CHECK(u32_to_utf8(fold_cyrillic(U"ярь")) == "яр");
    CHECK(u32_to_utf8(fold_cyrillic(U"гэмтсэн")) == "гемцен");
    CHECK(fold_cyrillic(U"ь").empty());
    CHECK(u32_to_utf8(fold_cyrillic(U"order")) == "order");
}

TEST_CASE("Latin-typed Mongolian reads as Cyrillic", "[templates][spelling]") {
    CHECK(transliterated("sain bn uu") == "саин баина уу");
    CHECK(transliterated("une hed ve") == "уне хед ве");
    CHECK(transliterated("vne hed we") == "уне хед ве");
    CHECK(transliterated("zahialga haana yavj bn") == "захиалга хаана явж баина");
    CHECK(transliterated("hurgelt hezee irex ve") == "хургелт хезее ирех ве");
    CHECK(transliterated("hvrgelt") == "хургелт");
    CHECK(transliterated("tolbor") == "толбор");
    CHECK(transliterated("qngq") == "онго");
    CHECK(transliterated("avmaar") == "авмаар");
    CHECK(transliterated("tseneglegch") == "ценеглегч");
    CHECK(transliterated("gemtsen") == "гемцен");
    CHECK(transliterated("shuu") == "шуу");
    CHECK(transliterated("bolhu") == "болох уу");
    // Cyrillic words of a mixed message stay as they are; Latin ones are read as Mongolian.
    CHECK(transliterated("zahialga маань haana") == "захиалга маан хаана");  // ь folded away
    // Without a Latin word there is no second reading.
    CHECK(transliterated("сайн байна уу").empty());
    CHECK(as_written("сн бну") == "саин баина уу");
    CHECK(as_written("Hello THERE") == "hello there");
}

TEST_CASE("one typo is one typo, not two", "[templates][spelling]") {
    CHECK(within_one_typo(U"delivery", U"delivry", false));
    CHECK(within_one_typo(U"refund", U"refnud", false));   // swapped
    CHECK(within_one_typo(U"refund", U"refnd", false));    // missing
    CHECK(within_one_typo(U"refund", U"reefund", false));  // added
    CHECK(within_one_typo(U"refund", U"refind", false));   // wrong
    CHECK_FALSE(within_one_typo(U"refund", U"rfnd", false));
    CHECK_FALSE(within_one_typo(U"refund", U"fundre", false));
    CHECK(within_one_typo(U"тулбур", U"толбор", true));    // о and у are one letter when loose
    CHECK_FALSE(within_one_typo(U"тулбур", U"толбор", false));
}

TEST_CASE("the matcher understands Latin-script Mongolian, word forms, typos and mixed scripts", "[templates][spelling]") {
    const auto& m = intent_matcher::shipped();
    const std::vector<std::pair<const char*, const char*>> cases = {
        {"sain bn uu", "greeting"},
        {"sn bnu", "greeting"},
        {"une hed ve", "product_search"},
        {"zahialga haana yavj bn", "order_status"},
        {"hurgelt hezee irex ve", "order_status"},  // when will it arrive: the order
        {"hurgelt hed honog boldog ve", "shipping"},
        {"tulbur yaj tuluh ve", "payment"},
        {"butsaaj boloh uu", "return"},
        {"operatortoi holbooch", "handoff"},
        {"хүргэлтийн төлбөр хэд вэ", "shipping"},  // a delivery fee: shipping, though төлбөр is payment
        {"hurgeltiin tulbur hed ve", "shipping"},
        {"qpay-аар төлж болох уу", "payment"},
        {"dress ний үнэ хэд вэ", "product_search"},
        {"захиалгаа цуцлуулъя", "return"},
        {"where is my delivry", "order_status"},
        {"i want a refnd", "return"},
        {"hiii", "greeting"},
        {"heyyy", "greeting"},
        {"thanks a lot", "<none>"},
        {"which one", "<none>"},  // "one" read loosely is not үнэ
        {"за баярлалаа", "<none>"},
        {"ok bayarlalaa", "<none>"},
        {"болох уу", "<none>"},  // one letter from төлөх: not payment
    };
    for (const auto& [text, expected] : cases) {
        INFO("message: " << text);
        CHECK(name_of(m.match(text)) == expected);
    }
}

TEST_CASE("a labelled set is read with file and line in its errors", "[templates][spelling]") {
    namespace fs = std::filesystem;
    const fs::path file = fs::temp_directory_path() / "switchboard-labelled-test.tsv";
    auto refused = [&](const std::string& content) {
        std::ofstream(file, std::ios::binary) << content;
        try {
            read_labelled_set(file);
        } catch (const switchboard::sdk::plugin_error& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    std::ofstream(file, std::ios::binary) << "# comment\n\ngreeting\thi\r\nreturn\trefund pls\n";
    auto set = read_labelled_set(file);
    REQUIRE(set.size() == 2);
    CHECK(set[0].expected == intent::greeting);
    CHECK(set[0].text == "hi");
    CHECK(set[1].line == 4);
    CHECK_THAT(refused("greeting hi\n"), Catch::Contains(":1: expected 'label<TAB>message'"));
    CHECK_THAT(refused("greting\thi\n"), Catch::Contains(":1: unknown label 'greting'") && Catch::Contains("greeting"));
    CHECK_THAT(refused("# x\nattachment\thi\n"), Catch::Contains(":2: unknown label 'attachment'"));
    CHECK_THAT(refused("greeting\t\n"), Catch::Contains("the message is empty"));
    fs::remove(file);
}

// The floor the shipped catalog must hold on the labelled customer messages of every language
// group (bench/template_intents prints the figures, the held-out sets included).
TEST_CASE("the shipped catalog recognises at least 90 % of each language group's labelled messages", "[templates][spelling]") {
    const std::filesystem::path dir = std::filesystem::path(SWITCHBOARD_SOURCE_DIR) / "tests/data/intents";
    for (const char* group : {"en", "mn_cyrillic", "mn_latin"}) {
        const auto set = read_labelled_set(dir / (std::string(group) + ".tsv"));
        const evaluation e = evaluate(intent_matcher::shipped(), set);
        std::string misses;
        for (const auto& [m, chosen] : e.misses)
            misses += "\n  line " + std::to_string(m->line) + ": expected " + std::string(intent_name(m->expected)) +
                      ", chose " + std::string(intent_name(chosen)) + ": " + m->text;
        INFO(group << ": " << e.correct << "/" << e.total << misses);
        CHECK(e.total >= 100);
        CHECK(e.accuracy() >= 0.90);
        CHECK(e.confidently_wrong * 50 <= e.total);  // at most 2 % confidently wrong
        for (intent i : all_intents)
            if (e.expected_count[index_of(i)] == 0) CHECK((i == intent::attachment));
    }
}
