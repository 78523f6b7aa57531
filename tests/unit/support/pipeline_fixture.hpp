// A pipeline on a temporary SQLite store with an injected clock: the real messenger channel and
// template responder (built plugins) behind a scripted host whose HTTP calls are recorded and
// answered as the test says. Workers are not started: tests drive them with run_one().
#pragma once

#include <switchboard/core/config/config.hpp>
#include <switchboard/core/delivery/command_runner.hpp>
#include <switchboard/core/delivery/worker_pool.hpp>
#include <switchboard/core/dispatch/keys.hpp>
#include <switchboard/core/dispatch/route_runner.hpp>
#include <switchboard/core/observability/metrics.hpp>
#include <switchboard/core/plugins/catalog.hpp>
#include <switchboard/core/plugins/instance.hpp>
#include <switchboard/core/plugins/registry.hpp>
#include <switchboard/core/store/store.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <filesystem>
#include <future>
#include <mutex>
#include <random>

namespace switchboard::core::testing {

/// Host services whose HTTP calls are recorded and answered by `respond` (default: the Send API
/// accepts every POST, GETs find nothing).
class scripted_services : public host_services {
public:
    struct call {
        std::string method, url, body;
    };
    std::function<http_result(const call&)> respond = [this](const call& c) {
        if (c.method == "GET") return http_result{SB_OK, 200, {}, R"({"data":[]})", {}};
        return http_result{SB_OK, 200, {}, R"({"recipient_id":"PSID","message_id":"m_out_)" + std::to_string(++sends) + "\"}", {}};
    };
    std::vector<call> calls;
    int sends = 0;
    int64_t* clock = nullptr;

    store* db = nullptr; ///< what storage() hands instances (kv, history, contacts)

    int64_t now_ms() override { return *clock; }
    http_result http(const outbound_http& r) override {
        std::function<http_result(const call&)> answer;
        call c{r.method, r.url, r.body};
        {
            std::lock_guard lk(mu_);
            calls.push_back(c);
            answer = respond;
        }
        return answer(c); // outside the lock: a scripted answer may block (a slow provider)
    }
    store* storage() override { return db; }
    void metric_add(const std::string&, const std::string&, const std::string&, double) override {}

    /// The Send API calls made so far.
    std::vector<call> posts() const {
        std::vector<call> out;
        for (auto& c : calls)
            if (c.method == "POST") out.push_back(c);
        return out;
    }

private:
    std::mutex mu_;
};

struct pipeline_fixture {
    int64_t now = 1'700'000'000'000;
    clock_fn clock = [this] { return now; };
    std::filesystem::path dir;
    config cfg;
    metrics stats;
    scripted_services services;
    plugin_catalog catalog;
    instance_registry instances;
    std::unique_ptr<store> db;
    std::unique_ptr<dispatch::route_runner> routes;
    std::unique_ptr<delivery::command_runner> commands;
    std::unique_ptr<delivery::worker_pool> workers;

    pipeline_fixture() {
        services.clock = &now;
        std::random_device rd;
        dir = std::filesystem::temp_directory_path() / ("sb-pipeline-" + std::to_string(rd()));
        cfg.delivery.lease_ms = 60'000;
        cfg.delivery.max_attempts = 3;
        cfg.delivery.backoff_initial_ms = 1'000;
        cfg.delivery.backoff_max_ms = 60'000;
        cfg.delivery.echo_grace_ms = 15'000;
        tenant_config t;
        t.id = "demo";
        route_config r;
        r.on = "message.received";
        r.run = {"templates.reply"};
        t.routes.push_back(r);
        cfg.tenants.push_back(t);

        catalog = scan_plugins({SWITCHBOARD_PLUGIN_DIR});
        instances.add(std::make_unique<plugin_instance>(
            catalog.find("messenger"), "demo", "messenger",
            std::vector<std::pair<std::string, std::string>>{
                {"app_secret", "unit-test-app-secret"}, {"page_id", "PAGE"}, {"page_access_token", "unit-test-token"}},
            services));
        instances.add(std::make_unique<plugin_instance>(
            catalog.find("templates"), "demo", "templates", std::vector<std::pair<std::string, std::string>>{{"locale", "en"}},
            services));

        store::options o;
        o.url = "sqlite:" + (dir / "test.db").string();
        o.pool_size = 3;
        o.now_ms = clock;
        o.route_job = [this](const filed_event& e) { return dispatch::route_job_for(cfg, e); };
        db = store::open(o);
        services.db = db.get();
        routes = std::make_unique<dispatch::route_runner>(cfg, instances, *db, stats, clock);
        commands = std::make_unique<delivery::command_runner>(cfg.delivery, instances, *db, stats, clock);
        workers = std::make_unique<delivery::worker_pool>(cfg.delivery, *db, *routes, *commands, stats, clock);
    }

    ~pipeline_fixture() {
        workers.reset();
        db.reset();
        std::filesystem::remove_all(dir);
    }

    /// Adds an instance of the `faulty` fixture plugin (tests/plugins/faulty_plugin.cpp: stages
    /// relay, loop, fetch, reply, history...; command faulty.record) named `instance`.
    void add_fixture_plugin(const std::string& instance = "faulty",
                            std::vector<std::pair<std::string, std::string>> settings = {{"mode", "ok"}}) {
        auto fixtures = scan_plugins({SWITCHBOARD_TEST_PLUGIN_DIR});
        auto faulty = fixtures.find("faulty");
        REQUIRE(faulty);
        if (!catalog.find("faulty")) catalog.plugins.push_back(faulty);
        instances.add(std::make_unique<plugin_instance>(faulty, "demo", instance, std::move(settings), services));
    }

    /// Adds a route of tenant "demo": on event type `on`, run `steps`.
    void add_route(std::string on, std::vector<route_step> steps) {
        route_config r;
        r.on = std::move(on);
        r.run = std::move(steps);
        cfg.tenants[0].routes.push_back(std::move(r));
    }

    /// Files an inbound Messenger text from `psid` (as ingress would, after the plugin normalized it).
    ingest_result customer_says(const std::string& psid, const std::string& text, const std::string& mid) {
        auto event = boost::json::serialize(boost::json::object{{"type", "message.received"},
                                                                {"tenant", "demo"},
                                                                {"channel", "messenger"},
                                                                {"provider_message_id", mid},
                                                                {"account_id", "PAGE"},
                                                                {"contact", {{"provider_id", psid}}},
                                                                {"timestamp_ms", now},
                                                                {"text", text}});
        return ingest({event});
    }

    ingest_result ingest(std::vector<std::string> events) {
        std::promise<ingest_result> p;
        db->ingest({"demo", "messenger", "application/json", "{}", now, std::move(events)},
                   [&](ingest_result r) { p.set_value(std::move(r)); });
        return p.get_future().get();
    }

    /// The single integer a query on the SQLite file returns, read through a second connection.
    long long query_int(const char* sql) {
        sqlite3* conn = nullptr;
        REQUIRE(sqlite3_open((dir / "test.db").string().c_str(), &conn) == SQLITE_OK);
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(conn, sql, -1, &st, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_step(st) == SQLITE_ROW);
        long long n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(conn);
        return n;
    }

    /// Claims with the clock standing at `now`.
    std::optional<job> claim(int64_t lease_ms = 60'000, int max_attempts = 3) {
        return db->claim(clock, lease_ms, max_attempts);
    }

    /// Runs due jobs one by one (jitter 0) until none is due. @returns how many ran.
    int drain() {
        int n = 0;
        while (workers->run_one(0.0)) ++n;
        return n;
    }
};

}  // namespace switchboard::core::testing
