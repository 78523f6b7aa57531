// Ingress: the webhook router in front of the real Messenger plugin and a SQLite store, without
// sockets (the HTTP server is covered by tests/integration/test_http.py and test_probing.py).
#include "../support/pipeline_fixture.hpp"

#include <switchboard/core/ingress/webhook_router.hpp>
#include <switchboard/meta/signature.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <future>

using namespace switchboard::core;
using switchboard::core::testing::pipeline_fixture;

namespace {

struct router_fixture : pipeline_fixture {
    int jobs_announced = 0;
    std::vector<std::pair<std::string, double>> plugin_counters;
    ingress::webhook_router router{catalog, instances, *db, stats, clock, [this] { ++jobs_announced; },
                                   [this](const std::string&, const std::string&, const std::string& name, double v) {
                                       plugin_counters.emplace_back(name, v);
                                   }};

    router_fixture() { instances.serve("messenger"); }

    /// Sends a request through the router and waits for its answer (after the commit for webhooks).
    http_response_data request(std::string method, std::string path, std::string body = {},
                               std::vector<std::pair<std::string, std::string>> headers = {}) {
        std::promise<http_response_data> answer;
        auto future = answer.get_future();
        router.handle({std::move(method), std::move(path), "", std::move(headers), std::move(body)},
                      [&answer](http_response_data r) { answer.set_value(std::move(r)); });
        REQUIRE(future.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
        return future.get();
    }

    http_response_data signed_text(const std::string& psid, const std::string& text) {
        std::string body = R"({"object":"page","entry":[{"id":"PAGE","time":1700000000000,"messaging":[{"sender":{"id":")" +
                           psid + R"("},"recipient":{"id":"PAGE"},"timestamp":1700000000000,"message":{"mid":"m_)" +
                           psid + R"(","text":")" + text + R"("}}]}]})";
        std::string signature = "sha256=" + switchboard::meta::hmac_sha256_hex("unit-test-app-secret", body);
        return request("POST", "/webhooks/messenger/demo", body,
                       {{"Content-Type", "application/json"}, {"X-Hub-Signature-256", signature}});
    }
};

}  // namespace

TEST_CASE("ingress: health, metrics, unknown routes and methods", "[ingress]") {
    router_fixture f;
    CHECK(f.request("GET", "/healthz").status == 200);
    CHECK(f.request("POST", "/healthz").status == 405);
    CHECK(f.request("GET", "/metrics").status == 200);
    CHECK(f.request("GET", "/nothing").status == 404);
    CHECK(f.request("DELETE", "/webhooks/messenger/demo").status == 405);
    auto unknown_plugin = f.request("POST", "/webhooks/telegram/demo", "{}");
    CHECK(unknown_plugin.status == 404);
    CHECK(unknown_plugin.route == "/webhooks/{plugin}/{tenant}");
}

TEST_CASE("ingress: a tenant name from the URL is never echoed back raw", "[ingress]") {
    router_fixture f;
    auto r = f.request("POST", std::string("/webhooks/messenger/ev") + '\0' + "il\x1b", "{}");
    CHECK(r.status == 404);
    CHECK(r.body.find('\0') == std::string::npos);
    CHECK(r.body.find('\x1b') == std::string::npos);
    CHECK(r.body.find("unknown tenant 'ev?il?'") != std::string::npos);
}

TEST_CASE("ingress: a signed webhook is answered after its events and route job are committed", "[ingress]") {
    router_fixture f;
    auto r = f.signed_text("PSID1", "hello");
    CHECK(r.status == 200);
    CHECK(f.jobs_announced == 1);
    CHECK(f.db->job_counts()["pending"] == 1);
    // The plugin's own counters are applied only now that the webhook is stored.
    REQUIRE(f.plugin_counters.size() == 1);
    CHECK(f.plugin_counters[0].first == "webhook_events");
}

TEST_CASE("ingress: a bad signature is refused, nothing is stored and nothing counted", "[ingress]") {
    router_fixture f;
    auto r = f.request("POST", "/webhooks/messenger/demo", R"({"object":"page","entry":[]})",
                       {{"X-Hub-Signature-256", "sha256=" + std::string(64, '0')}});
    CHECK(r.status == 401);
    CHECK(f.db->job_counts()["pending"] == 0);
    CHECK(f.jobs_announced == 0);
    // The refusal itself is what the plugin counts, and it is counted at once.
    REQUIRE(f.plugin_counters.size() == 1);
    CHECK(f.plugin_counters[0].first == "webhooks_refused");
}

TEST_CASE("ingress: a GET callback the plugin accepts with events is stored before it is answered", "[ingress]") {
    router_fixture f;
    f.add_fixture_plugin();
    f.instances.serve("faulty");
    std::promise<http_response_data> answer;
    f.router.handle({"GET", "/webhooks/faulty/demo", "payment_id=inv-42", {}, {}},
                    [&answer](http_response_data r) { answer.set_value(std::move(r)); });
    auto r = answer.get_future().get();
    CHECK(r.status == 200);
    CHECK(f.query_int("SELECT COUNT(*) FROM events WHERE type = 'payment.completed' AND tenant = 'demo'") == 1);
    CHECK(f.query_int("SELECT COUNT(*) FROM webhook_events WHERE plugin = 'faulty'") == 1);
    // A plain GET (no event) stores nothing and is answered at once.
    std::promise<http_response_data> plain;
    f.router.handle({"GET", "/webhooks/faulty/demo", "", {}, {}},
                    [&plain](http_response_data r) { plain.set_value(std::move(r)); });
    CHECK(plain.get_future().get().status == 200);
    CHECK(f.query_int("SELECT COUNT(*) FROM webhook_events WHERE plugin = 'faulty'") == 1);
}
