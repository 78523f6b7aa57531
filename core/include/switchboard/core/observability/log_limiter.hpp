// switchboard/core/observability/log_limiter.hpp — rate limiting for log lines that a client or
// the system can trigger at will (refused requests, accept failures), so a flood cannot fill the
// disk with logs while the first occurrences are still seen.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace switchboard::core {

class log_limiter {
public:
    /// At most `burst` lines per key in each window of `window_ms` milliseconds.
    log_limiter(int burst, int64_t window_ms) : burst_(burst), window_ms_(window_ms) {}

    /// Whether a line for `key` may be logged at `now_ms` (UTC ms). When a window closes with lines
    /// suppressed, `suppressed` (if given) receives how many, so the next line can say so.
    bool allow(const std::string& key, int64_t now_ms, int64_t* suppressed = nullptr);

private:
    struct window {
        int64_t start_ms = 0;
        int count = 0;
        int64_t dropped = 0;
    };
    int burst_;
    int64_t window_ms_;
    std::mutex mu_;
    std::map<std::string, window> windows_;
};

}  // namespace switchboard::core
