#include <switchboard/core/runtime.hpp>

#include <switchboard/core/http_client.hpp>
#include <switchboard/core/http_server.hpp>
#include <switchboard/core/store.hpp>

#include "json_fields.hpp"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace switchboard::core {

namespace json = boost::json;

int64_t system_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

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

bool is_command(const std::string& type) {
    static const std::set<std::string> commands = {"message.send", "notification.send", "lead.upsert",
                                                   "payment.invoice.create"};
    return commands.count(type) > 0;
}

using json_fields::num;
using json_fields::str;

}  // namespace

struct runtime::impl : host_services {
    config cfg;
    clock_fn clock;
    plugin_catalog catalog;
    metrics stats;
    // tenant -> plugin -> instance
    std::map<std::string, std::map<std::string, std::unique_ptr<plugin_instance>>> instances;
    // plugin -> account id -> instances
    std::map<std::string, std::map<std::string, std::vector<plugin_instance*>>> accounts;
    // plugins some tenant enables (whether or not its instance started): the ones with webhook routes
    std::set<std::string> served_plugins;
    // tenant -> plugin -> why create() failed (isolated instances)
    std::map<std::string, std::map<std::string, std::string>> failed_instances;
    std::unique_ptr<store> db;
    std::unique_ptr<http_server> server;
    std::vector<std::thread> workers;
    std::mutex mu;
    std::condition_variable wake;
    bool stopping = false;
    uint64_t wake_seq = 0;

    // --- host_services -------------------------------------------------------------------------
    int64_t now_ms() override { return clock(); }

    http_result http(const std::string& method, const std::string& url,
                     const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
                     int64_t timeout_ms) override {
        auto r = http_request(method, url, headers, body, timeout_ms > 0 ? timeout_ms : cfg.delivery.http_timeout_ms);
        http_result out;
        if (!r.ok) {
            out.status = r.error.find("URL") != std::string::npos ? SB_ERR_INVALID : SB_ERR_RETRYABLE;
            out.error = (r.timed_out ? "timed out: " : "HTTP request failed: ") + r.error;
            return out;
        }
        out.http_status = r.status;
        out.headers = std::move(r.headers);
        out.body = std::move(r.body);
        return out;
    }

    std::optional<std::string> kv_get(const std::string& tenant, const std::string& plugin,
                                      const std::string& key) override {
        if (!db) return std::nullopt;
        return db->kv_get(tenant, plugin, key, clock());
    }

    void kv_put(const std::string& tenant, const std::string& plugin, const std::string& key, const std::string& value,
                int64_t ttl_ms) override {
        if (!db) throw std::runtime_error("storage is not open");
        std::optional<int64_t> exp;
        if (ttl_ms > 0) exp = clock() + ttl_ms;
        db->kv_put(tenant, plugin, key, value, exp);
    }

    void metric_add(const std::string& tenant, const std::string& plugin, const std::string& name,
                    double value) override {
        std::string clean;
        for (char c : name) clean += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
        stats.add("switchboard_plugin_" + clean + "_total", {{"tenant", tenant}, {"plugin", plugin}}, value);
    }

