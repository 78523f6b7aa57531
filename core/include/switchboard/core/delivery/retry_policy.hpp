// switchboard/core/delivery/retry_policy.hpp — what happens to a failed attempt: exponential
// backoff with jitter while attempts remain and the failure is retryable, else a dead letter
// carrying the last error.
#pragma once

#include <switchboard/core/config/config.hpp>
#include <switchboard/core/store/store.hpp>

#include <cstdint>
#include <string>

namespace switchboard::core::delivery {

/// Exponential backoff with jitter: the delay before attempt `attempt + 1` after `attempt` failures
/// (attempt >= 1) is uniformly drawn from [d/2, d] where d = min(max_ms, initial_ms * 2^(attempt-1)).
/// `random01` is a value in [0, 1). @returns milliseconds.
int64_t backoff_delay_ms(int attempt, int64_t initial_ms, int64_t max_ms, double random01);

/// What the retry policy did with a failed attempt.
enum class failure_outcome { retrying, dead_letter, lost };

class retry_policy {
public:
    retry_policy(const delivery_config& cfg, store& db) : cfg_(cfg), db_(db) {}

    /// Records a failed attempt of claimed job `j` at `now_ms`: retried after the backoff unless
    /// `final` or out of attempts, when it becomes a dead letter. Logs the outcome with tenant and
    /// plugin. @returns what the store did (failure_outcome::lost when the claim no longer held).
    /// @throws on storage failure.
    failure_outcome record_failure(const job& j, bool final, const std::string& error, const std::string& plugin,
                                   double random01, int64_t now_ms);

    /// The longest deferral honoured (ms): a plugin asking for more is asked again after a day.
    static constexpr int64_t max_deferral_ms = 86'400'000;

    /// Records a deferral (SB_ERR_RETRY_AFTER) of claimed job `j`: it runs again after
    /// `retry_after_ms` (<= 0: the backoff), at most max_deferral_ms, and the attempt does not
    /// count. @returns false when the claim no longer held. @throws on storage failure.
    bool record_deferral(const job& j, int64_t retry_after_ms, const std::string& reason, const std::string& plugin,
                         double random01, int64_t now_ms);

private:
    const delivery_config& cfg_;
    store& db_;
};

}  // namespace switchboard::core::delivery
