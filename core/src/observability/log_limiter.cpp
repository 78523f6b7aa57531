// Rate-limited logging.
#include <switchboard/core/observability/log_limiter.hpp>

namespace switchboard::core {

bool log_limiter::allow(const std::string& key, int64_t now_ms, int64_t* suppressed) {
    std::lock_guard lk(mu_);
    auto& w = windows_[key];
    if (now_ms - w.start_ms >= window_ms_ || now_ms < w.start_ms) {
        if (suppressed) *suppressed = w.dropped;
        w = window{now_ms, 0, 0};
    } else if (suppressed) {
        *suppressed = 0;
    }
    if (w.count < burst_) {
        ++w.count;
        return true;
    }
    ++w.dropped;
    return false;
}

}  // namespace switchboard::core
