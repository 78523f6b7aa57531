#include <switchboard/core/plugin_host.hpp>

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
    for (size_t i = 0; i < descriptor_->settings_count; ++i)
        if (descriptor_->settings[i].name && name == descriptor_->settings[i].name) return &descriptor_->settings[i];
    return nullptr;
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
    for (size_t i = 0; i < d.stages_count; ++i) stages.emplace_back(d.stages[i] ? d.stages[i] : "");
    static const char* types[] = {"string", "int", "bool", "duration"};
    for (size_t i = 0; i < d.settings_count; ++i) {
        auto& spec = d.settings[i];
        boost::json::object o{{"name", spec.name ? spec.name : ""},
                              {"type", spec.type < 4 ? types[spec.type] : "unknown"},
                              {"required", (spec.flags & SB_SETTING_REQUIRED) != 0},
                              {"secret", (spec.flags & SB_SETTING_SECRET) != 0},
                              {"description", spec.description ? spec.description : ""}};
        if (spec.default_value) o["default"] = spec.default_value;
        else o["default"] = nullptr;
        settings.push_back(std::move(o));
    }
    boost::json::object out{{"file", plugin.file()},
                            {"name", plugin.name()},
                            {"version", d.version ? d.version : ""},
                            {"license", d.license ? d.license : ""},
                            {"description", d.description ? d.description : ""},
                            {"abi", abi_version_string(d.abi_major, d.abi_minor)},
                            {"capabilities", std::move(caps)},
                            {"stages", std::move(stages)},
                            {"settings", std::move(settings)}};
    return boost::json::serialize(out);
}

inspection inspect_plugin(const std::string& helper_program, const std::string& file, int64_t timeout_ms) {
    inspection out;
    int out_pipe[2], err_pipe[2];
    if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) {
        out.error = "cannot create pipes";
        return out;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
    posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
    std::vector<std::string> args = {helper_program, "plugins", "describe", file};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, helper_program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (rc != 0) {
        close(out_pipe[0]);
        close(err_pipe[0]);
        out.error = "cannot start " + helper_program + ": " + std::strerror(rc);
        return out;
    }
    std::string child_out, child_err;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    bool timed_out = false;
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        if (poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[4096];
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
            } else {
                (i == 0 ? child_out : child_err).append(buf, static_cast<size_t>(n));
            }
        }
    }
    for (auto& f : fds)
        if (f.fd >= 0) close(f.fd);
    int status = 0;
    waitpid(pid, &status, 0);
    while (!child_err.empty() && (child_err.back() == '\n' || child_err.back() == '\r')) child_err.pop_back();
    if (timed_out) {
        out.error = "loading the plugin did not finish within " + std::to_string(timeout_ms) + " ms";
    } else if (WIFSIGNALED(status)) {
        out.error = std::string("the plugin crashed while loading (signal ") + std::to_string(WTERMSIG(status)) + ", " +
                    strsignal(WTERMSIG(status)) + ")";
    } else if (WEXITSTATUS(status) != 0) {
        out.error = child_err.empty() ? "the inspector exited with status " + std::to_string(WEXITSTATUS(status)) : child_err;
    } else {
        out.ok = true;
        out.json = child_out;
    }
    return out;
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

// ---------------------------------------------------------------------------------------------
// Host services table handed to instances: C thunks over host_services.

