// The SDK's encodings and signatures, checked against independent vectors: RFC 4648 (base64,
// base64url, hex), RFC 4231 / RFC 2202 (HMAC-SHA256 / HMAC-SHA1), RFC 7617 (Basic), the Twilio
// request validator's own test vectors (form parameters + HMAC-SHA1 + base64), and a Bitrix24
// outgoing-webhook form body with bracket keys.
#include <switchboard/sdk/codec.hpp>
#include <switchboard/sdk/crypto.hpp>

#include <catch2/catch.hpp>

#include <algorithm>

namespace codec = switchboard::sdk::codec;
namespace crypto = switchboard::sdk::crypto;
namespace json = boost::json;

TEST_CASE("base64, base64url and hex follow RFC 4648's test vectors", "[sdk][codec]") {
    const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                           {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                                           {"foobar", "Zm9vYmFy"}};
    for (auto [plain, encoded] : vectors) {
        CHECK(codec::base64_encode(plain) == encoded);
        CHECK(codec::base64_decode(encoded) == std::string(plain));
    }
    CHECK(codec::hex_encode("foobar") == "666f6f626172");
    CHECK(codec::hex_decode("666F6F626172") == std::string("foobar"));
    CHECK_FALSE(codec::hex_decode("6"));
    CHECK_FALSE(codec::hex_decode("zz"));
    const std::string bytes("\xfb\xff\xfe", 3);
    CHECK(codec::base64_encode(bytes) == "+//+");
    CHECK(codec::base64url_encode(bytes) == "-__-");
    CHECK(codec::base64url_decode("-__-") == bytes);
    CHECK(codec::base64url_encode("f") == "Zg"); // unpadded
    CHECK(codec::base64url_decode("Zg") == std::string("f"));
    CHECK(codec::base64_decode("Zg") == std::string("f")); // padding optional
    CHECK_FALSE(codec::base64_decode("Zm9v!"));
    CHECK_FALSE(codec::base64_decode("Z"));
    CHECK_FALSE(codec::base64url_decode("+//+"));
    CHECK_FALSE(codec::base64_decode("Zg=a"));
}

TEST_CASE("HMAC and Basic credentials follow their RFCs' test vectors", "[sdk][crypto]") {
    const std::string data = "what do ya want for nothing?";
    CHECK(codec::hex_encode(crypto::hmac_sha256("Jefe", data)) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"); // RFC 4231 case 2
    CHECK(codec::hex_encode(crypto::hmac_sha1("Jefe", data)) == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"); // RFC 2202
    CHECK(codec::hex_encode(crypto::sha256("abc")) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"); // FIPS 180-2
    CHECK(crypto::basic_auth("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="); // RFC 7617
}

TEST_CASE("form fields sign like Twilio's request validator", "[sdk][codec][crypto]") {
    // twilio-python tests/unit/test_request_validator.py: sorted name+value pairs after the URL.
    auto fields = codec::form_decode("CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309"
                                     "&To=%2B18005551212");
    REQUIRE(fields.size() == 5);
    CHECK(codec::form_value(fields, "Caller") == std::string("+14158675309"));
    auto sorted = fields;
    std::sort(sorted.begin(), sorted.end());
    std::string signed_text = "https://mycompany.com/myapp.php?foo=1&bar=2";
    for (auto& [k, v] : sorted) signed_text += k + v;
    CHECK(codec::base64_encode(crypto::hmac_sha1("12345", signed_text)) == "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
}

TEST_CASE("form encoding round-trips and escapes as browsers do", "[sdk][codec]") {
    codec::form_fields fields{{"a b", "x+y&z=1"}, {"empty", ""}, {"utf8", "Сайн"}, {"safe", "A-z_0.9*"}};
    auto body = codec::form_encode(fields);
    CHECK(body == "a+b=x%2By%26z%3D1&empty=&utf8=%D0%A1%D0%B0%D0%B9%D0%BD&safe=A-z_0.9*");
    CHECK(codec::form_decode(body) == fields);
    CHECK(codec::form_decode("a&&b=1&=2&c=%zz%4") ==
          codec::form_fields{{"a", ""}, {"b", "1"}, {"", "2"}, {"c", "%zz%4"}});
}

TEST_CASE("bracket keys nest into JSON and back (Bitrix24 outgoing webhooks)", "[sdk][codec]") {
    // The shape Bitrix24 posts for ONCRMLEADADD (event, data[FIELDS][ID], auth[...]).
    auto fields = codec::form_decode("event=ONCRMLEADADD&data%5BFIELDS%5D%5BID%5D=42&ts=1700000000"
                                     "&auth%5Bdomain%5D=example.bitrix24.com&auth%5Bapplication_token%5D=tok"
                                     "&tags[]=a&tags[]=b&phones[0][VALUE]=%2B976&phones[0][TYPE]=WORK");
    auto o = codec::form_to_json(fields);
    CHECK(o == json::parse(R"({"event":"ONCRMLEADADD","data":{"FIELDS":{"ID":"42"}},"ts":"1700000000",
        "auth":{"domain":"example.bitrix24.com","application_token":"tok"},"tags":["a","b"],
        "phones":{"0":{"VALUE":"+976","TYPE":"WORK"}}})"));
    auto flat = codec::json_to_form(json::parse(R"({"fields":{"TITLE":"Order 7","PHONE":[{"VALUE":"+976","VALUE_TYPE":"WORK"}],
        "OPENED":true,"SUM":12.5,"NOTE":null}})").as_object());
    CHECK(codec::form_encode(flat) ==
          "fields%5BTITLE%5D=Order+7&fields%5BPHONE%5D%5B0%5D%5BVALUE%5D=%2B976&fields%5BPHONE%5D%5B0%5D%5BVALUE_TYPE%5D=WORK"
          "&fields%5BOPENED%5D=true&fields%5BSUM%5D=12.5&fields%5BNOTE%5D=");
    CHECK(codec::form_to_json(codec::form_decode("x]=1&y[=2&z[a]b=3")) ==
          json::parse(R"({"x]":"1","y[":"2","z":{"ab":"3"}})"));
}
