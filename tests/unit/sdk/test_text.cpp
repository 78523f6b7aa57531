// The SDK's shared text helpers: did-you-mean, constant-time compare, UTF-8 validation and repair,
// lone surrogate repair, printable rendering of untrusted strings.
#include <switchboard/sdk/host_rules.hpp>
#include <switchboard/sdk/text.hpp>

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <array>
#include <string>
#include <vector>

using namespace switchboard::sdk::text;

TEST_CASE("edit distance and did-you-mean", "[sdk][text]") {
    CHECK(edit_distance("", "") == 0);
    CHECK(edit_distance("kitten", "sitting") == 3);
    CHECK(edit_distance("greting", "greeting") == 1);
    std::vector<std::string> keys{"listen", "threads", "max_body_bytes"};
    CHECK(did_you_mean("listn", keys) == "listen");
    CHECK(did_you_mean("max_body_byte", keys) == "max_body_bytes");
    CHECK_FALSE(did_you_mean("completely_different", keys));
    std::array<std::string_view, 2> views{"en", "mn"};
    CHECK(did_you_mean("mm", views) == "mn");
}

TEST_CASE("constant-time equality", "[sdk][text]") {
    CHECK(constant_time_equal("secret", "secret"));
    CHECK_FALSE(constant_time_equal("secret", "secreT"));
    CHECK_FALSE(constant_time_equal("secret", "secret2"));
    CHECK_FALSE(constant_time_equal("", "x"));
    CHECK(constant_time_equal("", ""));
}

TEST_CASE("UTF-8 validation follows RFC 3629", "[sdk][text]") {
    CHECK(is_valid_utf8("plain ascii"));
    CHECK(is_valid_utf8("Сайн байна уу 👋"));
    CHECK_FALSE(is_valid_utf8("caf\xe9"));              // Latin-1 byte
    CHECK_FALSE(is_valid_utf8("\xc0\xaf"));             // overlong '/'
    CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));         // encoded surrogate U+D800
    CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));     // above U+10FFFF
    CHECK_FALSE(is_valid_utf8("\xe2\x82"));             // truncated
}

TEST_CASE("invalid bytes become U+FFFD, valid text is unchanged", "[sdk][text]") {
    CHECK(to_valid_utf8("Сайн 👋") == "Сайн 👋");
    CHECK(to_valid_utf8("caf\xe9!") == "caf\xef\xbf\xbd!");
    CHECK(to_valid_utf8("\xe2\x82") == "\xef\xbf\xbd\xef\xbf\xbd");
    CHECK(is_valid_utf8(to_valid_utf8("\xff\xfe\xc0\xaf ok")));
}

TEST_CASE("lone surrogate escapes are repaired, pairs and escaped backslashes are kept", "[sdk][text]") {
    CHECK(repair_lone_surrogates(R"({"t":"hi \ud83d there"})") == R"({"t":"hi \uFFFD there"})");
    CHECK(repair_lone_surrogates(R"({"t":"\ude00"})") == R"({"t":"\uFFFD"})");
    CHECK(repair_lone_surrogates(R"({"t":"\ud83d\ude00"})") == R"({"t":"\ud83d\ude00"})");
    CHECK(repair_lone_surrogates(R"({"t":"C:\\ud83d"})") == R"({"t":"C:\\ud83d"})");
    CHECK(repair_lone_surrogates(R"({"t":"\u00e9"})") == R"({"t":"\u00e9"})");
    // What Boost.JSON refused now parses, with only the one character lost.
    auto v = boost::json::parse(repair_lone_surrogates(R"({"t":"a\ud83db"})"));
    CHECK(v.at("t").as_string() == "a\xef\xbf\xbd" "b");
    CHECK(repair_lone_surrogates("\\ud83d outside a string") == "\\ud83d outside a string");
}

TEST_CASE("printable() makes untrusted strings safe for logs and error bodies", "[sdk][text]") {
    CHECK(printable("tenant-1") == "tenant-1");
    CHECK(printable(std::string("ev\0il\x1b[2J", 9)) == "ev?il?[2J");
    CHECK(printable(std::string(100, 'a'), 8) == "aaaaaaaa...");
}

TEST_CASE("complete_event fills tenant and channel and survives invalid UTF-8", "[sdk][text]") {
    std::string emitted = "{\"type\":\"message.received\",\"text\":\"caf\xe9\"}";
    auto o = switchboard::sdk::complete_event({emitted.data(), emitted.size()}, "demo", "messenger");
    CHECK(o.at("tenant").as_string() == "demo");
    CHECK(o.at("channel").as_string() == "messenger");
    CHECK(o.at("text").as_string() == "caf\xef\xbf\xbd");
    std::string not_object = "[1]";
    CHECK_THROWS_WITH(switchboard::sdk::complete_event({not_object.data(), not_object.size()}, "demo", "x"),
                      "emitted value is not a JSON object");
}

TEST_CASE("repaired_json_text copies only what needs repair", "[sdk][text]") {
    CHECK_FALSE(repaired_json_text(R"({"t":"plain \u00e9 and Сайн"})"));
    CHECK(repaired_json_text(R"({"t":"\ud83d"})") == std::optional<std::string>(R"({"t":"\uFFFD"})"));
    CHECK(repaired_json_text(R"({"t":"\ud83d\ude00"})") == std::optional<std::string>(R"({"t":"\ud83d\ude00"})"));
    CHECK(repaired_json_text("{\"t\":\"caf\xe9\"}") == std::optional<std::string>("{\"t\":\"caf\xef\xbf\xbd\"}"));
}
