// Validating tenants' plugin settings and routes against the declared schemas.
#include <switchboard/core/plugins/settings.hpp>

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

namespace {
/// A `<name>_file: PATH` entry for declared setting `<name>` that the plugin does not itself
/// declare: the value is read from the file (systemd credentials, Docker secrets).
const sb_setting_spec* file_reference(const loaded_plugin& plugin, const std::string& key) {
    if (key.size() <= 5 || key.compare(key.size() - 5, 5, "_file") != 0 || plugin.setting(key)) return nullptr;
    return plugin.setting(key.substr(0, key.size() - 5));
}

std::optional<std::string> read_setting_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) content.pop_back();
    return content;
}

}  // namespace

std::vector<diagnostic> validate_tenants(const config& cfg, const plugin_catalog& catalog) {
    std::vector<diagnostic> out;
    std::vector<std::string> plugin_names;
    for (auto& p : catalog.plugins) plugin_names.push_back(p->name());
    auto err = [&](source_mark m, std::string msg) { out.push_back({cfg.file, m, std::move(msg)}); };

    for (auto& t : cfg.tenants) {
        for (auto& use : t.plugins) {
            auto plugin = catalog.find(use.plugin);
            if (!plugin) {
                std::string msg = "tenant '" + t.id + "' uses plugin '" + use.plugin + "', which was not found";
                for (auto& r : catalog.refused)
                    if (fs::path(r.file).filename().string() == "switchboard-" + use.plugin + ".so")
                        msg += " (" + r.file + " was refused: " + r.reason + ")";
                if (auto s = did_you_mean(use.plugin, plugin_names)) msg += "; did you mean '" + *s + "'?";
                else msg += " in the plugin paths (plugins.paths)";
                err(use.mark, msg);
                continue;
            }
            std::vector<std::string> declared;
            for (size_t i = 0; i < plugin->descriptor().settings_count; ++i)
                declared.push_back(plugin->descriptor().settings[i].name);
            for (auto& s : use.settings) {
                if (file_reference(*plugin, s.name)) {
                    if (!read_setting_file(s.value))
                        err(s.value_mark, "setting '" + s.name + "' of plugin '" + use.plugin + "': cannot read file '" +
                                              s.value + "'");
                    continue;
                }
                auto spec = plugin->setting(s.name);
                if (!spec) {
                    std::string msg = "plugin '" + use.plugin + "' has no setting '" + s.name + "'";
                    if (auto m = did_you_mean(s.name, declared)) msg += "; did you mean '" + *m + "'?";
                    err(s.key_mark, msg);
                    continue;
                }
                if (s.value.empty() && !(spec->flags & SB_SETTING_REQUIRED)) continue;
                if (auto hint = switchboard::sdk::setting_value_problem(spec->type, s.value)) {
                    std::string shown = (spec->flags & SB_SETTING_SECRET) ? "(secret value hidden)" : "'" + s.value + "'";
                    err(s.value_mark, "setting '" + s.name + "' of plugin '" + use.plugin + "' must be " + *hint +
                                          ", got " + shown);
                }
            }
            for (size_t i = 0; i < plugin->descriptor().settings_count; ++i) {
                auto& spec = plugin->descriptor().settings[i];
                if (!(spec.flags & SB_SETTING_REQUIRED)) continue;
                auto it = std::find_if(use.settings.begin(), use.settings.end(), [&](const setting_entry& e) {
                    return e.name == spec.name || e.name == std::string(spec.name) + "_file";
                });
                if (it == use.settings.end() || it->value.empty())
                    err(use.mark, "plugin '" + use.plugin + "' of tenant '" + t.id + "' requires setting '" +
                                      spec.name + "' (" + (spec.description ? spec.description : "") + ")");
            }
        }
        for (auto& r : t.routes) {
            // Plugins may define event types of their own, so only a near miss of an SDK event
            // name is an error: it is almost certainly a typo that would silently never match.
            static const std::vector<std::string> known_events = {
                std::string(sdk_events::message_received), std::string(sdk_events::message_echoed),
                std::string(sdk_events::message_status), std::string(sdk_events::conversation_escalated),
                std::string(sdk_events::webhook_unhandled)};
            if (std::find(known_events.begin(), known_events.end(), r.on) == known_events.end()) {
                if (auto s = did_you_mean(r.on, known_events))
                    err(r.mark, "route of tenant '" + t.id + "' is on unknown event type '" + r.on + "'; did you mean '" +
                                    *s + "'?");
            }
            for (size_t i = 0; i < r.run.size(); ++i) {
                const auto& stage = r.run[i];
                auto m = i < r.run_marks.size() ? r.run_marks[i] : r.mark;
                auto dot = stage.find('.');
                if (dot == std::string::npos) {
                    err(m, "stage '" + stage + "' must be written plugin.stage, e.g. templates.reply");
                    continue;
                }
                std::string pname = stage.substr(0, dot), sname = stage.substr(dot + 1);
                if (!t.find_plugin(pname)) {
                    err(m, "stage '" + stage + "' needs plugin '" + pname + "' enabled for tenant '" + t.id +
                               "' under its 'plugins'");
                    continue;
                }
                auto plugin = catalog.find(pname);
                if (plugin && !plugin->has_stage(sname)) {
                    std::vector<std::string> stages;
                    for (size_t k = 0; k < plugin->descriptor().stages_count; ++k)
                        stages.push_back(plugin->descriptor().stages[k]);
                    std::string msg = "plugin '" + pname + "' has no stage '" + sname + "'";
                    if (auto s = did_you_mean(sname, stages)) msg += "; did you mean '" + pname + "." + *s + "'?";
                    err(m, msg);
                }
            }
        }
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> effective_settings(const loaded_plugin& plugin, const plugin_use& use) {
    std::vector<std::pair<std::string, std::string>> out;
    auto& d = plugin.descriptor();
    for (size_t i = 0; i < d.settings_count; ++i) {
        auto& spec = d.settings[i];
        auto it = std::find_if(use.settings.begin(), use.settings.end(),
                               [&](const setting_entry& e) { return e.name == spec.name; });
        auto file = std::find_if(use.settings.begin(), use.settings.end(), [&](const setting_entry& e) {
            return file_reference(plugin, e.name) == &spec;
        });
        std::optional<std::string> value;
        if (file != use.settings.end()) value = read_setting_file(file->value); // validated readable
        else if (it != use.settings.end() && !(it->value.empty() && spec.default_value)) value = it->value;
        else if (spec.default_value) value = spec.default_value;
        if (!value) continue;
        if (spec.type == SB_SETTING_DURATION && !value->empty()) {
            if (auto ms = parse_duration_ms(*value)) value = std::to_string(*ms);
        }
        out.emplace_back(spec.name, *value);
    }
    return out;
}

}  // namespace switchboard::core
