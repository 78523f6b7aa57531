// switchboard/meta/signature.hpp — webhook authenticity for Meta channels (Messenger, Instagram).
//
// Follows Meta "Webhooks – Getting Started", §Validating Payloads: every notification carries
// `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw request body keyed with the
// App Secret of the Meta app that owns the subscription. The hash covers the bytes exactly as
// received (Meta escapes non-ASCII as \uXXXX before signing), so it is never computed over a
// re-serialized body.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::meta {

/// Name of the header carrying the SHA-256 signature (compare header names case-insensitively).
inline constexpr std::string_view signature_header = "X-Hub-Signature-256";

/// HMAC-SHA256 of `data` keyed with `key`.
/// @returns the 32-byte MAC as 64 lowercase hex characters.
/// @throws std::runtime_error only if OpenSSL itself fails (out of memory).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

/// Outcome of checking an X-Hub-Signature-256 header.
enum class signature_status {
    valid,      ///< the header matches the HMAC of the body
    missing,    ///< no header (or an empty one)
    malformed,  ///< not "sha256=" followed by 64 hex digits
    mismatch    ///< well formed, but signed with another secret or over other bytes
};

/// Short English name of a status ("valid", "missing", "malformed", "mismatch") for log lines.
std::string_view to_string(signature_status status) noexcept;

/// Checks `header_value` (the X-Hub-Signature-256 value, nullopt when the header is absent)
/// against HMAC-SHA256(app_secret, raw_body). The hex digits may be lower- or uppercase; the
/// comparison runs in constant time (CRYPTO_memcmp) so a forger learns nothing from timing.
/// @param app_secret  the Meta App Secret; must not be empty (the caller refuses the webhook
///                    before calling when it is).
/// @param raw_body    the request body bytes exactly as received.
signature_status verify_signature(std::optional<std::string_view> header_value, std::string_view app_secret,
                                  std::string_view raw_body);

/// Compares two secrets in time independent of where they differ and of their lengths (both
/// are hashed with SHA-256 first and the digests compared with CRYPTO_memcmp). Used for the
/// verify token of the subscription handshake.
bool secrets_equal(std::string_view a, std::string_view b);

}  // namespace switchboard::meta