    // --- set-up --------------------------------------------------------------------------------
    void prepare(runtime::instance_failures failures) {
        catalog = scan_plugins(plugin_search_paths(cfg));
        for (auto& r : catalog.refused) spdlog::warn("plugin {} refused: {}", r.file, r.reason);
        auto diags = validate_tenants(cfg, catalog);
        if (!diags.empty()) throw config_error(diags);
        for (auto& t : cfg.tenants) {
            for (auto& use : t.plugins) {
                auto plugin = catalog.find(use.plugin);
                try {
                    auto inst = std::make_unique<plugin_instance>(plugin, t.id, effective_settings(*plugin, use), *this);
                    for (auto& id : inst->account_ids())
                        if (!id.empty()) accounts[use.plugin][id].push_back(inst.get());
                    instances[t.id][use.plugin] = std::move(inst);
                } catch (const std::exception& e) {
                    if (failures == runtime::instance_failures::strict) {
                        diags.push_back({cfg.file, setting_mark(use, e.what()), e.what()});
                    } else {
                        spdlog::error("[tenant={} plugin={}] instance failed to start, the tenant's {} webhooks will be "
                                      "answered 503 while every other tenant is served: {}",
                                      t.id, use.plugin, use.plugin, e.what());
                        stats.add("switchboard_plugin_errors_total", {{"tenant", t.id}, {"plugin", use.plugin}});
                        failed_instances[t.id][use.plugin] = e.what();
                    }
                }
            }
        }
        if (!diags.empty()) throw config_error(diags);
        for (auto& t : cfg.tenants)
            for (auto& use : t.plugins) served_plugins.insert(use.plugin);
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

    bool has_routes(const std::string& tenant, const std::string& type) const {
        auto t = cfg.find_tenant(tenant);
        if (!t) return false;
        return std::any_of(t->routes.begin(), t->routes.end(), [&](const route_config& r) { return r.on == type; });
    }

    plugin_instance* instance(const std::string& tenant, const std::string& plugin) {
        auto t = instances.find(tenant);
        if (t == instances.end()) return nullptr;
        auto p = t->second.find(plugin);
        return p == t->second.end() ? nullptr : p->second.get();
    }

    void notify_workers() {
        {
            std::lock_guard lk(mu);
            ++wake_seq;
        }
        wake.notify_all();
    }

    // --- ingress -------------------------------------------------------------------------------
    void handle(http_request_data&& req, http_responder respond) {
        auto reply = [&](int status, std::string body, std::string route, std::string ct = "text/plain; charset=utf-8") {
            respond({status, std::move(ct), std::move(body), std::move(route)});
        };
        if (req.path == "/healthz") {
            if (req.method != "GET" && req.method != "HEAD") return reply(405, "use GET\n", "/healthz");
            return reply(200, "{\"status\":\"ok\"}\n", "/healthz", "application/json");
        }
        if (req.path == "/metrics") {
            if (req.method != "GET") return reply(405, "use GET\n", "/metrics");
            return reply(200, stats.render(), "/metrics", "text/plain; version=0.0.4; charset=utf-8");
        }
        const std::string prefix = "/webhooks/";
        if (req.path.rfind(prefix, 0) != 0) return reply(404, "not found\n", "other");
        std::vector<std::string> segs;
        for (size_t pos = prefix.size(); pos <= req.path.size();) {
            size_t slash = req.path.find('/', pos);
            if (slash == std::string::npos) slash = req.path.size();
            segs.push_back(req.path.substr(pos, slash - pos));
            pos = slash + 1;
        }
        if (!segs.empty() && segs.back().empty() && segs.size() > 1) segs.pop_back();
        if (segs.empty() || segs.size() > 2 || segs[0].empty() || (segs.size() == 2 && segs[1].empty()))
            return reply(404, "not found: use /webhooks/{plugin} or /webhooks/{plugin}/{tenant}\n", "other");
        const std::string route = segs.size() == 2 ? "/webhooks/{plugin}/{tenant}" : "/webhooks/{plugin}";
        if (req.method != "GET" && req.method != "POST") return reply(405, "use GET or POST\n", route);

        const std::string& plugin = segs[0];
        auto loaded = catalog.find(plugin);
        if (!loaded || !served_plugins.count(plugin)) return reply(404, "unknown plugin '" + plugin + "'\n", route);

        inbound_request in{req.method, req.path, req.query, std::move(req.headers), std::move(req.body)};
        std::vector<plugin_instance*> targets;
        if (segs.size() == 2) {
            auto inst = instance(segs[1], plugin);
            auto failed = failed_instances.find(segs[1]);
            if (!inst && failed != failed_instances.end() && failed->second.count(plugin))
                return reply(503, "plugin '" + plugin + "' failed to start for this tenant; see the service log\n", route);
            if (!inst) return reply(404, "unknown tenant '" + segs[1] + "' for plugin '" + plugin + "'\n", route);
            targets.push_back(inst);
        } else if (req.method == "GET") {
            for (auto& [t, m] : instances)
                if (auto it = m.find(plugin); it != m.end()) targets.push_back(it->second.get());
        } else {
            auto keys = plugin_route_keys(*loaded, in);
            for (auto& k : keys) {
                auto pit = accounts.find(plugin);
                if (pit == accounts.end()) break;
                auto kit = pit->second.find(k);
                if (kit == pit->second.end()) continue;
                for (auto* inst : kit->second)
                    if (std::find(targets.begin(), targets.end(), inst) == targets.end()) targets.push_back(inst);
            }
            if (targets.empty()) {
                // The ids come from an unverified payload: keep them printable and short in the log.
                std::string ids;
                for (auto& k : keys) {
                    std::string clean;
                    for (char c : k.substr(0, 64)) clean += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
                    ids += (ids.empty() ? "" : ", ") + clean;
                }
                spdlog::warn("webhook for plugin {} refused: no tenant owns account(s) [{}]", plugin, ids);
                return reply(404, "no tenant owns this account; use /webhooks/" + plugin + "/{tenant}\n", route);
            }
        }

        std::vector<webhook_outcome> outcomes;
        for (auto* inst : targets) {
            auto o = inst->handle_webhook(in);
            if (!o.ok) {
                inst->log(SB_LOG_ERROR, "webhook handler failed: " + o.error);
                stats.add("switchboard_plugin_errors_total", {{"tenant", inst->tenant()}, {"plugin", plugin}});
                return reply(500, "the plugin failed to handle this webhook\n", route);
            }
            outcomes.push_back(std::move(o));
        }
        if (req.method == "GET") {
            for (auto& o : outcomes)
                if (o.status >= 200 && o.status < 300) return respond({o.status, o.content_type, o.body, route});
            auto& o = outcomes.back();
            return respond({o.status, o.content_type, o.body, route});
        }
        for (auto& o : outcomes)
            if (o.status < 200 || o.status >= 300) return respond({o.status, o.content_type, o.body, route});

        // Acknowledge only after every target's raw body and events are committed.
        struct pending_ack {
            std::mutex mu;
            size_t remaining;
            bool failed = false;
            http_response_data response;
            http_responder respond;
        };
        auto ack = std::make_shared<pending_ack>();
        ack->remaining = outcomes.size();
        ack->response = {outcomes[0].status, outcomes[0].content_type, outcomes[0].body, route};
        ack->respond = std::move(respond);
        std::string content_type;
        for (auto& [k, v] : in.headers)
            if (k.size() == 12 && strncasecmp(k.c_str(), "content-type", 12) == 0) content_type = v;
        int64_t received = clock();
        for (size_t i = 0; i < outcomes.size(); ++i) {
            ingest_request r{targets[i]->tenant(), plugin, content_type, in.body, received, std::move(outcomes[i].events)};
            std::string tenant = targets[i]->tenant();
            db->ingest(std::move(r), [this, ack, tenant, plugin](ingest_result res) {
                if (res.ok) {
                    for (auto& t : res.event_types) stats.add("switchboard_events_total", {{"type", t}});
                    if (res.duplicates)
                        stats.add("switchboard_webhook_duplicates_total", {{"tenant", tenant}, {"plugin", plugin}},
                                  res.duplicates);
                    if (res.jobs_created) notify_workers();
                } else {
                    spdlog::error("[tenant={} plugin={}] webhook not stored, answering 503: {}", tenant, plugin, res.error);
                }
                std::lock_guard lk(ack->mu);
                ack->failed = ack->failed || !res.ok;
                if (--ack->remaining == 0) {
                    if (ack->failed)
                        ack->respond({503, "text/plain; charset=utf-8", "storage unavailable, retry later\n", ack->response.route});
                    else ack->respond(ack->response);
                }
            });
        }
    }

    // --- workers -------------------------------------------------------------------------------
    void worker_loop(int index) {
        std::mt19937_64 rng(std::random_device{}() + index);
        std::uniform_real_distribution<double> uniform(0.0, 1.0);
        while (true) {
            uint64_t seen;
            {
                std::lock_guard lk(mu);
                if (stopping) return;
                seen = wake_seq;
            }
            std::optional<job> j;
            try {
                j = db->claim(clock(), cfg.delivery.lease_ms, cfg.delivery.max_attempts);
            } catch (const std::exception& e) {
                spdlog::error("dispatcher: cannot claim jobs: {}", storage_error_message(e));
            }
            if (j) {
                process(*j, uniform(rng));
                continue;
            }
            int64_t wait_ms = 1000;
            try {
                if (auto due = db->next_due_ms()) wait_ms = std::clamp<int64_t>(*due - clock(), 1, 1000);
            } catch (...) {
            }
            std::unique_lock lk(mu);
            wake.wait_for(lk, std::chrono::milliseconds(wait_ms), [&] { return stopping || wake_seq != seen; });
        }
    }

    void process(const job& j, double random01) {
        try {
            if (j.kind == "route") run_route(j, random01);
            else run_command(j, random01);
        } catch (const std::exception& e) {
            // Storage trouble while finishing: the lease expires and the job runs again.
            spdlog::error("[tenant={}] job {} ({}) could not be finished: {}", j.tenant, j.id, j.kind,
                          storage_error_message(e));
        }
    }

    void retry_or_dead(const job& j, bool final, const std::string& error, const std::string& plugin, double random01) {
        int64_t now = clock();
        int64_t delay = backoff_delay_ms(j.attempts, cfg.delivery.backoff_initial_ms, cfg.delivery.backoff_max_ms, random01);
        bool dead = db->fail(j, final, error, cfg.delivery.max_attempts, now + delay, now);
        if (dead)
            spdlog::error("[tenant={} plugin={}] job {} is a dead letter after {} attempt(s): {}", j.tenant, plugin, j.id,
                          j.attempts, error);
        else
            spdlog::warn("[tenant={} plugin={}] job {} attempt {} failed (retrying in {} ms): {}", j.tenant, plugin, j.id,
                         j.attempts, delay, error);
    }

    void run_route(const job& j, double random01) {
        auto ev = json::parse(j.payload).as_object();
        std::string type = str(ev, "type");
        int64_t conv_id = num(ev, "conversation_id");
        if (conv_id > 0) {
            if (auto c = db->conversation(conv_id)) ev["conversation"] = {{"id", c->id}, {"escalated", c->escalated}};
        }
        auto tenant = cfg.find_tenant(j.tenant);
        std::vector<new_job> commands;
        std::vector<std::string> events, event_types;
        int stage_index = 0;
        const std::string event_text = json::serialize(ev);
        for (auto& r : tenant ? tenant->routes : std::vector<route_config>{}) {
            if (r.on != type) continue;
            for (auto& stage : r.run) {
                ++stage_index;
                auto dot = stage.find('.');
                std::string pname = stage.substr(0, dot), sname = stage.substr(dot + 1);
                auto inst = instance(j.tenant, pname);
                if (!inst) {
                    stats.add("switchboard_route_jobs_total", {{"outcome", "final"}});
                    return retry_or_dead(j, true, "tenant has no plugin '" + pname + "'", pname, random01);
                }
                auto out = inst->run_stage(sname, event_text);
                if (out.status != SB_OK) {
                    stats.add("switchboard_plugin_errors_total", {{"tenant", j.tenant}, {"plugin", pname}});
                    stats.add("switchboard_route_jobs_total",
                              {{"outcome", out.status == SB_ERR_RETRYABLE ? "retryable" : "final"}});
                    return retry_or_dead(j, out.status != SB_ERR_RETRYABLE, "stage " + stage + ": " + out.message, pname,
                                         random01);
                }
                int k = 0;
                for (auto& o : out.outputs) {
                    auto v = json::parse(o).as_object();
                    std::string otype = str(v, "type");
                    if (is_command(otype)) {
                        if (!v.contains("conversation_id") && conv_id > 0) v["conversation_id"] = conv_id;
                        int64_t cid = num(v, "conversation_id");
                        std::string lane = cid > 0 ? "send:" + std::to_string(cid) : "cmd:" + j.tenant;
                        commands.push_back({"command", lane,
                                            "cmd:" + std::to_string(j.id) + ":" + std::to_string(stage_index) + ":" +
                                                std::to_string(k++),
                                            json::serialize(v)});
                    } else {
                        events.push_back(o);
                        event_types.push_back(otype);
                    }
                }
            }
        }
        db->complete_route(j, commands, events, clock());
        for (auto& t : event_types) stats.add("switchboard_events_total", {{"type", t}});
        stats.add("switchboard_route_jobs_total", {{"outcome", "success"}});
        if (!commands.empty()) notify_workers();
    }

    /// Records a delivered command. The provider has accepted it, so a storage hiccup here must
    /// not turn into a second send: retry the write a few times before leaving it to the lease.
    void finish_command(const job& j, const std::string& result) {
        for (int attempt = 1;; ++attempt) {
            try {
                db->complete_command(j, result, clock());
                return;
            } catch (const std::exception& e) {
                if (attempt == 5) throw;
                spdlog::warn("[tenant={}] job {} was delivered but recording it failed (try {} of 5): {}", j.tenant, j.id,
                             attempt, storage_error_message(e));
                std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
            }
        }
    }

    void run_command(const job& j, double random01) {
        auto cmd = json::parse(j.payload).as_object();
        std::string type = str(cmd, "type");
        std::string target = str(cmd, "plugin");
        if (target.empty()) target = str(cmd, "channel");
        auto inst = instance(j.tenant, target);
        if (!inst) return retry_or_dead(j, true, "tenant '" + j.tenant + "' has no plugin '" + target + "'", target, random01);
        if (type == "message.send" && j.interrupted_at_ms) {
            // An earlier attempt was interrupted mid-call: the provider may have accepted it. Its
            // echo proves it (by job id in metadata, or same text in the conversation); wait for
            // the echo a while before sending again, so one inbound message gets one reply.
            int64_t since = *j.interrupted_at_ms - cfg.delivery.lease_ms - 60'000;
            if (auto mid = db->delivered_by_job(j.id, num(cmd, "conversation_id"), str(cmd, "text"), since)) {
                inst->log(SB_LOG_INFO, "job " + std::to_string(j.id) +
                                           ": an interrupted attempt was delivered (echo seen); not sending again");
                finish_command(j, json::serialize(json::object{{"provider_message_id", *mid}}));
                return;
            }
            int64_t until = *j.interrupted_at_ms + cfg.delivery.echo_grace_ms;
            if (clock() < until) {
                db->postpone(j, until, clock());
                return;
            }
            inst->log(SB_LOG_WARN, "job " + std::to_string(j.id) +
                                       ": the outcome of an interrupted attempt is unknown and no echo arrived within "
                                       "delivery.echo_grace; sending again");
        }
        if (type == "message.send") {
            if (auto c = db->conversation(num(cmd, "conversation_id")); c && c->last_inbound_at_ms > 0)
                cmd["last_inbound_ms"] = c->last_inbound_at_ms;
        }
        cmd["idempotency_key"] = std::to_string(j.id);
        auto started = std::chrono::steady_clock::now();
        auto out = inst->execute(json::serialize(cmd));
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        stats.observe("switchboard_delivery_latency_seconds", {{"plugin", target}}, seconds);
        if (out.status == SB_OK) {
            stats.add("switchboard_delivery_attempts_total", {{"plugin", target}, {"outcome", "success"}});
            finish_command(j, out.outputs.empty() ? "{}" : out.outputs.front());
            inst->log(SB_LOG_INFO, "job " + std::to_string(j.id) + " " + type + " accepted by the provider (attempt " +
                                       std::to_string(j.attempts) + ")");
            return;
        }
        bool retryable = out.status == SB_ERR_RETRYABLE;
        stats.add("switchboard_delivery_attempts_total", {{"plugin", target}, {"outcome", retryable ? "retryable" : "final"}});
        std::string error = out.code.empty() ? out.message : out.message + " (code " + out.code + ")";
        retry_or_dead(j, !retryable, error, target, random01);
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

void runtime::start() {
    auto& m = *impl_;
    store::options so;
    so.url = m.cfg.storage.url;
    so.pool_size = m.cfg.delivery.workers + 2;
    so.now_ms = m.clock;
    so.has_routes = [&m](const std::string& t, const std::string& type) { return m.has_routes(t, type); };
    m.db = store::open(so);
    if (m.db->is_sqlite()) {
        if (int n = m.db->release_running(m.clock())) spdlog::info("dispatcher: {} interrupted job(s) will run again", n);
    }
    m.stats.gauge_callback("switchboard_jobs", [&m] {
        std::vector<std::pair<labels, double>> out;
        for (auto& [state, n] : m.db->job_counts()) out.push_back({{{"state", state}}, static_cast<double>(n)});
        return out;
    });
    http_server_options ho;
    ho.host = m.cfg.server.host;
    ho.port = m.cfg.server.port;
    ho.max_body_bytes = m.cfg.server.max_body_bytes;
    ho.header_timeout_ms = m.cfg.server.header_timeout_ms;
    ho.idle_timeout_ms = m.cfg.server.idle_timeout_ms;
    ho.threads = m.cfg.server.threads;
    m.server = std::make_unique<http_server>(
        ho, [&m](http_request_data&& r, http_responder respond) { m.handle(std::move(r), std::move(respond)); },
        [&m](const std::string& method, const std::string& route, int status, double seconds) {
            m.stats.add("switchboard_http_requests_total",
                        {{"route", route}, {"method", method}, {"status", std::to_string(status)}});
            m.stats.observe("switchboard_http_request_duration_seconds", {{"route", route}}, seconds);
        });
    m.server->start();
    for (int i = 0; i < m.cfg.delivery.workers; ++i) m.workers.emplace_back([&m, i] { m.worker_loop(i); });
    spdlog::info("switchboard {} listening on {}:{} with {} tenant(s), {} plugin(s), storage {}", SWITCHBOARD_VERSION,
                 m.cfg.server.host, port(), m.cfg.tenants.size(), m.catalog.plugins.size(),
                 m.db->is_sqlite() ? m.cfg.storage.url : "postgresql");
}

void runtime::stop() {
    auto& m = *impl_;
    if (m.server) {
        m.server->stop(m.cfg.server.shutdown_grace_ms);
        m.server.reset();
    }
    {
        std::lock_guard lk(m.mu);
        m.stopping = true;
    }
    m.wake.notify_all();
    for (auto& t : m.workers)
        if (t.joinable()) t.join();
    m.workers.clear();
    if (m.db) m.db->close();
}

}  // namespace switchboard::core
