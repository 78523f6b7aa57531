#include <switchboard/notify_webhook/standard_webhooks.hpp>

#include <switchboard/sdk/codec.hpp>
#include <switchboard/sdk/crypto.hpp>
#include <switchboard/sdk/host.hpp>

#include <algorithm>

namespace switchboard::notify_webhook {

using sdk::error_kind;
using sdk::plugin_error;

std::string secret_key(std::string_view secret, std::string_view setting) {
    const std::string name(setting);
    if (!secret.starts_with("whsec_"))
        throw plugin_error(error_kind::invalid, name + " must be a Standard Webhooks secret: 'whsec_' followed by base64");
    auto key = sdk::codec::base64_decode(secret.substr(6));
    if (!key) throw plugin_error(error_kind::invalid, name + ": the part after 'whsec_' is not base64");
    if (key->size() < 24) throw plugin_error(error_kind::invalid, name + ": the key must be 24 bytes or more (base64 of 24 to 64 random bytes)");
    return *key;
}

std::string sign(std::string_view key, std::string_view id, int64_t timestamp_s, std::string_view body) {
    std::string content;
    content.reserve(id.size() + body.size() + 24);
    content.append(id).append(".").append(std::to_string(timestamp_s)).append(".").append(body);
    return "v1," + sdk::codec::base64_encode(sdk::crypto::hmac_sha256(key, content));
}

std::string signature_header(const std::vector<std::string>& keys, std::string_view id, int64_t timestamp_s,
                             std::string_view body) {
    std::string out;
    for (const auto& k : keys) out += (out.empty() ? "" : " ") + sign(k, id, timestamp_s, body);
    return out;
}

std::vector<int64_t> default_schedule_ms() {
    constexpr int64_t s = 1000, m = 60 * s, h = 60 * m;
    return {0, 5 * s, 5 * m, 30 * m, 2 * h, 5 * h, 10 * h, 10 * h};
}

decision decide(int status, std::optional<int64_t> retry_after_ms, unsigned attempt,
                const std::vector<int64_t>& schedule_ms, uint64_t jitter_seed) {
    const std::string got = status == 0 ? "no answer" : "HTTP " + std::to_string(status);
    if (status >= 200 && status < 300) return {decision::delivered, 0, got};
    if (status == 410) return {decision::disable, 0, got + " (Gone): the endpoint is disabled"};
    const bool retryable = status == 0 || status == 408 || status == 409 || status == 425 || status == 429 || status >= 500;
    if (!retryable) return {decision::give_up, 0, got + ": the endpoint refused the message"};
    // schedule_ms[k] is the wait after attempt k+1 (the first entry, 0, is the immediate first try).
    if (attempt >= schedule_ms.size())
        return {decision::give_up, 0, got + " after " + std::to_string(attempt) + " attempts: giving up"};
    int64_t delay = schedule_ms[attempt];
    // ±20 % jitter, the same for the same message and attempt (splitmix64 of the seed and attempt).
    uint64_t x = jitter_seed + 0x9E3779B97F4A7C15ULL * (attempt + 1);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    x ^= x >> 31;
    const double factor = 0.8 + 0.4 * static_cast<double>(x % 10'001) / 10'000.0;
    delay = static_cast<int64_t>(static_cast<double>(delay) * factor);
    if ((status == 429 || status == 503) && retry_after_ms) delay = std::max(delay, *retry_after_ms);
    return {decision::retry, delay, got + ": attempt " + std::to_string(attempt) + " of " + std::to_string(schedule_ms.size())};
}

}  // namespace switchboard::notify_webhook
