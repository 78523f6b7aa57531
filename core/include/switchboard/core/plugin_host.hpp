// switchboard/core/plugin_host.hpp — loading plugins (Boost.DLL), checking their ABI, validating
// tenants' settings against the declared schemas, and calling plugin instances safely.
//
// Plugins are loaded RTLD_LOCAL and stay resident until the process exits: code is never unloaded.
#pragma once

#include <switchboard/abi.h>
#include <switchboard/core/config.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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
/// @throws plugin_load_error (not a shared object, no switchboard_plugin_v1 export, wrong ABI...).
std::shared_ptr<loaded_plugin> load_plugin(const std::string& file);

/// The descriptor as JSON: {"file","name","version","license","description","abi":"M.m",
/// "capabilities":[...],"stages":[...],"settings":[{"name","type","required","secret","default"
/// (null when none),"description"}]}.
std::string describe_plugin_json(const loaded_plugin& plugin);

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

/// Validates every tenant's plugin settings and routes against the catalog: plugin exists,
/// settings are declared (did-you-mean), typed values parse, required ones are set, route stages
/// exist. @returns the diagnostics (empty when valid). Secret values never appear in them.
std::vector<diagnostic> validate_tenants(const config& cfg, const plugin_catalog& catalog);

/// The settings handed to create(): declared defaults applied, durations converted to ms.
std::vector<std::pair<std::string, std::string>> effective_settings(const loaded_plugin& plugin, const plugin_use& use);

/// Services the host gives plugin instances (the implementation of sb_host_api). Called from any
/// worker thread. Exceptions thrown here are caught at the ABI boundary and reported to the plugin
/// as SB_ERR_RETRYABLE with the message.
class host_services {
public:
    virtual ~host_services() = default;
    /// UTC milliseconds since the Unix epoch.
    virtual int64_t now_ms() = 0;
    struct http_result {
        sb_status status = SB_OK;  ///< SB_OK when a response arrived
        int http_status = 0;
        std::vector<std::pair<std::string, std::string>> headers;
        std::string body;
        std::string error;         ///< transport error when status != SB_OK
    };
    /// One outbound HTTP request; `timeout_ms` <= 0 means the configured default. Never throws for
    /// transport failures: they come back as status SB_ERR_RETRYABLE (SB_ERR_INVALID for a bad URL).
    virtual http_result http(const std::string& method, const std::string& url,
                             const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
                             int64_t timeout_ms) = 0;
    /// The value stored under (tenant, plugin, key), nullopt when absent or expired.
    /// @throws on storage failure.
    virtual std::optional<std::string> kv_get(const std::string& tenant, const std::string& plugin,
                                              const std::string& key) = 0;
    /// Stores a value; `ttl_ms` <= 0 keeps it until overwritten. @throws on storage failure or
    /// when storage is not open yet (during check-config).
    virtual void kv_put(const std::string& tenant, const std::string& plugin, const std::string& key,
                        const std::string& value, int64_t ttl_ms) = 0;
    /// Adds `value` to the plugin counter `switchboard_plugin_<name>_total{tenant,plugin}`.
    virtual void metric_add(const std::string& tenant, const std::string& plugin, const std::string& name,
                            double value) = 0;
};

/// An inbound HTTP request as the ingress hands it to a plugin.
struct inbound_request {
    std::string method;
    std::string path;
    std::string query;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

/// What a plugin instance made of a webhook.
struct webhook_outcome {
    bool ok = true;            ///< false: the plugin failed (threw); `error` says why
    int status = 200;
    std::string content_type = "text/plain";
    std::string body;
    std::vector<std::string> events; ///< normalized events, JSON objects, tenant/channel filled in
    std::string error;
};

/// Result of execute() and run_stage().
struct call_outcome {
    sb_status status = SB_OK;
    std::string code;
    std::string message;
    std::vector<std::string> outputs; ///< execute: one JSON result; run_stage: emitted events/commands
};

/// One tenant's instance of a plugin. Thread-safe as the plugin is (plugins must be).
class plugin_instance {
public:
    /// Creates the instance. @throws std::runtime_error naming tenant, plugin and the plugin's message.
    plugin_instance(std::shared_ptr<loaded_plugin> plugin, std::string tenant,
                    std::vector<std::pair<std::string, std::string>> settings, host_services& services);
    ~plugin_instance();
    plugin_instance(const plugin_instance&) = delete;
    plugin_instance& operator=(const plugin_instance&) = delete;

    const std::string& tenant() const { return tenant_; }
    const loaded_plugin& plugin() const { return *plugin_; }
    const std::string& name() const { return plugin_->name(); }

    /// Provider account ids the instance owns (for routing /webhooks/{plugin}); empty when the
    /// plugin declares none. A plugin error is logged and yields an empty list.
    std::vector<std::string> account_ids();
    /// Verifies and normalizes one webhook. Never throws: a plugin failure (error status, exception
    /// at the boundary, malformed event) comes back as ok=false, status 500, no events, and `error`
    /// (secrets redacted). A plugin without webhooks answers 404.
    webhook_outcome handle_webhook(const inbound_request& request);
    /// Executes a command (JSON object text). Never throws: the plugin's status, code and message
    /// (secrets redacted) come back in the outcome; on SB_OK, outputs[0] is the result object.
    call_outcome execute(const std::string& command_json);
    /// Runs stage `stage` (without the plugin prefix) on an event (JSON object text). Never throws;
    /// on SB_OK, outputs are the emitted events and commands with tenant and channel filled in.
    call_outcome run_stage(const std::string& stage, const std::string& event_json);

    /// Replaces every secret setting value in `text` with "***".
    std::string redact(std::string text) const;
    /// Logs with tenant and plugin, secrets redacted.
    void log(int level, const std::string& message) const;

private:
    std::shared_ptr<loaded_plugin> plugin_;
    std::string tenant_;
    std::vector<std::string> secrets_;
    host_services& services_;
    sb_host_api api_{};
    void* handle_ = nullptr;
};

/// Static route keys (provider account ids) of an unverified request, via the plugin's route_keys.
std::vector<std::string> plugin_route_keys(const loaded_plugin& plugin, const inbound_request& request);

}  // namespace switchboard::core