namespace {
using switchboard::sdk::borrow;
using switchboard::sdk::fill_error;
using switchboard::sdk::view;

struct host_ctx {
    plugin_instance* self;
    host_services* services;
    std::string tenant;
    std::string plugin;
};

void thunk_log(void* ctx, int32_t level, sb_str message) {
    auto* c = static_cast<host_ctx*>(ctx);
    c->self->log(level, std::string(view(message)));
}
int64_t thunk_now(void* ctx) { return static_cast<host_ctx*>(ctx)->services->now_ms(); }
sb_status thunk_http(void* ctx, const sb_http_client_request* r, const sb_http_client_response_sink* sink, sb_error* e) {
    auto* c = static_cast<host_ctx*>(ctx);
    try {
        std::vector<std::pair<std::string, std::string>> headers;
        for (size_t i = 0; i < r->header_count; ++i)
            headers.emplace_back(std::string(view(r->headers[i].name)), std::string(view(r->headers[i].value)));
        auto res = c->services->http(std::string(view(r->method)), std::string(view(r->url)), headers,
                                     std::string(view(r->body)), r->timeout_ms);
        if (res.status != SB_OK) {
            fill_error(e, "", res.error);
            return res.status;
        }
        std::vector<sb_header> hs;
        for (auto& [k, v] : res.headers) hs.push_back({borrow(k), borrow(v)});
        sink->on_response(sink->ctx, res.http_status, hs.data(), hs.size(), borrow(res.body));
        return SB_OK;
    } catch (const std::exception& ex) {
        fill_error(e, "", ex.what());
        return SB_ERR_RETRYABLE;
    }
}
sb_status thunk_kv_get(void* ctx, sb_str key, const sb_sink* sink, sb_error* e) {
    auto* c = static_cast<host_ctx*>(ctx);
    try {
        if (auto v = c->services->kv_get(c->tenant, c->plugin, std::string(view(key)))) sink->put(sink->ctx, borrow(*v));
        return SB_OK;
    } catch (const std::exception& ex) {
        fill_error(e, "", ex.what());
        return SB_ERR_RETRYABLE;
    }
}
sb_status thunk_kv_put(void* ctx, sb_str key, sb_str value, int64_t ttl_ms, sb_error* e) {
    auto* c = static_cast<host_ctx*>(ctx);
    try {
        c->services->kv_put(c->tenant, c->plugin, std::string(view(key)), std::string(view(value)), ttl_ms);
        return SB_OK;
    } catch (const std::exception& ex) {
        fill_error(e, "", ex.what());
        return SB_ERR_RETRYABLE;
    }
}
void thunk_metric(void* ctx, sb_str name, double value) {
    auto* c = static_cast<host_ctx*>(ctx);
    try {
        c->services->metric_add(c->tenant, c->plugin, std::string(view(name)), value);
    } catch (...) {
    }
}

/// Adds tenant and channel to an emitted event when the plugin left them out.
std::string complete_event(sb_str json, const std::string& tenant, const std::string& plugin) {
    auto v = boost::json::parse(view(json));
    if (!v.is_object()) throw std::runtime_error("emitted value is not a JSON object");
    auto& o = v.as_object();
    if (!o.contains("type") || !o["type"].is_string()) throw std::runtime_error("emitted object has no \"type\"");
    o["tenant"] = tenant;
    if (!o.contains("channel")) o["channel"] = plugin;
    return boost::json::serialize(o);
}
}  // namespace

plugin_instance::plugin_instance(std::shared_ptr<loaded_plugin> plugin, std::string tenant,
                                 std::vector<std::pair<std::string, std::string>> settings, host_services& services)
    : plugin_(std::move(plugin)), tenant_(std::move(tenant)), services_(services) {
    for (auto& [k, v] : settings) {
        auto spec = plugin_->setting(k);
        // Values under 6 characters would redact ordinary words; real tokens and app secrets are
        // far longer (abi.h documents the limit).
        if (spec && (spec->flags & SB_SETTING_SECRET) && v.size() >= 6) secrets_.push_back(v);
    }
    auto* ctx = new host_ctx{this, &services_, tenant_, plugin_->name()};
    api_.struct_size = sizeof(sb_host_api);
    api_.ctx = ctx;
    api_.log = thunk_log;
    api_.now_ms = thunk_now;
    api_.http_request = thunk_http;
    api_.kv_get = thunk_kv_get;
    api_.kv_put = thunk_kv_put;
    api_.metric_add = thunk_metric;

    std::vector<sb_setting_value> values;
    for (auto& [k, v] : settings) values.push_back({borrow(k), borrow(v)});
    sb_instance_config cfg{borrow(tenant_), values.data(), values.size()};
    sb_error err{};
    sb_status st;
    try {
        st = plugin_->descriptor().create(&api_, &cfg, &handle_, &err);
    } catch (...) {
        st = SB_ERR_FINAL;
        fill_error(&err, "", "create() threw across the ABI boundary");
    }
    if (st != SB_OK) {
        delete ctx;
        api_.ctx = nullptr;
        throw std::runtime_error("plugin '" + plugin_->name() + "' refused the settings of tenant '" + tenant_ +
                                 "': " + redact(err.message));
    }
}

plugin_instance::~plugin_instance() {
    if (handle_) plugin_->descriptor().destroy(handle_);
    delete static_cast<host_ctx*>(api_.ctx);
}

std::string plugin_instance::redact(std::string text) const {
    for (auto& s : secrets_) {
        for (size_t pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos + 3)) text.replace(pos, s.size(), "***");
    }
    return text;
}

void plugin_instance::log(int level, const std::string& message) const {
    auto line = redact(message);
    auto lvl = level <= SB_LOG_DEBUG ? spdlog::level::debug
               : level == SB_LOG_INFO ? spdlog::level::info
               : level == SB_LOG_WARN ? spdlog::level::warn
                                      : spdlog::level::err;
    spdlog::log(lvl, "[tenant={} plugin={}] {}", tenant_, plugin_->name(), line);
}

std::vector<std::string> plugin_instance::account_ids() {
    std::vector<std::string> out;
    if (!plugin_->descriptor().account_ids) return out;
    sb_sink sink{&out, [](void* c, sb_str s) { static_cast<std::vector<std::string>*>(c)->emplace_back(view(s)); }};
    sb_error err{};
    if (plugin_->descriptor().account_ids(handle_, &sink, &err) != SB_OK)
        log(SB_LOG_ERROR, std::string("account_ids failed: ") + err.message);
    return out;
}

