// Validating tenants' plugin settings and routes against the declared schemas.
#include <switchboard/core/plugins/settings.hpp>

#include <switchboard/sdk/compat.hpp>
#include <switchboard/sdk/events.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <functional>
#include <set>
#include <filesystem>
#include <fstream>


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

namespace {

using report_fn = std::function<void(source_mark, std::string)>;

/// Checks one plugin instance of a tenant: the plugin exists, its settings are declared and well
/// typed, required ones are set.
void validate_use(const tenant_config& t, const plugin_use& use, const plugin_catalog& catalog, const report_fn& err) {
    auto plugin = catalog.find(use.plugin);
    const std::string who = use.name == use.plugin ? "plugin '" + use.plugin + "'"
                                                   : "instance '" + use.name + "' (plugin '" + use.plugin + "')";
    if (!plugin) {
        std::vector<std::string> plugin_names;
        for (auto& p : catalog.plugins) plugin_names.push_back(p->name());
        std::string msg = "tenant '" + t.id + "' uses plugin '" + use.plugin + "', which was not found";
        for (auto& r : catalog.refused)
            if (fs::path(r.file).filename().string() == "switchboard-" + use.plugin + ".so")
                msg += " (" + r.file + " was refused: " + r.reason + ")";
        if (auto s = did_you_mean(use.plugin, plugin_names)) msg += "; did you mean '" + *s + "'?";
        else msg += " in the plugin paths (plugins.paths)";
        err(use.mark, msg);
        return;
    }
    auto& d = plugin->descriptor();
    std::vector<std::string> declared;
    for (size_t i = 0; i < d.settings_count; ++i) declared.push_back(switchboard::sdk::setting_spec_at(d, i).name);
    for (auto& s : use.settings) {
        if (file_reference(*plugin, s.name)) {
            if (!read_setting_file(s.value))
                err(s.value_mark, "setting '" + s.name + "' of " + who + ": cannot read file '" + s.value + "'");
            continue;
        }
        auto spec = plugin->setting(s.name);
        if (!spec) {
            std::string msg = who + " has no setting '" + s.name + "'";
            if (auto m = did_you_mean(s.name, declared)) msg += "; did you mean '" + *m + "'?";
            err(s.key_mark, msg);
            continue;
        }
        bool wants_collection = spec->type == SB_SETTING_LIST || spec->type == SB_SETTING_MAP;
        if (s.value.empty() && !(spec->flags & SB_SETTING_REQUIRED)) continue;
        if (s.collection && !wants_collection) {
            err(s.value_mark, "setting '" + s.name + "' of " + who + " must be a single value, got a " +
                                  (s.value[0] == '[' ? "list" : "mapping"));
            continue;
        }
        if (!s.collection && wants_collection) {
            err(s.value_mark, "setting '" + s.name + "' of " + who + " must be a " +
                                  (spec->type == SB_SETTING_LIST ? "list, e.g. [a, b]" : "mapping, e.g. { key: value }"));
            continue;
        }
        if (auto hint = switchboard::sdk::setting_value_problem(*spec, s.value)) {
            std::string shown = (spec->flags & SB_SETTING_SECRET) ? "(secret value hidden)" : "'" + s.value + "'";
            err(s.value_mark, "setting '" + s.name + "' of " + who + " must be " + *hint + ", got " + shown);
        }
    }
    for (size_t i = 0; i < d.settings_count; ++i) {
        auto& spec = switchboard::sdk::setting_spec_at(d, i);
        if (!(spec.flags & SB_SETTING_REQUIRED)) continue;
        auto it = std::find_if(use.settings.begin(), use.settings.end(), [&](const setting_entry& e) {
            return e.name == spec.name || e.name == std::string(spec.name) + "_file";
        });
        if (it == use.settings.end() || it->value.empty())
            err(use.mark, who + " of tenant '" + t.id + "' requires setting '" + spec.name + "' (" +
                              (spec.description ? spec.description : "") + ")");
    }
}

/// Checks one stage of a route: `instance.stage`, the instance enabled, the stage provided.
void validate_stage(const tenant_config& t, const stage_call& c, const plugin_catalog& catalog, const report_fn& err) {
    auto dot = c.stage.find('.');
    if (dot == std::string::npos) {
        err(c.mark, "stage '" + c.stage + "' must be written plugin.stage, e.g. templates.reply");
        return;
    }
    std::string iname = c.stage.substr(0, dot), sname = c.stage.substr(dot + 1);
    auto use = t.find_plugin(iname);
    if (!use) {
        err(c.mark, "stage '" + c.stage + "' needs plugin '" + iname + "' enabled for tenant '" + t.id +
                        "' under its 'plugins'");
        return;
    }
    auto plugin = catalog.find(use->plugin);
    if (plugin && !plugin->has_stage(sname)) {
        std::vector<std::string> stages;
        for (size_t k = 0; k < plugin->descriptor().stages_count; ++k) stages.push_back(plugin->descriptor().stages[k]);
        std::string msg = "plugin '" + use->plugin + "' has no stage '" + sname + "'";
        if (auto s = did_you_mean(sname, stages)) msg += "; did you mean '" + iname + "." + *s + "'?";
        err(c.mark, msg);
    }
}

/// Checks a route: its event type is not a near miss of an SDK or declared event, and its stages.
void validate_route(const tenant_config& t, const route_config& r, const plugin_catalog& catalog,
                    const report_fn& err) {
    // Plugins define event types of their own (declared in their descriptors), so only a near
    // miss of a known event name is an error: almost certainly a typo that would never match.
    std::vector<std::string> known = {std::string(sdk_events::message_received), std::string(sdk_events::message_echoed),
                                      std::string(sdk_events::message_status),
                                      std::string(sdk_events::conversation_escalated),
                                      std::string(sdk_events::conversation_released),
                                      std::string(sdk_events::lead_scored),
                                      std::string(sdk_events::lead_temperature_changed),
                                      std::string(sdk_events::webhook_unhandled)};
    for (auto& use : t.plugins)
        if (auto p = catalog.find(use.plugin))
            for (size_t i = 0; i < p->descriptor().events_count; ++i)
                if (p->descriptor().events[i]) known.emplace_back(p->descriptor().events[i]);
    if (std::find(known.begin(), known.end(), r.on) == known.end())
        if (auto s = did_you_mean(r.on, known))
            err(r.mark, "route of tenant '" + t.id + "' is on unknown event type '" + r.on + "'; did you mean '" + *s + "'?");
    for (auto& step : r.run)
        for (auto& c : step.tiers) validate_stage(t, c, catalog, err);
}

}  // namespace

std::vector<diagnostic> validate_tenants(const config& cfg, const plugin_catalog& catalog) {
    std::vector<diagnostic> out;
    report_fn err = [&](source_mark m, std::string msg) { out.push_back({cfg.file, m, std::move(msg)}); };
    for (auto& t : cfg.tenants) {
        std::set<std::string> names;
        for (auto& use : t.plugins) {
            if (!names.insert(use.name).second)
                err(use.mark, "tenant '" + t.id + "' names plugin instance '" + use.name + "' twice");
            validate_use(t, use, catalog, err);
        }
        for (auto& r : t.routes) validate_route(t, r, catalog, err);
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> effective_settings(const loaded_plugin& plugin, const plugin_use& use) {
    std::vector<std::pair<std::string, std::string>> out;
    auto& d = plugin.descriptor();
    for (size_t i = 0; i < d.settings_count; ++i) {
        auto& spec = switchboard::sdk::setting_spec_at(d, i);
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
