// switchboard/sdk/crypto.hpp — what providers sign and authenticate with: HMAC-SHA1 (Twilio's
// X-Twilio-Signature), HMAC-SHA256 (Meta's X-Hub-Signature-256, Standard Webhooks, QPay), SHA-256,
// and HTTP Basic credentials (RFC 7617). Header-only over OpenSSL (link OpenSSL::Crypto;
// Switchboard::sdk does). Compare signatures with text::constant_time_equal.
#pragma once

#include <switchboard/sdk/codec.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <string_view>

namespace switchboard::sdk::crypto {

namespace detail {
inline std::string hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         out, &n);
    return std::string(reinterpret_cast<const char*>(out), n);
}
}  // namespace detail

/// HMAC-SHA1 of `data` under `key`: 20 raw bytes (hex or base64 them with codec::).
inline std::string hmac_sha1(std::string_view key, std::string_view data) {
    return detail::hmac(EVP_sha1(), key, data);
}

/// HMAC-SHA256 of `data` under `key`: 32 raw bytes.
inline std::string hmac_sha256(std::string_view key, std::string_view data) {
    return detail::hmac(EVP_sha256(), key, data);
}

/// SHA-256 of `data`: 32 raw bytes.
inline std::string sha256(std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data.data(), data.size(), out, &n, EVP_sha256(), nullptr);
    return std::string(reinterpret_cast<const char*>(out), n);
}

/// The value of an Authorization header for HTTP Basic: "Basic base64(user:password)".
inline std::string basic_auth(std::string_view user, std::string_view password) {
    return "Basic " + codec::base64_encode(std::string(user) + ":" + std::string(password));
}

}  // namespace switchboard::sdk::crypto