webhook_outcome plugin_instance::handle_webhook(const inbound_request& request) {
    webhook_outcome out;
    if (!plugin_->descriptor().handle_webhook) {
        out.status = 404;
        out.body = "this plugin receives no webhooks";
        return out;
    }
    std::vector<sb_header> hs;
    for (auto& [k, v] : request.headers) hs.push_back({borrow(k), borrow(v)});
    sb_http_request req{borrow(request.method), borrow(request.path), borrow(request.query), hs.data(), hs.size(),
                        borrow(request.body)};
    struct sink_state {
        webhook_outcome* out;
        plugin_instance* self;
        bool responded = false;
        std::string emit_error;
    } st{&out, this, false, {}};
    sb_webhook_sink sink{&st,
                         [](void* c, int32_t status, sb_str ct, sb_str body) {
                             auto* s = static_cast<sink_state*>(c);
                             if (s->responded) return;
                             s->responded = true;
                             s->out->status = status;
                             s->out->content_type = std::string(view(ct));
                             s->out->body = std::string(view(body));
                         },
                         [](void* c, sb_str event) {
                             auto* s = static_cast<sink_state*>(c);
                             try {
                                 s->out->events.push_back(complete_event(event, s->self->tenant(), s->self->name()));
                             } catch (const std::exception& e) {
                                 s->emit_error = e.what();
                             }
                         }};
    sb_error err{};
    sb_status status;
    try {
        status = plugin_->descriptor().handle_webhook(handle_, &req, &sink, &err);
    } catch (...) {
        status = SB_ERR_FINAL;
        fill_error(&err, "", "exception crossed the ABI boundary");
    }
    if (status != SB_OK || !st.emit_error.empty()) {
        out.ok = false;
        out.status = 500;
        out.events.clear();
        out.error = redact(status != SB_OK ? err.message : "invalid event: " + st.emit_error);
    }
    return out;
}

call_outcome plugin_instance::execute(const std::string& command_json) {
    call_outcome out;
    if (!plugin_->descriptor().execute) {
        out.status = SB_ERR_UNSUPPORTED;
        out.message = "plugin '" + name() + "' executes no commands";
        return out;
    }
    sb_sink sink{&out.outputs, [](void* c, sb_str s) { static_cast<std::vector<std::string>*>(c)->emplace_back(view(s)); }};
    sb_error err{};
    try {
        out.status = plugin_->descriptor().execute(handle_, borrow(command_json), &sink, &err);
    } catch (...) {
        out.status = SB_ERR_FINAL;
        fill_error(&err, "", "exception crossed the ABI boundary");
    }
    if (out.status != SB_OK) {
        out.code = redact(err.code);
        out.message = redact(err.message);
        out.outputs.clear();
    }
    return out;
}

call_outcome plugin_instance::run_stage(const std::string& stage, const std::string& event_json) {
    call_outcome out;
    if (!plugin_->descriptor().run_stage) {
        out.status = SB_ERR_UNSUPPORTED;
        out.message = "plugin '" + name() + "' provides no stages";
        return out;
    }
    struct state {
        call_outcome* out;
        plugin_instance* self;
        std::string error;
    } st{&out, this, {}};
    sb_sink sink{&st, [](void* c, sb_str s) {
                     auto* x = static_cast<state*>(c);
                     try {
                         x->out->outputs.push_back(complete_event(s, x->self->tenant(), x->self->name()));
                     } catch (const std::exception& e) {
                         x->error = e.what();
                     }
                 }};
    sb_error err{};
    try {
        out.status = plugin_->descriptor().run_stage(handle_, borrow(stage), borrow(event_json), &sink, &err);
    } catch (...) {
        out.status = SB_ERR_FINAL;
        fill_error(&err, "", "exception crossed the ABI boundary");
    }
    if (out.status == SB_OK && !st.error.empty()) {
        out.status = SB_ERR_FINAL;
        fill_error(&err, "", "invalid output: " + st.error);
    }
    if (out.status != SB_OK) {
        out.code = redact(err.code);
        out.message = redact(err.message);
        out.outputs.clear();
    }
    return out;
}

std::vector<std::string> plugin_route_keys(const loaded_plugin& plugin, const inbound_request& request) {
    std::vector<std::string> out;
    if (!plugin.descriptor().route_keys) return out;
    std::vector<sb_header> hs;
    for (auto& [k, v] : request.headers) hs.push_back({borrow(k), borrow(v)});
    sb_http_request req{borrow(request.method), borrow(request.path), borrow(request.query), hs.data(), hs.size(),
                        borrow(request.body)};
    sb_sink sink{&out, [](void* c, sb_str s) { static_cast<std::vector<std::string>*>(c)->emplace_back(view(s)); }};
    sb_error err{};
    try {
        plugin.descriptor().route_keys(&req, &sink, &err);
    } catch (...) {
    }
    return out;
}

}  // namespace switchboard::core
