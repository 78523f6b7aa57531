#include <switchboard/tz/zone.hpp>

#include <switchboard/sdk/host.hpp>

namespace switchboard::tz {

const date::time_zone* zone(const std::string& name) {
    try {
        return date::locate_zone(name);
    } catch (const std::exception&) {
        throw sdk::plugin_error(sdk::error_kind::invalid,
                                "time_zone '" + name + "' is not in the time zone database (e.g. Asia/Ulaanbaatar, UTC)");
    }
}

}  // namespace switchboard::tz
