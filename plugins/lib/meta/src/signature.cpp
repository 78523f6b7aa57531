#include <switchboard/meta/signature.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <array>
#include <stdexcept>

namespace switchboard::meta {
namespace {

constexpr std::string_view sha256_prefix = "sha256=";
constexpr size_t digest_size = 32;

std::string to_hex(const unsigned char* bytes, size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(n * 2, '\0');
    for (size_t i = 0; i < n; ++i) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    return out;
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::array<unsigned char, digest_size> hmac_sha256(std::string_view key, std::string_view data) {
    std::array<unsigned char, digest_size> mac{};
    unsigned int len = 0;
    // OpenSSL reads a NULL key as "no key given"; an empty string_view may carry a NULL data().
    static const unsigned char empty = 0;
    const void* key_ptr = key.empty() ? static_cast<const void*>(&empty) : key.data();
    const unsigned char* data_ptr = data.empty() ? &empty : reinterpret_cast<const unsigned char*>(data.data());
    if (!HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()), data_ptr, data.size(), mac.data(), &len) ||
        len != digest_size)
        throw std::runtime_error("HMAC-SHA256 failed in OpenSSL");
    return mac;
}

std::array<unsigned char, digest_size> sha256(std::string_view data) {
    std::array<unsigned char, digest_size> out{};
    static const unsigned char empty = 0;
    const unsigned char* p = data.empty() ? &empty : reinterpret_cast<const unsigned char*>(data.data());
    SHA256(p, data.size(), out.data());
    return out;
}

}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
    auto mac = hmac_sha256(key, data);
    return to_hex(mac.data(), mac.size());
}

std::string_view to_string(signature_status status) noexcept {
    switch (status) {
    case signature_status::valid: return "valid";
    case signature_status::missing: return "missing";
    case signature_status::malformed: return "malformed";
    case signature_status::mismatch: return "mismatch";
    }
    return "unknown";
}

signature_status verify_signature(std::optional<std::string_view> header_value, std::string_view app_secret,
                                  std::string_view raw_body) {
    if (!header_value || header_value->empty()) return signature_status::missing;
    std::string_view v = *header_value;
    // Proxies sometimes pad header values; whitespace is never part of the hex.
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    if (v.size() != sha256_prefix.size() + 2 * digest_size || v.substr(0, sha256_prefix.size()) != sha256_prefix)
        return signature_status::malformed;
    std::string_view hex = v.substr(sha256_prefix.size());

    std::array<unsigned char, digest_size> claimed{};
    for (size_t i = 0; i < digest_size; ++i) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return signature_status::malformed;
        claimed[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    auto expected = hmac_sha256(app_secret, raw_body);
    return CRYPTO_memcmp(claimed.data(), expected.data(), digest_size) == 0 ? signature_status::valid
                                                                            : signature_status::mismatch;
}

bool secrets_equal(std::string_view a, std::string_view b) {
    auto da = sha256(a), db = sha256(b);
    return CRYPTO_memcmp(da.data(), db.data(), digest_size) == 0;
}

}  // namespace switchboard::meta
