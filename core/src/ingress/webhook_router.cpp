// Webhook routing and acknowledgement after commit.
#include <switchboard/core/ingress/webhook_router.hpp>

#include <switchboard/sdk/text.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <strings.h>

namespace switchboard::core::ingress {

using switchboard::sdk::text::printable;

namespace {

const std::string text_plain = "text/plain; charset=utf-8";
const std::string route_with_tenant = "/webhooks/{plugin}/{tenant}";
const std::string route_by_account = "/webhooks/{plugin}";

/// The path segments after /webhooks/ ("" segments kept, one trailing slash dropped).
std::vector<std::string> webhook_segments(const std::string& path, size_t prefix) {
    std::vector<std::string> segs;
    for (size_t pos = prefix; pos <= path.size();) {
        size_t slash = path.find('/', pos);
        if (slash == std::string::npos) slash = path.size();
        segs.push_back(path.substr(pos, slash - pos));
        pos = slash + 1;
    }
    if (!segs.empty() && segs.back().empty() && segs.size() > 1) segs.pop_back();
    return segs;
}

std::string header_value(const std::vector<std::pair<std::string, std::string>>& headers, const char* name) {
    for (auto& [k, v] : headers)
        if (strcasecmp(k.c_str(), name) == 0) return v;
    return "";
}

}  // namespace

webhook_router::webhook_router(
    const plugin_catalog& catalog, const instance_registry& instances, store& db, metrics& stats, clock_fn clock,
    std::function<void()> on_jobs_created,
    std::function<void(const std::string&, const std::string&, const std::string&, double)> plugin_metric)
    : catalog_(catalog), instances_(instances), db_(db), stats_(stats), clock_(std::move(clock)),
      on_jobs_created_(std::move(on_jobs_created)), plugin_metric_(std::move(plugin_metric)) {}

void webhook_router::handle(http_request_data&& req, http_responder respond) {
    auto reply = [&](int status, std::string body, std::string route, std::string ct = text_plain) {
        respond({status, std::move(ct), std::move(body), std::move(route)});
    };
    if (req.path == "/healthz") {
        if (req.method != "GET" && req.method != "HEAD") return reply(405, "use GET\n", "/healthz");
        return reply(200, "{\"status\":\"ok\"}\n", "/healthz", "application/json");
    }
    if (req.path == "/metrics") {
        if (req.method != "GET") return reply(405, "use GET\n", "/metrics");
        return reply(200, stats_.render(), "/metrics", "text/plain; version=0.0.4; charset=utf-8");
    }
    const std::string prefix = "/webhooks/";
    if (req.path.rfind(prefix, 0) != 0) return reply(404, "not found\n", "other");
    auto segs = webhook_segments(req.path, prefix.size());
    if (segs.empty() || segs.size() > 2 || segs[0].empty() || (segs.size() == 2 && segs[1].empty()))
        return reply(404, "not found: use /webhooks/{plugin} or /webhooks/{plugin}/{tenant}\n", "other");
    handle_webhook(std::move(req), std::move(respond), segs);
}

webhook_router::targets webhook_router::resolve_targets(const inbound_request& in, const loaded_plugin& loaded,
                                                        const std::vector<std::string>& segs) const {
    const std::string& plugin = segs[0];
    auto refuse = [](int status, std::string body) {
        targets t;
        t.refusal = http_response_data{status, text_plain, std::move(body), {}};
        return t;
    };
    targets out;
    if (segs.size() == 2) {
        auto inst = instances_.find(segs[1], plugin);
        if (!inst && instances_.failed(segs[1], plugin))
            return refuse(503, "plugin '" + plugin + "' failed to start for this tenant; see the service log\n");
        // The tenant name comes from the request: never echo it back raw (NUL, control bytes).
        if (!inst) return refuse(404, "unknown tenant '" + printable(segs[1]) + "' for plugin '" + plugin + "'\n");
        out.instances.push_back(inst);
        return out;
    }
    if (in.method != "POST") {
        out.instances = instances_.instances_of(plugin);
        return out;
    }
    auto keys = plugin_route_keys(loaded, in);
    for (auto& k : keys)
        for (auto* inst : instances_.owners(plugin, k))
            if (std::find(out.instances.begin(), out.instances.end(), inst) == out.instances.end())
                out.instances.push_back(inst);
    if (out.instances.empty()) {
        // The ids come from an unverified payload: keep them printable and short in the log.
        std::string ids;
        for (auto& k : keys) ids += (ids.empty() ? "" : ", ") + printable(k);
        spdlog::warn("webhook for plugin {} refused: no tenant owns account(s) [{}]", plugin, ids);
        return refuse(404, "no tenant owns this account; use /webhooks/" + plugin + "/{tenant}\n");
    }
    return out;
}

void webhook_router::handle_webhook(http_request_data&& req, http_responder respond,
                                    const std::vector<std::string>& segs) {
    const std::string& route = segs.size() == 2 ? route_with_tenant : route_by_account;
    auto reply = [&](int status, std::string body) { respond({status, text_plain, std::move(body), route}); };
    if (req.method != "GET" && req.method != "POST" && req.method != "OPTIONS")
        return reply(405, "use GET or POST\n");
    const std::string& plugin = segs[0]; // the instance name ("messenger", "staff-bot")
    const loaded_plugin* loaded = instances_.plugin_of(plugin);
    if (!loaded) loaded = catalog_.find(plugin).get(); // enabled, but every instance failed to start
    if (!instances_.serves(plugin) || !loaded) return reply(404, "unknown plugin '" + printable(plugin) + "'\n");

    inbound_request in{req.method, req.path, req.query, std::move(req.headers), std::move(req.body)};
    if (!public_url_.empty()) in.public_url = public_url_ + req.target;
    in.peer_address = std::move(req.peer_address);
    in.instance = segs.size() == 2 ? plugin : "";
    auto resolved = resolve_targets(in, *loaded, segs);
    if (resolved.refusal) {
        resolved.refusal->route = route;
        return respond(std::move(*resolved.refusal));
    }
    auto& targets = resolved.instances;
    std::vector<webhook_outcome> outcomes;
    for (auto* inst : targets) {
        auto o = inst->handle_webhook(in);
        if (o.handling == webhook_handling::plugin_failed) {
            inst->log(SB_LOG_ERROR, "webhook handler failed: " + o.error);
            stats_.add("switchboard_plugin_errors_total", {{"tenant", inst->tenant()}, {"plugin", plugin}});
            return reply(500, "the plugin failed to handle this webhook\n");
        }
        outcomes.push_back(std::move(o));
    }
    answer(in, plugin, route, targets, outcomes, std::move(respond));
}

void webhook_router::answer(const inbound_request& in, const std::string& plugin, const std::string& route,
                            std::vector<plugin_instance*>& targets, std::vector<webhook_outcome>& outcomes,
                            http_responder respond) {
    // Plugin counters of a webhook count once its outcome is final: at once for a handshake or a
    // refusal (nothing to store), after the commit for an accepted webhook (store_and_acknowledge).
    auto count_now = [&] {
        for (size_t i = 0; i < outcomes.size(); ++i)
            for (auto& [name, value] : outcomes[i].metrics) plugin_metric_(targets[i]->tenant(), plugin, name, value);
    };
    auto accepted = [](const webhook_outcome& o) { return o.status >= 200 && o.status < 300; };
    if (in.method != "POST") {
        // A GET the plugin accepted with events (a provider callback such as a payment
        // notification) is stored and routed exactly like a POST, answered after the commit.
        std::vector<plugin_instance*> storing;
        std::vector<webhook_outcome> with_events;
        for (size_t i = 0; i < outcomes.size(); ++i)
            if (accepted(outcomes[i]) && !outcomes[i].events.empty()) {
                storing.push_back(targets[i]);
                with_events.push_back(std::move(outcomes[i]));
            }
        if (!storing.empty()) return store_and_acknowledge(in, plugin, route, storing, with_events, std::move(respond));
        count_now();
        for (auto& o : outcomes)
            if (accepted(o)) return respond({o.status, o.content_type, o.body, route, o.headers});
        auto& o = outcomes.back();
        return respond({o.status, o.content_type, o.body, route, o.headers});
    }
    for (auto& o : outcomes)
        if (!accepted(o)) {
            count_now();
            return respond({o.status, o.content_type, o.body, route, o.headers});
        }
    store_and_acknowledge(in, plugin, route, targets, outcomes, std::move(respond));
}

void webhook_router::store_and_acknowledge(const inbound_request& in, const std::string& plugin,
                                           const std::string& route, std::vector<plugin_instance*>& targets,
                                           std::vector<webhook_outcome>& outcomes, http_responder respond) {
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
    ack->response = {outcomes[0].status, outcomes[0].content_type, outcomes[0].body, route, outcomes[0].headers};
    ack->respond = std::move(respond);
    const std::string content_type = header_value(in.headers, "content-type");
    const int64_t received = clock_();
    for (size_t i = 0; i < outcomes.size(); ++i) {
        ingest_request r{targets[i]->tenant(), plugin, content_type, in.body, received, std::move(outcomes[i].events)};
        std::string tenant = targets[i]->tenant();
        db_.ingest(std::move(r), [this, ack, tenant, plugin, metrics = std::move(outcomes[i].metrics)](ingest_result res) {
            if (res.status == ingest_status::stored) {
                for (auto& t : res.event_types) stats_.add("switchboard_events_total", {{"type", t}});
                for (auto& [name, value] : metrics) plugin_metric_(tenant, plugin, name, value);
                if (res.duplicates)
                    stats_.add("switchboard_webhook_duplicates_total", {{"tenant", tenant}, {"plugin", plugin}},
                               res.duplicates);
                if (res.jobs_created && on_jobs_created_) on_jobs_created_();
            } else {
                spdlog::error("[tenant={} plugin={}] webhook not stored, answering 503: {}", tenant, plugin, res.error);
            }
            std::lock_guard lk(ack->mu);
            ack->failed = ack->failed || res.status != ingest_status::stored;
            if (--ack->remaining == 0) {
                if (ack->failed)
                    ack->respond({503, text_plain, "storage unavailable, retry later\n", ack->response.route});
                else ack->respond(ack->response);
            }
        });
    }
}

}  // namespace switchboard::core::ingress
