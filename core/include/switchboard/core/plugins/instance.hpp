// switchboard/core/plugins/instance.hpp — one tenant's instance of a plugin: the host services table handed to
// it and the guarded calls into it (no exception, no malformed event crosses back).
#pragma once

#include <switchboard/abi.h>
#include <switchboard/core/plugins/catalog.hpp>
#include <switchboard/core/plugins/http_client.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::core {
class store;

/// Services the host gives plugin instances (behind sb_host_api). Called from any worker thread.
/// Exceptions thrown here are caught at the ABI boundary and reported to the plugin as
/// SB_ERR_RETRYABLE with the message.
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
    /// One outbound HTTP request (timeouts <= 0 mean the configured defaults). Never throws for
    /// transport failures: they come back as SB_ERR_RETRYABLE (SB_ERR_INVALID for a bad URL,
    /// SB_ERR_FINAL for a too large response or a refused private address).
    virtual http_result http(const outbound_http& request) = 0;
    /// The storage behind kv, history and contacts; nullptr while none is open (check-config).
    virtual store* storage() = 0;
    /// Adds `value` to the plugin counter `switchboard_plugin_<name>_total{tenant,plugin}`.
    virtual void metric_add(const std::string& tenant, const std::string& plugin, const std::string& name,
                            double value) = 0;
    /// Sets the plugin gauge `switchboard_plugin_<name>{tenant,plugin}` (ABI 2.1 metric_set).
    virtual void metric_set(const std::string& tenant, const std::string& plugin, const std::string& name,
                            double value) {
        (void)tenant, (void)plugin, (void)name, (void)value;
    }
};

/// An inbound HTTP request as the ingress hands it to a plugin.
struct inbound_request {
    std::string method;
    std::string path;
    std::string query;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string public_url;   ///< server.public_url + the original target; "" when not configured
    std::string peer_address; ///< TCP peer, no port
    std::string instance;     ///< the instance name the URL addressed ("" when routed by account id)
};

/// Whether a plugin handled a webhook.
enum class webhook_handling {
    answered,      ///< the plugin answered (any status) and emitted `events`
    plugin_failed, ///< the plugin failed (error status, exception, malformed event): `error` says why
};

/// What a plugin instance made of a webhook.
struct webhook_outcome {
    webhook_handling handling = webhook_handling::answered;
    int status = 200;
    std::string content_type = "text/plain";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers; ///< extra response headers the plugin set
    std::vector<std::string> events; ///< normalized events, JSON objects, tenant/channel filled in
    std::string error;
    /// Plugin counters (name, increment) the plugin added while handling the webhook: the caller
    /// applies them (host_services::metric_add) once the outcome is final — at once for a
    /// handshake or a refusal, after the commit for an accepted webhook, never for one answered
    /// 500 (plugin failed) or 503 (not stored).
    std::vector<std::pair<std::string, double>> metrics;
};

/// Result of execute() and run_stage().
struct call_outcome {
    sb_status status = SB_OK;
    std::string code;
    std::string message;
    int64_t retry_after_ms = 0;       ///< with SB_ERR_RETRY_AFTER: the deferral the plugin asked for (0 = backoff)
    std::vector<std::string> outputs; ///< execute: the JSON result, then events; run_stage: emitted events/commands
};

/// The call context of one execute() or run_stage() (sb_call_context).
struct call_context {
    int64_t deadline_ms = 0;         ///< absolute, host clock (UTC ms); 0 = none
    int attempt = 1;
    std::string idempotency_key;
    std::string params_json = "{}";  ///< the stage's `with:` parameters
    std::string earlier_outputs_json = "[]";
};

/// One tenant's instance of a plugin. Thread-safe as the plugin is (plugins must be).
class plugin_instance {
public:
    /// Creates the instance. @throws std::runtime_error naming tenant, plugin and the plugin's message.
    /// `instance_name` is the key the tenant's config gives it (the plugin name, or a `use:` entry's
    /// key); `webhook_url` its public webhook URL ("" without server.public_url).
    plugin_instance(std::shared_ptr<loaded_plugin> plugin, std::string tenant, std::string instance_name,
                    std::vector<std::pair<std::string, std::string>> settings, host_services& services,
                    std::string webhook_url = {});
    ~plugin_instance();
    plugin_instance(const plugin_instance&) = delete;
    plugin_instance& operator=(const plugin_instance&) = delete;

    const std::string& tenant() const { return tenant_; }
    const loaded_plugin& plugin() const { return *plugin_; }
    /// The instance name routes, commands and webhook URLs address.
    const std::string& name() const { return name_; }

    /// Provider account ids the instance owns (for routing /webhooks/{plugin}); empty when the
    /// plugin declares none. A plugin error is logged and yields an empty list.
    std::vector<std::string> account_ids();
    /// Verifies and normalizes one webhook. Never throws: a plugin failure (error status, exception
    /// at the boundary, malformed event) comes back as webhook_handling::plugin_failed, status 500, no events, and `error`
    /// (secrets redacted). A plugin without webhooks answers 404.
    webhook_outcome handle_webhook(const inbound_request& request);
    /// Executes a command (JSON object text). Never throws: the plugin's status, code and message
    /// (secrets redacted) come back in the outcome; on SB_OK, outputs[0] is the result object.
    call_outcome execute(const std::string& command_json, const call_context& context = {});
    /// Runs stage `stage` (without the plugin prefix) on an event (JSON object text). Never throws;
    /// on SB_OK, outputs are the emitted events and commands with tenant and channel filled in.
    call_outcome run_stage(const std::string& stage, const std::string& event_json, const call_context& context = {});

    /// The value the instance was created with for setting `name`, else the setting's declared
    /// default; nullopt when neither exists.
    std::optional<std::string> setting_value(std::string_view name) const;

    /// Adds a secret obtained at run time to the redaction list (sb_host_api.register_secret).
    void add_secret(std::string secret);

    /// Replaces every secret setting value in `text` with "***".
    std::string redact(std::string text) const;
    /// Logs with tenant and plugin, secrets redacted.
    void log(int level, const std::string& message) const;

private:
    std::shared_ptr<loaded_plugin> plugin_;
    std::string tenant_;
    std::string name_;
    std::vector<std::pair<std::string, std::string>> settings_;
    mutable std::mutex secrets_mu_;
    std::vector<std::string> secrets_;
    host_services& services_;
    sb_host_api api_{};
    void* handle_ = nullptr;
};

/// Static route keys (provider account ids) of an unverified request, via the plugin's route_keys.
std::vector<std::string> plugin_route_keys(const loaded_plugin& plugin, const inbound_request& request);

}  // namespace switchboard::core
