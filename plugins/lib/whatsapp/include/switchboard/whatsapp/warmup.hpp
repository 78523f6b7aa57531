// switchboard/whatsapp/warmup.hpp — a new WhatsApp number's warm-up: a daily send limit that grows
// week by week (20, 50, 100, then 1000 by default) while the number builds its quality rating.
// Days and weeks are counted in the tenant's time zone, so the quota resets at local midnight.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace switchboard::whatsapp {

/// The warm-up of one number (settings warmup_start, warmup_daily_limits, time_zone).
struct warmup_policy {
    std::string start;                                   ///< local date "YYYY-MM-DD" the number began; "" = no quota
    std::vector<int64_t> daily_limits{20, 50, 100, 1000};///< sends per day in week 1, 2, ...; the last holds after
    std::string time_zone = "UTC";                       ///< IANA time zone name, e.g. "Asia/Ulaanbaatar"
};

/// Where an instant falls in a warm-up.
struct warmup_day {
    std::string date;           ///< the local date "YYYY-MM-DD" (the day's counter)
    int64_t week = 0;           ///< 0-based week since start; days before start count as week 0
    int64_t limit = 0;          ///< sends allowed on that day
    int64_t next_reset_ms = 0;  ///< UTC ms of the next local midnight, when the day's count resets
};

/// Checks a policy with a start (one without is always valid). @throws sdk::plugin_error(invalid)
/// naming the setting: a start that is not a date, an unknown time zone (the system's tz
/// database), no limits or a limit below 1.
void validate(const warmup_policy& policy);

/// The warm-up day of `now_ms` (UTC ms). The policy must be valid and have a start.
warmup_day warmup_today(const warmup_policy& policy, int64_t now_ms);

}  // namespace switchboard::whatsapp
