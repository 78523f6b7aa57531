// Loading plugin files and the catalog of plugins on the search path.
#include <switchboard/core/plugins/catalog.hpp>

#include <switchboard/sdk/compat.hpp>
#include <switchboard/sdk/events.hpp>

#include <boost/dll/shared_library.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>

#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace switchboard::core {

namespace fs = std::filesystem;
namespace sdk_events = switchboard::sdk::events;

struct loaded_plugin::library {
    boost::dll::shared_library lib;
};

loaded_plugin::~loaded_plugin() {
    // Never unload plugin code: instances, static destructors or pending callbacks may still
    // point into it. The library handle is deliberately leaked.
    if (library_) (void)new boost::dll::shared_library(std::move(library_->lib));
}

std::string loaded_plugin::capability_names() const {
    static const std::pair<uint32_t, const char*> names[] = {
        {SB_CAP_CHANNEL, "channel"}, {SB_CAP_PAYMENT, "payment"}, {SB_CAP_AI, "ai"},
        {SB_CAP_CRM, "crm"},         {SB_CAP_NOTIFY, "notify"},   {SB_CAP_STAGE, "stage"}};
    std::string out;
    for (auto& [bit, n] : names)
        if (descriptor_->capabilities & bit) out += (out.empty() ? "" : ",") + std::string(n);
    return out.empty() ? "none" : out;
}

const sb_setting_spec* loaded_plugin::setting(const std::string& name) const {
    for (size_t i = 0; i < descriptor_->settings_count; ++i) {
        auto& spec = switchboard::sdk::setting_spec_at(*descriptor_, i);
        if (spec.name && name == spec.name) return &spec;
    }
    return nullptr;
}

bool loaded_plugin::executes(const std::string& command_type) const {
    return switchboard::sdk::declares(descriptor_->commands, descriptor_->commands_count, command_type);
}

bool loaded_plugin::emits(const std::string& event_type) const {
    return switchboard::sdk::declares(descriptor_->events, descriptor_->events_count, event_type);
}

bool loaded_plugin::has_stage(const std::string& stage) const {
    for (size_t i = 0; i < descriptor_->stages_count; ++i)
        if (descriptor_->stages[i] && stage == descriptor_->stages[i]) return true;
    return false;
}

using switchboard::sdk::abi_version_string;

std::shared_ptr<loaded_plugin> load_plugin(const std::string& file) {
    auto lib = std::make_unique<loaded_plugin::library>();
    try {
        lib->lib.load(file, boost::dll::load_mode::rtld_local | boost::dll::load_mode::rtld_now);
    } catch (const std::exception& e) {
        // Keep dlerror's own words, without Boost's wrapping around them.
        std::string what = e.what();
        const std::string marker = "dlerror system message: ";
        if (auto at = what.find(marker); at != std::string::npos) {
            what = what.substr(at + marker.size());
            if (auto end = what.rfind("): "); end != std::string::npos) what = what.substr(0, end);
        }
        throw plugin_load_error("not a loadable shared object: " + what);
    }
    if (!lib->lib.has(SB_PLUGIN_EXPORT_NAME) && lib->lib.has(SB_PLUGIN_EXPORT_NAME_V1)) {
        // An ABI 1.x plugin: its descriptor's leading version fields say which; refuse it by name.
        const sb_plugin_descriptor* old = nullptr;
        try {
            old = lib->lib.get_alias<const sb_plugin_descriptor*()>(SB_PLUGIN_EXPORT_NAME_V1)();
        } catch (...) {
        }
        throw plugin_load_error(switchboard::sdk::legacy_export_problem(old));
    }
    if (!lib->lib.has(SB_PLUGIN_EXPORT_NAME))
        throw plugin_load_error("not a Switchboard plugin: it does not export '" SB_PLUGIN_EXPORT_NAME
                                "' (declare it with SWITCHBOARD_PLUGIN from <switchboard/sdk/plugin.hpp>)");
    auto& entry = lib->lib.get_alias<const sb_plugin_descriptor*()>(SB_PLUGIN_EXPORT_NAME);
    const sb_plugin_descriptor* d = nullptr;
    try {
        d = entry();
    } catch (const std::exception& e) {
        throw plugin_load_error(std::string("the plugin's entry point threw: ") + e.what());
    } catch (...) {
        throw plugin_load_error("the plugin's entry point threw an exception");
    }
    // The SDK's fake host applies the same check, with the same words.
    if (auto problem = switchboard::sdk::descriptor_problem(d)) throw plugin_load_error(*problem);

    std::shared_ptr<loaded_plugin> p(new loaded_plugin());
    p->file_ = file;
    p->name_ = d->name;
    p->descriptor_ = d;
    p->library_ = std::move(lib);
    return p;
}

