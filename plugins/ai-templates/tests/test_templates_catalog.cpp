// The tenant's product and FAQ catalog: CSV and YAML read alike, errors with file, line and column,
// search as customers write (Mongolian in either script), and the template reply answering from it.
#include <switchboard/templates/catalog.hpp>
#include <switchboard/templates/responder.hpp>
#include <switchboard/templates/template_store.hpp>

#include <switchboard/sdk/plugin.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <string>

using namespace switchboard::templates;
using switchboard::sdk::plugin_error;

namespace {

const std::string fixtures = std::string(SWITCHBOARD_SOURCE_DIR) + "/tests/fixtures/catalog/";

std::string names(const std::vector<const catalog_entry*>& found) {
    std::string out;
    for (auto* e : found) out += (out.empty() ? "" : " | ") + e->name;
    return out;
}

std::string csv_error(const char* text) {
    try {
        product_catalog::parse_csv(text, "shop.csv");
    } catch (const plugin_error& e) {
        return e.what();
    }
    return "accepted";
}

std::string yaml_error(const char* text) {
    try {
        product_catalog::parse_yaml(text, "shop.yaml");
    } catch (const plugin_error& e) {
        return e.what();
    }
    return "accepted";
}

}  // namespace

TEST_CASE("a catalog reads the same from CSV and YAML", "[templates][catalog]") {
    auto csv = product_catalog::load_file(fixtures + "nomad-outfitters.csv");
    auto yaml = product_catalog::load_file(fixtures + "nomad-outfitters.yaml");
    REQUIRE(csv.entries().size() == 5);
    REQUIRE(yaml.entries().size() == 5);
    for (std::size_t i = 0; i < 5; ++i) {
        const auto &a = csv.entries()[i], &b = yaml.entries()[i];
        CHECK(a.name == b.name);
        CHECK(a.price == b.price);
        CHECK(a.stock == b.stock);
        CHECK(a.description == b.description);
        CHECK(a.keywords == b.keywords);
    }
    CHECK(csv.entries()[0].description == "Goose down, -40°C rated, black or navy");  // a quoted comma
    CHECK(csv.entries()[3].stock == std::nullopt);
    CHECK(csv.entries()[4].price.empty());  // an FAQ entry
    CHECK(csv.entries()[2].line == 4);
}

TEST_CASE("catalog search finds entries as customers name them, in stock first", "[templates][catalog]") {
    auto c = product_catalog::load_file(fixtures + "nomad-outfitters.csv");
    CHECK(names(c.search("how much is the winter jacket?")) == "Winter down jacket");
    CHECK(names(c.search("куртка хэд вэ")) == "Winter down jacket");
    CHECK(names(c.search("kurtka bga yu")) == "Winter down jacket");
    CHECK(names(c.search("gutal bnuu")) == "Felt boots (gutal)");
    CHECK(names(c.search("scarf or socks?")) == "Yak wool socks | Cashmere scarf");  // the scarf is sold out
    CHECK(names(c.search("хүргэлт хэд хоног")) == "Delivery in Ulaanbaatar");
    CHECK(c.search("hello").empty());
    CHECK(describe(c.entries()[0], "en") == "Winter down jacket — 289000 (in stock: 4): Goose down, -40°C rated, black or navy");
    CHECK(describe(c.entries()[1], "mn") == "Cashmere scarf — 89000 (дууссан): Gobi cashmere, 180 cm");
    CHECK(describe(c.entries()[4], "en") == "Delivery in Ulaanbaatar: Free over 100000, otherwise 5000; 1-2 days");
}

