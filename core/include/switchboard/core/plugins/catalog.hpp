// switchboard/core/plugins/catalog.hpp — loading plugins (Boost.DLL), checking their ABI before anything else,
// describing them, and the catalog of plugins found on the search path.
//
// Plugins are loaded RTLD_LOCAL and stay resident until the process exits: code is never unloaded.
#pragma once

#include <switchboard/abi.h>
#include <switchboard/core/config/config.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace switchboard::core {
/// A plugin shared object that passed the ABI check. Immutable after load.
class loaded_plugin {
public:
    ~loaded_plugin();
    const std::string& file() const { return file_; }
    const std::string& name() const { return name_; }
    const sb_plugin_descriptor& descriptor() const { return *descriptor_; }
    /// "channel,stage" — the capability bits as names.
    std::string capability_names() const;
    /// The declared setting `name`, or nullptr.
    const sb_setting_spec* setting(const std::string& name) const;
    /// True when the plugin declares that execute() accepts commands of `command_type`.
    bool executes(const std::string& command_type) const;
    /// True when the plugin declares that it emits events of `event_type`.
    bool emits(const std::string& event_type) const;
    /// True when the plugin provides stage `stage` (without the plugin prefix).
    bool has_stage(const std::string& stage) const;

private:
    friend std::shared_ptr<loaded_plugin> load_plugin(const std::string& file);
    loaded_plugin() = default;
    std::string file_;
    std::string name_;
    struct library;
    std::unique_ptr<library> library_;
    const sb_plugin_descriptor* descriptor_ = nullptr;
};

/// Thrown by load_plugin() with a message an admin can act on (it names both ABI versions).
class plugin_load_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Loads one plugin file and checks its descriptor before using anything else in it:
/// struct_size large enough, same ABI major, plugin minor <= host minor.
/// @throws plugin_load_error (not a shared object, no switchboard_plugin export, an ABI 1.x plugin, wrong ABI...).
std::shared_ptr<loaded_plugin> load_plugin(const std::string& file);

/// The descriptor as JSON: {"file","name","version","license","description","abi":"M.m",
/// "capabilities":[...],"stages":[...],"settings":[{"name","type","required","secret","default"
/// (null when none),"description"}]}.
std::string describe_plugin_json(const loaded_plugin& plugin);

struct plugin_refusal {
    std::string file;
    std::string reason;
};

/// Every plugin found on the search path.
struct plugin_catalog {
    std::vector<std::shared_ptr<loaded_plugin>> plugins;
    std::vector<plugin_refusal> refused;
    /// Plugin by name, or nullptr.
    std::shared_ptr<loaded_plugin> find(const std::string& name) const;
};

/// The plugin search path of a config: plugins.paths, then the installed plugin directory
/// (<prefix>/lib/switchboard/plugins, found relative to the running program, so any install
/// prefix works) unless already listed.
std::vector<std::string> plugin_search_paths(const config& cfg);

/// Loads every `switchboard-*.so` in each directory of `paths` (a path naming a file loads that
/// file). Missing directories are skipped; the first plugin of a given name wins.
plugin_catalog scan_plugins(const std::vector<std::string>& paths);
}  // namespace switchboard::core