std::string describe_plugin_json(const loaded_plugin& plugin) {
    auto& d = plugin.descriptor();
    boost::json::array caps, stages, settings;
    std::string names = plugin.capability_names();
    for (size_t pos = 0; pos < names.size();) {
        size_t comma = names.find(',', pos);
        if (comma == std::string::npos) comma = names.size();
        if (names.substr(pos, comma - pos) != "none") caps.emplace_back(names.substr(pos, comma - pos));
        pos = comma + 1;
    }
    auto names_of = [](const char* const* list, size_t count) {
        boost::json::array out;
        for (size_t i = 0; list && i < count; ++i) out.emplace_back(list[i] ? list[i] : "");
        return out;
    };
    stages = names_of(d.stages, d.stages_count);
    for (size_t i = 0; i < d.settings_count; ++i) {
        auto& spec = switchboard::sdk::setting_spec_at(d, i);
        boost::json::object o{{"name", spec.name ? spec.name : ""},
                              {"type", switchboard::sdk::setting_type_name(spec.type)},
                              {"required", (spec.flags & SB_SETTING_REQUIRED) != 0},
                              {"secret", (spec.flags & SB_SETTING_SECRET) != 0},
                              {"description", spec.description ? spec.description : ""}};
        if (spec.default_value) o["default"] = spec.default_value;
        else o["default"] = nullptr;
        if (spec.type == SB_SETTING_ENUM) {
            boost::json::array choices;
            for (auto c : switchboard::sdk::setting_choices(spec)) choices.emplace_back(c);
            o["choices"] = std::move(choices);
        }
        settings.push_back(std::move(o));
    }
    boost::json::array limits;
    for (size_t i = 0; i < switchboard::sdk::rate_limit_count(d); ++i) {
        auto& l = switchboard::sdk::rate_limit_at(d, i);
        boost::json::object o{{"setting", l.setting ? l.setting : ""},
                               {"scope", l.scope == SB_RATE_RECIPIENT ? "recipient" : "account"},
                               {"unit", l.unit == SB_RATE_SMS_SEGMENTS ? "sms_segments" : "messages"}};
        if (l.recipient_prefix && *l.recipient_prefix) o["recipient_prefix"] = l.recipient_prefix;
        limits.push_back(std::move(o));
    }
    boost::json::object out{{"file", plugin.file()},
                            {"name", plugin.name()},
                            {"version", d.version ? d.version : ""},
                            {"license", d.license ? d.license : ""},
                            {"description", d.description ? d.description : ""},
                            {"abi", abi_version_string(d.abi_major, d.abi_minor)},
                            {"capabilities", std::move(caps)},
                            {"stages", std::move(stages)},
                            {"commands", names_of(d.commands, d.commands_count)},
                            {"events", names_of(d.events, d.events_count)},
                            {"settings", std::move(settings)},
                            {"rate_limits", std::move(limits)}};
    return boost::json::serialize(out);
}

std::shared_ptr<loaded_plugin> plugin_catalog::find(const std::string& name) const {
    for (auto& p : plugins)
        if (p->name() == name) return p;
    return nullptr;
}

std::vector<std::string> plugin_search_paths(const config& cfg) {
    auto paths = cfg.plugin_paths;
    std::error_code ec;
    auto exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return paths;
    auto installed = (exe.parent_path() / SWITCHBOARD_PLUGIN_DIR_FROM_BIN).lexically_normal().string();
    if (std::find(paths.begin(), paths.end(), installed) == paths.end()) paths.push_back(installed);
    return paths;
}

plugin_catalog scan_plugins(const std::vector<std::string>& paths) {
    plugin_catalog out;
    auto try_load = [&](const fs::path& f) {
        try {
            auto p = load_plugin(f.string());
            if (out.find(p->name())) {
                spdlog::debug("plugin '{}' in {} ignored: already loaded from {}", p->name(), f.string(),
                              out.find(p->name())->file());
                return;
            }
            out.plugins.push_back(std::move(p));
        } catch (const plugin_load_error& e) {
            out.refused.push_back({f.string(), e.what()});
        }
    };
    for (auto& path : paths) {
        std::error_code ec;
        if (fs::is_regular_file(path, ec)) {
            try_load(path);
            continue;
        }
        if (!fs::is_directory(path, ec)) continue;
        std::vector<fs::path> files;
        for (auto& e : fs::directory_iterator(path, ec)) {
            auto fname = e.path().filename().string();
            if (fname.rfind("switchboard-", 0) == 0 && e.path().extension() == ".so") files.push_back(e.path());
        }
        std::sort(files.begin(), files.end());
        for (auto& f : files) try_load(f);
    }
    return out;
}

}  // namespace switchboard::core
