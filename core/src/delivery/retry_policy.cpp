// Backoff and dead letters.
#include <switchboard/core/delivery/retry_policy.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

namespace switchboard::core::delivery {

int64_t backoff_delay_ms(int attempt, int64_t initial_ms, int64_t max_ms, double random01) {
    if (attempt < 1) attempt = 1;
    double d = static_cast<double>(initial_ms) * std::pow(2.0, std::min(attempt - 1, 40));
    d = std::min(d, static_cast<double>(max_ms));
    return static_cast<int64_t>(d / 2 + (d / 2) * std::clamp(random01, 0.0, 1.0));
}

failure_outcome retry_policy::record_failure(const job& j, bool final, const std::string& error,
                                             const std::string& plugin, double random01, int64_t now_ms) {
    int64_t delay = backoff_delay_ms(j.attempts, cfg_.backoff_initial_ms, cfg_.backoff_max_ms, random01);
    failure_outcome outcome;
    if (final || j.attempts >= cfg_.max_attempts)
        outcome = db_.dead_letter(j, error, now_ms) == fence::held ? failure_outcome::dead_letter : failure_outcome::lost;
    else
        outcome = db_.retry_later(j, error, now_ms + delay, now_ms) == fence::held ? failure_outcome::retrying
                                                                                   : failure_outcome::lost;
    switch (outcome) {
    case failure_outcome::dead_letter:
        spdlog::error("[tenant={} plugin={}] job {} is a dead letter after {} attempt(s): {}", j.tenant, plugin, j.id,
                      j.attempts, error);
        break;
    case failure_outcome::retrying:
        spdlog::warn("[tenant={} plugin={}] job {} attempt {} failed (retrying in {} ms): {}", j.tenant, plugin, j.id,
                     j.attempts, delay, error);
        break;
    case failure_outcome::lost:
        spdlog::warn("[tenant={} plugin={}] job {} attempt {} failed, but its lease had run out and another worker "
                     "owns the job now; leaving it to that worker: {}",
                     j.tenant, plugin, j.id, j.attempts, error);
        break;
    }
    return outcome;
}

bool retry_policy::record_deferral(const job& j, int64_t retry_after_ms, const std::string& reason,
                                   const std::string& plugin, double random01, int64_t now_ms) {
    int64_t delay = retry_after_ms > 0 ? std::min<int64_t>(retry_after_ms, max_deferral_ms)
                                       : backoff_delay_ms(j.attempts, cfg_.backoff_initial_ms, cfg_.backoff_max_ms, random01);
    bool held = db_.postpone(j, now_ms + delay, now_ms) == fence::held;
    if (held)
        spdlog::info("[tenant={} plugin={}] job {} deferred for {} ms (not counted as an attempt): {}", j.tenant, plugin,
                     j.id, delay, reason);
    return held;
}

}  // namespace switchboard::core::delivery
