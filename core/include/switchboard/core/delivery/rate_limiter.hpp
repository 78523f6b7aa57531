// switchboard/core/delivery/rate_limiter.hpp — the providers' send rate limits, enforced before a
// message.send reaches its plugin (sb_rate_limit, ABI 2.1): token buckets keyed by tenant,
// instance (one provider account) and, for per-recipient limits, the recipient.
#pragma once

#include <switchboard/sdk/compat.hpp>

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace switchboard::core::delivery {

/// One limit of one instance, resolved from its declaration and the instance's setting value.
struct resolved_rate_limit {
    std::string setting;           ///< the rate setting's name, e.g. "rate_limit_per_chat"
    uint32_t scope = SB_RATE_ACCOUNT;  ///< sb_rate_scope
    uint32_t unit = SB_RATE_MESSAGES;  ///< sb_rate_unit
    std::string recipient_prefix;  ///< "" = every recipient
    sdk::rate rate;                ///< count per per_ms; count 0 = off
};

/// The SMS segments `text` (UTF-8) takes: GSM-7 text (GSM 03.38 basic set, extension characters
/// counting twice) fits 160 septets in one segment and 153 per segment when split; anything else is
/// UCS-2 with 70 and 67 UTF-16 code units. @returns at least 1.
int64_t sms_segments(std::string_view text);

/// Token buckets for every (tenant, instance[, recipient], limit). Thread-safe. Buckets start full
/// (a limit's whole count may go at once) and refill continuously at count per per_ms.
class rate_limiter {
public:
    /// Takes the tokens a send needs from every limit that applies to it, or none of them.
    /// @param key        tenant and instance ("shop/whatsapp"): the provider account
    /// @param limits     the instance's resolved limits
    /// @param recipient  recipient.provider_id of the send
    /// @param text       its text, for SB_RATE_SMS_SEGMENTS (a cost above a bucket's size is capped to it)
    /// @param now_ms     a monotonic-enough clock in milliseconds
    /// @returns 0 when the send may go now (tokens taken); else the milliseconds until every bucket
    ///          it needs holds enough (nothing taken), and in `which` the setting of the limit that waits longest.
    int64_t acquire(const std::string& key, const std::vector<resolved_rate_limit>& limits, std::string_view recipient,
                    std::string_view text, int64_t now_ms, std::string* which = nullptr);

    /// Number of buckets held (idle full buckets are dropped once there are many).
    size_t size() const;

private:
    struct bucket {
        double tokens = 0;
        int64_t updated_ms = 0;
    };
    void prune(int64_t now_ms);

    mutable std::mutex mu_;
    std::unordered_map<std::string, bucket> buckets_;
    std::unordered_map<std::string, int64_t> refill_ms_;  ///< per bucket: ms to refill completely
};

}  // namespace switchboard::core::delivery
