// switchboard/core/clock.hpp — the one wall clock of the host, injectable for tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace switchboard::core {

/// A clock: UTC milliseconds since the Unix epoch. Tests inject a fake one.
using clock_fn = std::function<int64_t()>;

/// The system clock, in UTC milliseconds since the Unix epoch.
inline int64_t system_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace switchboard::core