TEST_CASE("catalog errors name the file, the line and the column", "[templates][catalog]") {
    CHECK(csv_error("") == "shop.csv:1: the file is empty: it needs a header row such as name,price,stock,description,keywords");
    CHECK_THAT(csv_error("name,prise\nJacket,10\n"), Catch::Contains("shop.csv:1: unknown column 'prise'") &&
                                                      Catch::Contains("did you mean 'price'"));
    CHECK(csv_error("price\n10\n") == "shop.csv:1: the header has no 'name' column");
    CHECK(csv_error("name,price\nJacket,ten\n") == "shop.csv:2: 'price' must be a number such as 45000 or 12.50, got 'ten'");
    CHECK_THAT(csv_error("name,stock\nJacket,ok\nBoots,-1\n"), Catch::StartsWith("shop.csv:2: 'stock' must be a whole number"));
    CHECK(csv_error("name,price\nJacket,10,extra\n") == "shop.csv:2: has 3 fields, the header 2");
    CHECK(csv_error("name,price\n,10\n") == "shop.csv:2: 'name' is empty: every entry needs one");
    CHECK_THAT(csv_error("name,price\n\"Jacket,10\n"), Catch::StartsWith("shop.csv:") && Catch::Contains("malformed CSV"));
    CHECK(csv_error("name,keywords\nJacket,!!\n") == "shop.csv:2: keyword '!!' has no letter or digit to match");
    CHECK(csv_error("name,description\n\"Multi\nline\",x\nBoots,y\nHat,z\n") == "accepted");
    CHECK(csv_error("name,stock\n\"Multi\nline\",1\nBoots,x\n") == "shop.csv:4: 'stock' must be a whole number of 0 or more (or empty: not tracked), got 'x'");

    CHECK_THAT(yaml_error("products: {name: x}"), Catch::StartsWith("shop.yaml:1: expected a list of entries"));
    CHECK_THAT(yaml_error("- name: Jacket\n  prise: 10\n"), Catch::StartsWith("shop.yaml:2: unknown key 'prise'"));
    CHECK(yaml_error("- name: Jacket\n- name: Boots\n  price: free\n") ==
          "shop.yaml:3: 'price' must be a number such as 45000 or 12.50, got 'free'");
    CHECK_THAT(yaml_error("- name: [a\n"), Catch::StartsWith("shop.yaml:") && Catch::Contains("not valid YAML"));
    CHECK_THROWS_WITH(product_catalog::load_file(fixtures + "missing.csv"), Catch::Contains("cannot be read"));
    CHECK_THROWS_WITH(product_catalog::load_file(fixtures + "../catalog"), Catch::Contains("cannot be read") || Catch::Contains(".csv, .yaml"));
}

TEST_CASE("templates.reply answers product questions from the tenant's catalog", "[templates][catalog]") {
    responder_config config;
    config.catalog = std::make_shared<const product_catalog>(product_catalog::load_file(fixtures + "nomad-outfitters.yaml"));
    const auto& matcher = intent_matcher::shipped();
    auto event = [](const char* text) {
        return boost::json::object{{"type", "message.received"}, {"channel", "messenger"},
                                   {"provider_message_id", "m-1"}, {"contact", {{"provider_id", "psid-1"}}},
                                   {"conversation", {{"id", 1}, {"escalated", false}}}, {"text", text}};
    };
    auto reply = respond(event("how much is the winter jacket?"), config, template_store::shipped(), matcher);
    REQUIRE(reply.size() == 1);
    CHECK(reply[0].at("intent") == "product_search");
    CHECK(reply[0].at("text") == "Here is what we have:\n• Winter down jacket — 289000 (in stock: 4): Goose down, -40°C rated, black or navy");
    auto mn = respond(event("гутал байгаа юу"), config, template_store::shipped(), matcher);
    CHECK(mn[0].at("text").as_string().starts_with("Манайд байгаа:\n• Felt boots (gutal) — 159000 (үлдэгдэл: 12)"));
    // Nothing in the catalog: the generic product reply.
    auto generic = respond(event("how much is the red dress?"), config, template_store::shipped(), matcher);
    CHECK(std::string(generic[0].at("text").as_string()) == template_store::shipped().text(locale::en, intent::product_search));
    // A greeting stays a greeting.
    CHECK(respond(event("hello"), config, template_store::shipped(), matcher)[0].at("intent") == "greeting");
}
