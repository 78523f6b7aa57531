// X-Hub-Signature-256 verification and secret comparison (switchboard/meta/signature.hpp).
#include <switchboard/meta/signature.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

using namespace switchboard::meta;

namespace {

std::optional<std::string> read_shared_fixture(const std::string& rel) {
    std::filesystem::path p = std::filesystem::path(SWITCHBOARD_SOURCE_DIR) / ".." / "shared" / "fixtures" / rel;
    std::ifstream in(p, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string upper(std::string s) {
    for (auto& c : s)
        if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    return s;
}

}  // namespace

TEST_CASE("meta: HMAC-SHA256 matches RFC 4231 test case 2", "[meta][signature]") {
    // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?".
    CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("meta: SIGNATURES.md vector over the shared WhatsApp Cloud fixture", "[meta][signature]") {
    auto body = read_shared_fixture("whatsapp_cloud/pywa-message-text.json");
    if (!body) {
        WARN("shared fixtures not found next to the repository; skipping the SIGNATURES.md vector");
        return;
    }
    REQUIRE(body->size() == 1034);
    const std::string expected = "539004114ddfe258e472eeb3020fd0ca0e57951a627b90e437862aa3b9963c1d";
    CHECK(hmac_sha256_hex("test_app_secret", *body) == expected);
    CHECK(verify_signature("sha256=" + expected, "test_app_secret", *body) == signature_status::valid);
    CHECK(verify_signature("sha256=" + upper(expected), "test_app_secret", *body) == signature_status::valid);
    CHECK(verify_signature("sha256=" + expected, "another_secret", *body) == signature_status::mismatch);
}

TEST_CASE("meta: vectors computed over shared Messenger and Instagram fixtures", "[meta][signature]") {
    // Computed with `openssl dgst -sha256 -hmac test_app_secret <file>`.
    auto messenger = read_shared_fixture("messenger/courier-page-text.json");
    auto instagram = read_shared_fixture("instagram/courier-ig-text.json");
    if (!messenger || !instagram) {
        WARN("shared fixtures not found; skipping computed vectors");
        return;
    }
    CHECK(verify_signature("sha256=8c6fb08ee2b2bfcdb9dc52e5512cc22d756256b57c0345106b13e19cc60648cd",
                           "test_app_secret", *messenger) == signature_status::valid);
    CHECK(verify_signature("sha256=ab6fd59060ac91f178774b83c5f2ae55e996762e03e619f210bb4aa6f93abdc3",
                           "test_app_secret", *instagram) == signature_status::valid);
    // The same signature does not carry over to another body.
    CHECK(verify_signature("sha256=8c6fb08ee2b2bfcdb9dc52e5512cc22d756256b57c0345106b13e19cc60648cd",
                           "test_app_secret", *instagram) == signature_status::mismatch);
}

TEST_CASE("meta: signature is over the raw bytes, not a re-serialization", "[meta][signature]") {
    const std::string secret = "s3cr3t";
    const std::string escaped = R"({"object":"page","entry":[{"id":"1","messaging":[{"message":{"text":"\u00e4"}}]}]})";
    const std::string decoded = "{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"messaging\":[{\"message\":{\"text\":\"\xc3\xa4\"}}]}]}";
    std::string header = "sha256=" + hmac_sha256_hex(secret, escaped);
    CHECK(verify_signature(header, secret, escaped) == signature_status::valid);
    CHECK(verify_signature(header, secret, decoded) == signature_status::mismatch);
    // One byte of whitespace changes the MAC.
    CHECK(verify_signature(header, secret, escaped + "\n") == signature_status::mismatch);
}

TEST_CASE("meta: missing, malformed and wrong X-Hub-Signature-256 headers", "[meta][signature]") {
    const std::string secret = "app-secret";
    const std::string body = R"({"object":"page","entry":[]})";
    const std::string good = hmac_sha256_hex(secret, body);
    REQUIRE(good.size() == 64);

    CHECK(verify_signature(std::nullopt, secret, body) == signature_status::missing);
    CHECK(verify_signature("", secret, body) == signature_status::missing);
    CHECK(verify_signature(good, secret, body) == signature_status::malformed);                 // no prefix
    CHECK(verify_signature("sha1=" + good.substr(0, 40), secret, body) == signature_status::malformed);
    CHECK(verify_signature("sha256=" + good.substr(0, 63), secret, body) == signature_status::malformed);
    CHECK(verify_signature("sha256=" + good + "0", secret, body) == signature_status::malformed);
    CHECK(verify_signature("SHA256=" + good, secret, body) == signature_status::malformed);
    std::string non_hex = good;
    non_hex[10] = 'g';
    CHECK(verify_signature("sha256=" + non_hex, secret, body) == signature_status::malformed);

    std::string flipped = good;
    flipped[63] = flipped[63] == '0' ? '1' : '0';
    CHECK(verify_signature("sha256=" + flipped, secret, body) == signature_status::mismatch);
    CHECK(verify_signature("sha256=" + good, secret + "x", body) == signature_status::mismatch);
    CHECK(verify_signature("sha256=" + good, secret, body) == signature_status::valid);
    CHECK(verify_signature("sha256=" + upper(good), secret, body) == signature_status::valid);
    CHECK(verify_signature("  sha256=" + good + " ", secret, body) == signature_status::valid);
}

TEST_CASE("meta: signature status names", "[meta][signature]") {
    CHECK(to_string(signature_status::valid) == "valid");
    CHECK(to_string(signature_status::missing) == "missing");
    CHECK(to_string(signature_status::malformed) == "malformed");
    CHECK(to_string(signature_status::mismatch) == "mismatch");
}

TEST_CASE("meta: secrets_equal compares whole values", "[meta][signature]") {
    CHECK(secrets_equal("verify-me", "verify-me"));
    CHECK_FALSE(secrets_equal("verify-me", "verify-mE"));
    CHECK_FALSE(secrets_equal("verify-me", "verify-me "));
    CHECK_FALSE(secrets_equal("verify-me", ""));
    CHECK(secrets_equal("", ""));
}
