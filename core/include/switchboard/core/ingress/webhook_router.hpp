// switchboard/core/ingress/webhook_router.hpp — answering HTTP requests: /healthz, /metrics and
// the webhook routes. A webhook goes to the plugin instance(s) it addresses (by tenant in the
// URL, or by the provider account ids in the payload); its raw body and events are handed to the
// store, and the request is acknowledged only after they are committed.
#pragma once

#include <switchboard/core/clock.hpp>
#include <switchboard/core/ingress/http_server.hpp>
#include <switchboard/core/observability/metrics.hpp>
#include <switchboard/core/plugins/catalog.hpp>
#include <switchboard/core/plugins/registry.hpp>
#include <switchboard/core/store/store.hpp>

#include <functional>
#include <optional>
#include <string>

namespace switchboard::core::ingress {

class webhook_router {
public:
    /// `on_jobs_created` runs (on the writer thread) after a commit that created jobs;
    /// `plugin_metric(tenant, plugin, name, value)` applies a plugin counter.
    webhook_router(const plugin_catalog& catalog, const instance_registry& instances, store& db, metrics& stats,
                   clock_fn clock, std::function<void()> on_jobs_created,
                   std::function<void(const std::string&, const std::string&, const std::string&, double)> plugin_metric);

    /// Sets server.public_url ("https://bot.example.com"): plugins then see the URL the provider
    /// called (public URL + original target). Call before serving.
    void set_public_url(std::string url) { public_url_ = std::move(url); }

    /// Answers one request through `respond`, possibly later from the store's writer thread.
    /// POST, and GET answered 2xx with events (provider callbacks), are stored before the answer.
    /// Statuses: 200/2xx from the plugin once committed; 401/4xx as the plugin answers (nothing
    /// stored); 404 unknown route, plugin or tenant; 405 wrong method; 500 the plugin failed;
    /// 503 storage failed or the tenant's instance failed to start.
    void handle(http_request_data&& req, http_responder respond);

private:
    /// The instances a webhook addresses (by tenant in the URL, every instance for a GET handshake
    /// without tenant, or the owners of the payload's account ids), or the refusal to send.
    struct targets {
        std::vector<plugin_instance*> instances;
        std::optional<http_response_data> refusal;
    };
    targets resolve_targets(const inbound_request& in, const loaded_plugin& loaded,
                            const std::vector<std::string>& segments) const;
    void handle_webhook(http_request_data&& req, http_responder respond, const std::vector<std::string>& segments);
    /// Answers after every target handled the webhook: stored first when accepted.
    void answer(const inbound_request& in, const std::string& plugin, const std::string& route,
                std::vector<plugin_instance*>& targets, std::vector<webhook_outcome>& outcomes, http_responder respond);
    void store_and_acknowledge(const inbound_request& in, const std::string& plugin, const std::string& route,
                               std::vector<plugin_instance*>& targets, std::vector<webhook_outcome>& outcomes,
                               http_responder respond);

    const plugin_catalog& catalog_;
    const instance_registry& instances_;
    store& db_;
    metrics& stats_;
    clock_fn clock_;
    std::function<void()> on_jobs_created_;
    std::function<void(const std::string&, const std::string&, const std::string&, double)> plugin_metric_;
    std::string public_url_;
};

}  // namespace switchboard::core::ingress
