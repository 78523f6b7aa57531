// Unicode helpers of the templates plugin: lowercasing, normalization for matching, script counts.
#include <switchboard/templates/text.hpp>

#include <catch2/catch.hpp>

using switchboard::templates::count_letters;
using switchboard::templates::normalize_for_matching;
using switchboard::templates::utf8_lower;

TEST_CASE("utf8_lower lowercases ASCII and leaves other ASCII alone", "[templates]") {
    CHECK(utf8_lower("Hello, WORLD 123!") == "hello, world 123!");
    CHECK(utf8_lower("") == "");
}

TEST_CASE("utf8_lower lowercases Russian and Mongolian Cyrillic", "[templates]") {
    CHECK(utf8_lower("САЙН БАЙНА УУ") == "сайн байна уу");
    CHECK(utf8_lower("АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ") == "абвгдежзийклмнопрстуфхцчшщъыьэюя");
    CHECK(utf8_lower("Ө") == "ө");
    CHECK(utf8_lower("Ү") == "ү");
    CHECK(utf8_lower("Ё") == "ё");
    CHECK(utf8_lower("ӨГЛӨӨНИЙ МЭНД") == "өглөөний мэнд");
    CHECK(utf8_lower("ҮНЭ ТӨЛБӨР ЁСТОЙ") == "үнэ төлбөр ёстой");
    // Lowercase input stays as it is.
    CHECK(utf8_lower("өүё") == "өүё");
}

TEST_CASE("utf8_lower lowercases Latin-1 letters but not the multiplication sign", "[templates]") {
    CHECK(utf8_lower("ÀÉÖ") == "àéö");
    CHECK(utf8_lower("×") == "×");
}

TEST_CASE("utf8_lower copies emoji and invalid bytes unchanged", "[templates]") {
    CHECK(utf8_lower("HI 👋") == "hi 👋");
    const std::string bad = "A\xff\xfe" "B\xd0";  // stray bytes and a truncated two-byte sequence
    CHECK(utf8_lower(bad) == "a\xff\xfe" "b\xd0");
    // An overlong encoding of 'A' (0xC1 0x81) is invalid and must not be read as "A" → "a".
    CHECK(utf8_lower("\xc1\x81") == "\xc1\x81");
}

TEST_CASE("normalize_for_matching splits on punctuation and emoji and collapses spaces", "[templates]") {
    CHECK(normalize_for_matching("  Hello,   WORLD!!! ") == "hello world");
    CHECK(normalize_for_matching("hi,there") == "hi there");
    CHECK(normalize_for_matching("👋hi👋") == "hi");
    CHECK(normalize_for_matching("where's my order?") == "where s my order");
    CHECK(normalize_for_matching("where\u2019s my order?") == "where s my order");
    CHECK(normalize_for_matching("ORDER_STATUS") == "order status");
    CHECK(normalize_for_matching("...???") == "");
    CHECK(normalize_for_matching("") == "");
    CHECK(normalize_for_matching("order #123") == "order 123");
}

TEST_CASE("normalize_for_matching folds Mongolian letters a Russian keyboard lacks", "[templates]") {
    CHECK(normalize_for_matching("ТӨЛБӨР") == "толбор");
    CHECK(normalize_for_matching("Хүн рүү!") == "хун руу");
    CHECK(normalize_for_matching("Ёстой") == "естой");
    CHECK(normalize_for_matching("Сайн байна уу?") == "сайн байна уу");
}

TEST_CASE("normalize_for_matching treats invalid UTF-8 as a separator", "[templates]") {
    CHECK(normalize_for_matching("hi\xffthere") == "hi there");
    CHECK(normalize_for_matching("\xe2\x82") == "");
}

TEST_CASE("count_letters tells Latin from Cyrillic", "[templates]") {
    auto latin = count_letters("Hello!");
    CHECK(latin.latin == 5);
    CHECK(latin.cyrillic == 0);
    auto mongolian = count_letters("Сайн уу ө ү");
    CHECK(mongolian.cyrillic == 8);
    CHECK(mongolian.latin == 0);
    auto mixed = count_letters("hi сайн");
    CHECK(mixed.latin == 2);
    CHECK(mixed.cyrillic == 4);
    auto none = count_letters("123 👍 ?!");
    CHECK(none.latin == 0);
    CHECK(none.cyrillic == 0);
}
