// The running service: wires configuration, plugins, store, ingress, dispatch and delivery, and
// implements the host services that plugin instances call.
#include <switchboard/core/app/runtime.hpp>

#include <switchboard/core/delivery/command_runner.hpp>
#include <switchboard/core/delivery/worker_pool.hpp>
#include <switchboard/core/dispatch/keys.hpp>
#include <switchboard/core/dispatch/route_runner.hpp>
#include <switchboard/core/json_fields.hpp>
#include <switchboard/core/ingress/http_server.hpp>
#include <switchboard/core/ingress/webhook_router.hpp>
#include <switchboard/core/observability/log_limiter.hpp>
#include <switchboard/core/plugins/http_client.hpp>
#include <switchboard/core/plugins/registry.hpp>
#include <switchboard/core/plugins/settings.hpp>
#include <switchboard/core/store/store.hpp>

#include <switchboard/sdk/events.hpp>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>


namespace switchboard::core {

namespace {

/// Where to point an instance's refusal: at the setting its message names ('locale', or a
/// message starting with the setting name), else at the plugin's key.
source_mark setting_mark(const plugin_use& use, const std::string& message) {
    auto colon = message.find("': ");
    std::string reason = colon == std::string::npos ? message : message.substr(colon + 3);
    for (auto& s : use.settings)
        if (reason.rfind(s.name + " ", 0) == 0 || reason.find("'" + s.name + "'") != std::string::npos ||
            reason.find("setting " + s.name) != std::string::npos)
            return s.value_mark;
    return use.mark;
}

bool is_refusal(int status) { return status == 400 || status == 404 || status == 405 || status == 413 || status == 431; }

}  // namespace

struct runtime::impl : host_services {
    config cfg;
    clock_fn clock;
    plugin_catalog catalog;
    metrics stats;
    instance_registry instances;
    std::unique_ptr<store> db;
    std::unique_ptr<dispatch::route_runner> routes;
    std::unique_ptr<delivery::command_runner> commands;
    std::unique_ptr<delivery::worker_pool> workers;
    std::unique_ptr<ingress::webhook_router> router;
    std::unique_ptr<http_server> server;
    log_limiter refusals{5, 10'000};

    // --- host_services -------------------------------------------------------------------------
    int64_t now_ms() override { return clock(); }

    http_result http(const outbound_http& request) override {
        outbound_http r = request;
        if (r.timeout_ms <= 0) r.timeout_ms = cfg.delivery.http_timeout_ms;
        auto res = http_request(r);
        http_result out;
        switch (res.failure) {
        case http_failure::none: break;
        case http_failure::invalid_request:
            out.status = SB_ERR_INVALID;
            out.error = "HTTP request refused: " + res.error;
            return out;
        case http_failure::too_large:
        case http_failure::refused_address:
            out.status = SB_ERR_FINAL;
            out.error = "HTTP request refused: " + res.error;
            return out;
        case http_failure::timeout:
            out.status = SB_ERR_RETRYABLE;
            out.error = "timed out: " + res.error;
            return out;
        case http_failure::transport:
            out.status = SB_ERR_RETRYABLE;
            out.error = "HTTP request failed: " + res.error;
            return out;
        }
        out.http_status = res.status;
        out.headers = std::move(res.headers);
        out.body = std::move(res.body);
        return out;
    }

    store* storage() override { return db.get(); }

    void metric_add(const std::string& tenant, const std::string& plugin, const std::string& name,
                    double value) override {
        std::string clean;
        for (char c : name) clean += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
        stats.add("switchboard_plugin_" + clean + "_total", {{"tenant", tenant}, {"plugin", plugin}}, value);
    }

    void metric_set(const std::string& tenant, const std::string& plugin, const std::string& name,
                    double value) override {
        std::string clean;
        for (char c : name) clean += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
        stats.set("switchboard_plugin_" + clean, {{"tenant", tenant}, {"plugin", plugin}}, value);
    }

    // --- set-up --------------------------------------------------------------------------------
    void prepare(runtime::instance_failures failures) {
        catalog = scan_plugins(plugin_search_paths(cfg));
        for (auto& r : catalog.refused) spdlog::warn("plugin {} refused: {}", r.file, r.reason);
        auto diags = validate_tenants(cfg, catalog);
        if (!diags.empty()) throw config_error(diags);
        for (auto& t : cfg.tenants) {
            for (auto& use : t.plugins) {
                instances.serve(use.name);
                auto plugin = catalog.find(use.plugin);
                std::string url = cfg.server.public_url.empty() ? ""
                                                                : cfg.server.public_url + "/webhooks/" + use.name + "/" + t.id;
                try {
                    instances.add(std::make_unique<plugin_instance>(plugin, t.id, use.name, effective_settings(*plugin, use),
                                                                    *this, url));
                } catch (const std::exception& e) {
                    if (failures == runtime::instance_failures::strict) {
                        diags.push_back({cfg.file, setting_mark(use, e.what()), e.what()});
                        continue;
                    }
                    spdlog::error("[tenant={} plugin={}] instance failed to start, the tenant's {} webhooks will be "
                                  "answered 503 while every other tenant is served: {}",
                                  t.id, use.name, use.name, e.what());
                    stats.add("switchboard_plugin_errors_total", {{"tenant", t.id}, {"plugin", use.name}});
                    instances.add_failure(t.id, use.name);
                }
            }
        }
        if (!diags.empty()) throw config_error(diags);
        describe_metrics();
    }

    void describe_metrics() {
        stats.describe("switchboard_http_requests_total", "counter", "HTTP requests answered, by route, method and status.");
        stats.describe("switchboard_http_request_duration_seconds", "histogram", "Time to answer HTTP requests.");
        stats.describe("switchboard_events_total", "counter", "Normalized events stored, by type.");
        stats.describe("switchboard_webhook_duplicates_total", "counter", "Provider retries dropped as duplicates.");
        stats.describe("switchboard_jobs", "gauge", "Jobs in the durable outbox, by state.");
        stats.describe("switchboard_delivery_attempts_total", "counter", "Command attempts (sends...), by plugin and outcome.");
        stats.describe("switchboard_route_jobs_total", "counter", "Route jobs (stages run on an event), by outcome.");
        stats.describe("switchboard_delivery_latency_seconds", "histogram", "Duration of delivery attempts.");
        stats.describe("switchboard_plugin_errors_total", "counter", "Plugin calls that failed, by tenant and plugin.");
    }

    void on_response(const std::string& method, const std::string& route, int status, double seconds) {
        stats.add("switchboard_http_requests_total", {{"route", route}, {"method", method}, {"status", std::to_string(status)}});
        stats.observe("switchboard_http_request_duration_seconds", {{"route", route}}, seconds);
        if (!is_refusal(status)) return;
        // Refused requests are logged: at debug always, at info a few per route and status every
        // 10 s (a scanner or a misconfigured provider cannot flood the log).
        int64_t suppressed = 0;
        bool info = refusals.allow(route + " " + std::to_string(status), clock(), &suppressed);
        auto level = info ? spdlog::level::info : spdlog::level::debug;
        if (suppressed)
            spdlog::info("http: {} more refused request(s) on {} with {} were not logged at info", suppressed, route, status);
        spdlog::log(level, "http: refused {} {} with {}", method, route, status);
    }

    /// Opens the store (migrating it), without serving.
    void open_storage() {
        store::options so;
        so.url = cfg.storage.url;
        so.pool_size = cfg.delivery.workers + cfg.delivery.reply_workers + cfg.delivery.command_workers + 2;
        so.now_ms = clock;
        so.route_job = [this](const filed_event& e) { return dispatch::route_job_for(cfg, e); };
        db = store::open(so);
    }

    void start() {
        open_storage();
        if (db->is_sqlite())
            if (int n = db->release_running(clock())) spdlog::info("dispatcher: {} interrupted job(s) will run again", n);
        stats.gauge_callback("switchboard_jobs", [this] {
            std::vector<std::pair<labels, double>> out;
            for (auto& [state, n] : db->job_counts()) out.push_back({{{"state", state}}, static_cast<double>(n)});
            return out;
        });
        routes = std::make_unique<dispatch::route_runner>(cfg, instances, *db, stats, clock);
        commands = std::make_unique<delivery::command_runner>(cfg.delivery, instances, *db, stats, clock);
        workers = std::make_unique<delivery::worker_pool>(cfg.delivery, *db, *routes, *commands, stats, clock);
        router = std::make_unique<ingress::webhook_router>(
            catalog, instances, *db, stats, clock, [this] { workers->notify(job_class::stages); },
            [this](const std::string& t, const std::string& p, const std::string& n, double v) { metric_add(t, p, n, v); });
        router->set_public_url(cfg.server.public_url);
        http_server_options ho;
        ho.host = cfg.server.host;
        ho.port = cfg.server.port;
        ho.max_body_bytes = cfg.server.max_body_bytes;
        ho.header_timeout_ms = cfg.server.header_timeout_ms;
        ho.idle_timeout_ms = cfg.server.idle_timeout_ms;
        ho.threads = cfg.server.threads;
        server = std::make_unique<http_server>(
            ho, [this](http_request_data&& r, http_responder respond) { router->handle(std::move(r), std::move(respond)); },
            [this](const std::string& method, const std::string& route, int status, double seconds) {
                on_response(method, route, status, seconds);
            });
        server->start();
        workers->start();
    }

    void stop() {
        if (server) {
            server->stop(cfg.server.shutdown_grace_ms);
            server.reset();
        }
        if (workers) workers->stop();
        if (db) db->close();
    }
};

runtime::runtime(config cfg, instance_failures failures, clock_fn clock) : impl_(std::make_unique<impl>()) {
    impl_->cfg = std::move(cfg);
    impl_->clock = std::move(clock);
    impl_->prepare(failures);
}

runtime::~runtime() { stop(); }

const config& runtime::cfg() const { return impl_->cfg; }
const plugin_catalog& runtime::catalog() const { return impl_->catalog; }
metrics& runtime::stats() { return impl_->stats; }
uint16_t runtime::port() const { return impl_->server ? impl_->server->bound_port() : 0; }

call_outcome runtime::execute_command(const std::string& tenant, const std::string& instance,
                                      const std::string& command) {
    auto* inst = impl_->instances.find(tenant, instance);
    if (!inst) throw std::runtime_error("tenant '" + tenant + "' has no plugin instance '" + instance + "'");
    auto parsed = boost::json::parse(command).as_object();
    const std::string type = parsed.contains("type") && parsed.at("type").is_string()
                                 ? std::string(parsed.at("type").as_string())
                                 : std::string();
    if (!inst->plugin().executes(type))
        throw std::runtime_error("plugin '" + inst->plugin().name() + "' does not declare command '" + type + "'");
    if (!impl_->db) impl_->open_storage(); // the plugin's kv (link codes...) is the service's
    call_context ctx;
    ctx.deadline_ms = impl_->clock() + impl_->cfg.delivery.http_timeout_ms;
    ctx.idempotency_key = dispatch::idempotency_key(tenant, "admin:" + instance, command);
    return inst->execute(command, ctx);
}

int runtime::replay_notifications(const std::string& tenant, const std::string& instance, int64_t since_ms,
                                  int64_t until_ms) {
    if (!impl_->cfg.find_tenant(tenant)) throw std::runtime_error("no tenant '" + tenant + "' in the config");
    if (!impl_->db) impl_->open_storage();
    const int64_t now = impl_->clock();
    int added = 0;
    for (auto& c : impl_->db->commands_between(tenant, since_ms, until_ms)) {
        boost::system::error_code ec;
        auto v = boost::json::parse(c.payload, ec);
        if (ec || !v.is_object()) continue;
        auto& cmd = v.as_object();
        if (json_fields::str(cmd, "type") != sdk::events::notification_send ||
            dispatch::command_target(cmd) != instance || cmd.contains("replay_of"))
            continue;
        // The receiver sees the same message again (its webhook id stays), on a fresh job whose
        // own idempotency key counts its own attempts.
        const std::string original = json_fields::str(cmd, "idempotency_key");
        if (!cmd.contains("webhook_id") && !original.empty()) cmd["webhook_id"] = "msg_" + original;
        cmd["replay_of"] = c.id;
        cmd["idempotency_key"] = dispatch::idempotency_key(tenant, "replay:" + std::to_string(c.id), std::to_string(now));
        if (impl_->db->enqueue_command(tenant, c.lane, "replay:" + std::to_string(c.id) + ":" + std::to_string(now),
                                       boost::json::serialize(cmd), now))
            ++added;
    }
    return added;
}

bool runtime::release_conversation(const std::string& tenant, int64_t conversation_id) {
    if (!impl_->db) impl_->open_storage();
    return impl_->db->release_conversation(tenant, conversation_id, impl_->clock());
}

void runtime::start() {
    auto& m = *impl_;
    m.start();
    spdlog::info("switchboard {} listening on {}:{} with {} tenant(s), {} plugin(s), storage {}", SWITCHBOARD_VERSION,
                 m.cfg.server.host, port(), m.cfg.tenants.size(), m.catalog.plugins.size(),
                 m.db->is_sqlite() ? m.cfg.storage.url : "postgresql");
}

void runtime::stop() { impl_->stop(); }

}  // namespace switchboard::core
