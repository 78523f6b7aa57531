// switchboard/templates/shipped_data.hpp — the share/templates/ JSON files, embedded at build time
// (CMake reads them into a generated source), so the plugin needs no runtime data path.
#pragma once

#include <string_view>

namespace switchboard::templates::shipped {

/// share/templates/replies.json as it was when the library was built.
std::string_view replies_json() noexcept;

/// share/templates/intents.json as it was when the library was built.
std::string_view intents_json() noexcept;

/// share/templates/signals.json (lead signal keywords) as it was when the library was built.
std::string_view signals_json() noexcept;

}  // namespace switchboard::templates::shipped
