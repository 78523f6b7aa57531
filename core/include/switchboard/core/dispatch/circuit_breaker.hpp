// switchboard/core/dispatch/circuit_breaker.hpp — skipping a fallback tier that keeps failing.
// One breaker per tenant and stage (so per provider): after `failures` failed or late calls in a
// row it opens and the tier is skipped — its customers go straight to the next tier instead of
// each waiting out its budget — for `cooldown_ms`; then one call probes (half-open): success
// closes the breaker, failure opens it for another cool-down. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::core::dispatch {

class circuit_breaker {
public:
    enum class state { closed = 0, open = 1, half_open = 2 };

    /// @param failures     failures in a row that open the breaker; 0 turns breaking off
    /// @param cooldown_ms  how long an open breaker skips the tier before one probe, in ms
    circuit_breaker(int failures, int64_t cooldown_ms) : failures_(failures), cooldown_ms_(cooldown_ms) {}

    /// Whether the tier of `tenant` and `stage` may be called at `now_ms`. An open breaker past its
    /// cool-down lets exactly this caller probe (half-open) and keeps refusing the others until the
    /// probe's outcome is recorded.
    bool allow(const std::string& tenant, const std::string& stage, int64_t now_ms);

    /// Records a call's outcome (`ok`: it answered or deliberately passed; false: failed or late).
    /// @returns true when this outcome changed the state (closed ↔ open), for a log line.
    bool record(const std::string& tenant, const std::string& stage, bool ok, int64_t now_ms);

    /// The state of the breaker of `tenant` and `stage` (closed when it never failed).
    state state_of(const std::string& tenant, const std::string& stage) const;

private:
    struct entry {
        state st = state::closed;
        int failures = 0;
        int64_t open_until_ms = 0;
        bool probing = false;
    };
    int failures_;
    int64_t cooldown_ms_;
    mutable std::mutex mu_;
    std::map<std::pair<std::string, std::string>, entry> entries_;
};

}  // namespace switchboard::core::dispatch
