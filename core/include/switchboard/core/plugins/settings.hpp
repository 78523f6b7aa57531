// switchboard/core/plugins/settings.hpp — validating every tenant's plugin settings and routes against the
// plugins' declared schemas (check-config and run), and the settings handed to create().
#pragma once

#include <switchboard/core/config/config.hpp>
#include <switchboard/core/plugins/catalog.hpp>

#include <string>
#include <utility>
#include <vector>

namespace switchboard::core {
/// Validates every tenant's plugin settings and routes against the catalog: plugin exists,
/// settings are declared (did-you-mean), typed values parse, required ones are set, route stages
/// exist. @returns the diagnostics (empty when valid). Secret values never appear in them.
std::vector<diagnostic> validate_tenants(const config& cfg, const plugin_catalog& catalog);

/// The settings handed to create(): declared defaults applied, durations converted to ms.
std::vector<std::pair<std::string, std::string>> effective_settings(const loaded_plugin& plugin, const plugin_use& use);
}  // namespace switchboard::core
