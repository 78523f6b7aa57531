// switchboard/core/plugins/inspect.hpp — reading a plugin file's descriptor in a child process.
#pragma once

#include <cstdint>
#include <string>

namespace switchboard::core {
/// Result of inspecting a plugin file in a child process.
struct inspection {
    bool ok = false;
    std::string json;   ///< describe_plugin_json() output when ok
    std::string error;  ///< why the file is not a usable plugin when !ok
};

/// Loads `file` in a child process (running `helper_program plugins describe FILE`), so that no
/// plugin code runs in the calling process: a plugin that crashes or hangs while loading only
/// takes the child down. `timeout_ms` bounds the child's run time.
inspection inspect_plugin(const std::string& helper_program, const std::string& file, int64_t timeout_ms = 10'000);
}  // namespace switchboard::core
