// switchboard/core/app/runtime.hpp — the running service, wired from the rooms: plugins and tenant
// instances, HTTP ingress, durable store, dispatcher and delivery workers, metrics.
#pragma once

#include <switchboard/core/clock.hpp>
#include <switchboard/core/config/config.hpp>
#include <switchboard/core/plugins/instance.hpp>
#include <switchboard/core/observability/metrics.hpp>
#include <switchboard/core/plugins/catalog.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace switchboard::core {

/// A fully validated configuration with its plugins loaded and every tenant instance created.
/// Construction performs everything `check-config` checks; it touches no database or socket.
class runtime {
public:
    /// How to treat a plugin instance whose create() fails (the plugin refuses a tenant's settings
    /// or throws): `strict` reports it as a config error (check-config); `isolate` logs it with
    /// tenant and plugin, counts it in /metrics and serves every other tenant, answering that
    /// tenant's webhooks for the plugin with 503 (run).
    enum class instance_failures { strict, isolate };

    /// @throws config_error listing every problem (config, plugins, settings, and instance creation
    /// when `failures` is strict).
    explicit runtime(config cfg, instance_failures failures = instance_failures::strict, clock_fn clock = system_now_ms);
    ~runtime();

    /// The configuration it runs.
    const config& cfg() const;
    /// The plugins found on the search path (and those refused).
    const plugin_catalog& catalog() const;
    /// The service's metrics (/metrics).
    metrics& stats();

    /// Runs one command on a tenant's plugin instance now, outside the job queue: an admin's
    /// one-off (e.g. telegram.set_webhook from `switchboard telegram set-webhook`). `command` is a
    /// JSON object with a "type" the instance's plugin declares. Opens the storage (the plugin's
    /// kv, history and contacts are the service's) without serving; safe beside a running service.
    /// @returns the plugin's outcome (outputs[0] is the result on SB_OK).
    /// @throws std::runtime_error naming the tenant/instance when there is no such instance, or
    ///         when its plugin does not declare the command.
    call_outcome execute_command(const std::string& tenant, const std::string& instance, const std::string& command);

    /// Hands escalated conversation `conversation_id` of `tenant` back to the bot (store::release_conversation),
    /// opening the store when the runtime has not started. @returns false when there was nothing to release.
    bool release_conversation(const std::string& tenant, int64_t conversation_id);

    /// Queues again the notification.send commands of `tenant` addressed to `instance` that were
    /// created in [since_ms, until_ms] (UTC ms) and the store still holds (replays excluded): each
    /// keeps its "webhook_id" (the receiver sees the same message id) and gets a fresh job.
    /// @returns how many were queued. @throws std::runtime_error for an unknown tenant or storage failure.
    int replay_notifications(const std::string& tenant, const std::string& instance, int64_t since_ms, int64_t until_ms);

    /// Opens the store, starts the HTTP server and the workers. @throws std::runtime_error.
    void start();
    /// The HTTP port actually bound (after start()).
    uint16_t port() const;
    /// Graceful stop: stop accepting, let in-flight requests commit and answer (server.shutdown_grace),
    /// let workers finish their current job, commit what is queued. Unfinished jobs stay for the next start.
    void stop();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace switchboard::core
