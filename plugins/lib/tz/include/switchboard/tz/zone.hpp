// switchboard/tz/zone.hpp — the time zone a tenant's setting names, found in the system's IANA
// database (tzdata) through date/tz.
#pragma once

#include <date/tz.h>

#include <string>

namespace switchboard::tz {

/// The zone named `name` ("Asia/Ulaanbaatar", "UTC").
/// @throws sdk::plugin_error(invalid) "time_zone 'X' is not in the time zone database (e.g.
///         Asia/Ulaanbaatar, UTC)" when the database has no such zone.
const date::time_zone* zone(const std::string& name);

}  // namespace switchboard::tz
