// switchboard/notify_webhook/standard_webhooks.hpp — outbound webhooks to a business's own URL,
// signed and retried as the Standard Webhooks specification describes (standardwebhooks.com,
// "Signature scheme" and "Retry schedule"):
//   webhook-id:        the message id, the same on every retry ("msg_<idempotency key>")
//   webhook-timestamp: seconds since the Unix epoch of this attempt
//   webhook-signature: "v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">", one per secret,
//                      space-separated (two during a secret rotation)
// A secret is "whsec_" followed by the base64 of the key bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::notify_webhook {

/// The key bytes of a "whsec_<base64>" secret.
/// @throws sdk::plugin_error(invalid) naming `setting` when the prefix or the base64 is wrong, or
///         the key is shorter than 24 bytes (the specification asks for 24 to 64).
std::string secret_key(std::string_view secret, std::string_view setting);

/// One "v1,<base64>" signature of `body` for message `id` at `timestamp_s` under `key` (raw bytes).
std::string sign(std::string_view key, std::string_view id, int64_t timestamp_s, std::string_view body);

/// The webhook-signature header value: one signature per key, space-separated.
std::string signature_header(const std::vector<std::string>& keys, std::string_view id, int64_t timestamp_s,
                             std::string_view body);

/// The default retry schedule (ms after each failed attempt): immediately, then 5 s, 5 min, 30 min,
/// 2 h, 5 h, 10 h and 10 h — eight attempts in all.
std::vector<int64_t> default_schedule_ms();

/// What to do after an attempt that got HTTP `status` (0: no answer: timeout, refused connection).
struct decision {
    enum kind_t { delivered, retry, give_up, disable } kind;
    int64_t delay_ms = 0;   ///< for retry: how long to wait
    std::string reason;     ///< for give_up, disable and retry: why (status, attempts)
};

/**
 * Classifies an attempt's outcome:
 *   2xx → delivered; 410 → disable (the endpoint is gone);
 *   429 and 503 with a Retry-After (seconds) → retry after it (at least the schedule's delay);
 *   0 (no answer), 408, 409, 425, 429, 5xx → retry after schedule[attempt] with ±20 % jitter
 *   derived from `jitter_seed` (deterministic per message and attempt), give_up after the last;
 *   any other 4xx, and 3xx → give_up (the endpoint refuses this message for good).
 * @param attempt     1 for the first attempt
 * @param schedule_ms delays after attempts 1, 2, ... (default_schedule_ms()[0] is the first retry)
 */
decision decide(int status, std::optional<int64_t> retry_after_ms, unsigned attempt,
                const std::vector<int64_t>& schedule_ms, uint64_t jitter_seed);

}  // namespace switchboard::notify_webhook
