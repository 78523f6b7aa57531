#include <switchboard/whatsapp/warmup.hpp>

#include <switchboard/sdk/host.hpp>

#include <date/date.h>
#include <date/tz.h>
#include <switchboard/tz/zone.hpp>

#include <sstream>

namespace switchboard::whatsapp {

namespace {

using sdk::error_kind;
using sdk::plugin_error;

date::local_days parse_start(const std::string& text) {
    std::istringstream in(text);
    date::year_month_day ymd{};
    in >> date::parse("%F", ymd);
    if (in.fail() || !ymd.ok() || in.peek() != std::char_traits<char>::eof())
        throw plugin_error(error_kind::invalid, "warmup_start must be a date such as 2026-11-02, got '" + text + "'");
    return date::local_days{ymd};
}


}  // namespace

void validate(const warmup_policy& policy) {
    if (policy.start.empty()) return;  // no warm-up: the time zone is not used
    tz::zone(policy.time_zone);
    parse_start(policy.start);
    if (policy.daily_limits.empty()) throw plugin_error(error_kind::invalid, "warmup_daily_limits must list at least one limit");
    for (auto limit : policy.daily_limits)
        if (limit < 1) throw plugin_error(error_kind::invalid, "every warmup_daily_limits entry must be at least 1");
}

warmup_day warmup_today(const warmup_policy& policy, int64_t now_ms) {
    const auto* zone = tz::zone(policy.time_zone);
    const date::sys_time<std::chrono::milliseconds> now{std::chrono::milliseconds(now_ms)};
    const auto local = zone->to_local(now);
    const auto today = date::floor<date::days>(local);
    warmup_day day;
    day.date = date::format("%F", today);
    const int64_t days = (today - parse_start(policy.start)).count();
    day.week = days < 0 ? 0 : days / 7;
    const auto index = static_cast<size_t>(std::min<int64_t>(day.week, static_cast<int64_t>(policy.daily_limits.size()) - 1));
    day.limit = policy.daily_limits[index];
    // The next local midnight; a day that begins in a DST gap starts at the first instant that exists.
    const auto next = zone->to_sys(date::local_days{today + date::days{1}}, date::choose::earliest);
    day.next_reset_ms = std::chrono::duration_cast<std::chrono::milliseconds>(next.time_since_epoch()).count();
    return day;
}

}  // namespace switchboard::whatsapp
