#include <switchboard/core/dispatch/circuit_breaker.hpp>

namespace switchboard::core::dispatch {

bool circuit_breaker::allow(const std::string& tenant, const std::string& stage, int64_t now_ms) {
    if (failures_ <= 0) return true;
    std::lock_guard lk(mu_);
    auto it = entries_.find({tenant, stage});
    if (it == entries_.end()) return true;
    entry& e = it->second;
    switch (e.st) {
    case state::closed: return true;
    case state::open:
        if (now_ms < e.open_until_ms) return false;
        e.st = state::half_open;
        e.probing = true;
        return true;  // this call is the probe
    case state::half_open:
        if (e.probing) return false;
        e.probing = true;
        return true;
    }
    return true;
}

bool circuit_breaker::record(const std::string& tenant, const std::string& stage, bool ok, int64_t now_ms) {
    if (failures_ <= 0) return false;
    std::lock_guard lk(mu_);
    if (ok) {
        auto it = entries_.find({tenant, stage});
        if (it == entries_.end()) return false;
        bool changed = it->second.st != state::closed;
        it->second = entry{};
        return changed;
    }
    entry& e = entries_[{tenant, stage}];
    e.probing = false;
    if (e.st == state::half_open || ++e.failures >= failures_) {
        const bool opened = e.st == state::closed;  // a failed probe re-opens quietly
        e.st = state::open;
        e.open_until_ms = now_ms + cooldown_ms_;
        e.failures = 0;
        return opened;
    }
    return false;
}

circuit_breaker::state circuit_breaker::state_of(const std::string& tenant, const std::string& stage) const {
    std::lock_guard lk(mu_);
    auto it = entries_.find({tenant, stage});
    return it == entries_.end() ? state::closed : it->second.st;
}

}  // namespace switchboard::core::dispatch
