// The pipeline's steps: stage parameters, first_of fallback chains with budgets, what later stages
// see of earlier ones, command results routed as events, deferrals, idempotency keys, and the
// conversation history a stage reads. Real plugins (faulty fixture, templates, messenger), SQLite,
// an injected clock; the "provider" behind faulty.fetch is scripted host HTTP.
#include "../support/pipeline_fixture.hpp"

#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>

using namespace switchboard::core;
using switchboard::core::testing::pipeline_fixture;
namespace json = boost::json;

namespace {

route_step chain(std::vector<stage_call> tiers) {
    route_step s;
    s.first_of = true;
    s.tiers = std::move(tiers);
    return s;
}

/// A plain stage with `with:` parameters (JSON text).
route_step with_params(std::string stage, std::string params) {
    route_step s;
    s.tiers = {stage_call{std::move(stage), std::move(params), 0, {}}};
    return s;
}

/// Claims and runs the inbound message's route job; it must complete.
void run_inbound_route(pipeline_fixture& p) {
    auto route = p.claim();
    REQUIRE(route);
    REQUIRE(p.routes->run(*route).status == dispatch::route_status::completed);
}

/// The payload of the one pending command job (claims it).
json::object claimed_command(pipeline_fixture& p) {
    auto cmd = p.claim();
    REQUIRE(cmd);
    REQUIRE(cmd->kind == job_kind::command);
    return json::parse(cmd->payload).as_object();
}

/// A provider that answers only when released: what a hung AI endpoint looks like to the host.
struct held_provider {
    std::mutex mu;
    std::condition_variable cv;
    bool released = false;
    void release() {
        std::lock_guard lk(mu);
        released = true;
        cv.notify_all();
    }
    host_services::http_result wait() {
        std::unique_lock lk(mu);
        cv.wait(lk, [&] { return released; });
        return {SB_OK, 200, {}, "too late", {}};
    }
};

}  // namespace

TEST_CASE("first_of: a tier that fails falls through at once and the next tier answers, seeing why", "[dispatch][first_of]") {
    pipeline_fixture p;
    p.add_fixture_plugin("faulty", {{"mode", "ok"}, {"reply_url", "http://ai.test/reply"}});
    p.services.respond = [](const auto&) { return host_services::http_result{SB_OK, 500, {}, "{}", {}}; };
    p.cfg.tenants[0].routes[0].run = {chain({{"faulty.fetch", "{}", 8'000, {}}, {"faulty.reply", "{}", 0, {}}})};
    p.customer_says("PSID", "hello", "m_1");
    auto route = p.claim();
    REQUIRE(route);
    auto started = std::chrono::steady_clock::now();
    REQUIRE(p.routes->run(*route).status == dispatch::route_status::completed);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(4)); // not the 8 s budget
    auto send = claimed_command(p);
    CHECK(send.at("text") == "fallback reply");
    CHECK(send.at("fell_through") == json::parse(R"([{"stage":"faulty.fetch","outcome":"failed"}])"));
    CHECK(p.stats.render().find("switchboard_fallthrough_total{tenant=\"demo\",stage=\"faulty.fetch\",reason=\"failed\"} 1") !=
          std::string::npos);
}

TEST_CASE("a stage's deferral reaches the job with the delay it asked for", "[dispatch]") {
    pipeline_fixture p;
    p.add_fixture_plugin("faulty", {{"mode", "ok"}, {"reply_url", "http://ai.test/reply"}});
    p.services.respond = [](const auto&) {
        return host_services::http_result{SB_OK, 429, {{"Retry-After", "30"}}, "{}", {}};
    };
    p.cfg.tenants[0].routes[0].run = {with_params("faulty.fetch", "{}")};
    p.customer_says("PSID", "hello", "m_1");
    auto route = p.claim();
    REQUIRE(route);
    auto result = p.routes->run(*route);
    CHECK(result.status == dispatch::route_status::deferred);
    CHECK(result.retry_after_ms == 30'000);
    CHECK(result.events == 0);
}

TEST_CASE("first_of: a tier past its budget is abandoned and the next tier answers", "[dispatch][first_of]") {
    pipeline_fixture p;
    p.add_fixture_plugin("faulty", {{"mode", "ok"}, {"reply_url", "http://ai.test/reply"}});
    held_provider hung;
    p.services.respond = [&](const auto&) { return hung.wait(); };
    p.cfg.tenants[0].routes[0].run = {chain({{"faulty.fetch", "{}", 150, {}}, {"faulty.reply", R"({"text":"sorry"})", 0, {}}})};
    p.customer_says("PSID", "hello", "m_1");
    auto route = p.claim();
    REQUIRE(route);
    auto started = std::chrono::steady_clock::now();
    REQUIRE(p.routes->run(*route).status == dispatch::route_status::completed);
    auto waited = std::chrono::steady_clock::now() - started;
    CHECK(waited >= std::chrono::milliseconds(150));
    CHECK(waited < std::chrono::seconds(3));
    hung.release(); // the abandoned call ends; its answer is dropped
    auto send = claimed_command(p);
    CHECK(send.at("text") == "sorry");
    CHECK(send.at("fell_through") == json::parse(R"([{"stage":"faulty.fetch","outcome":"late"}])"));
}

TEST_CASE("first_of: the first tier that answers wins and later tiers do not run", "[dispatch][first_of]") {
    pipeline_fixture p;
    p.add_fixture_plugin("faulty", {{"mode", "ok"}, {"reply_url", "http://ai.test/reply"}});
    p.services.respond = [](const auto&) { return host_services::http_result{SB_OK, 200, {}, "from the model", {}}; };
    p.cfg.tenants[0].routes[0].run = {chain({{"faulty.fetch", "{}", 5'000, {}}, {"faulty.reply", "{}", 0, {}}}),
                                      route_step("faulty.context")};
    p.customer_says("PSID", "hello", "m_1");
    auto route = p.claim();
    REQUIRE(route);
    REQUIRE(p.routes->run(*route).status == dispatch::route_status::completed);
    auto send = claimed_command(p);
    CHECK(send.at("text") == "from the model");
    CHECK(send.at("fell_through").as_array().empty());
}

TEST_CASE("stage parameters and a stable idempotency key reach the stage", "[dispatch]") {
    pipeline_fixture p;
    p.add_fixture_plugin();
    p.cfg.tenants[0].routes[0].run = {with_params("faulty.context", R"({"template":"escalation","tags":["vip"]})")};
    p.add_route("fixture.context", {"faulty.sink"});
    p.customer_says("PSID", "hello", "m_1");
    run_inbound_route(p);
    auto chained = p.claim();
    REQUIRE(chained);
    auto ctx = json::parse(chained->payload).as_object();
    CHECK(ctx.at("params") == json::parse(R"({"template":"escalation","tags":["vip"]})"));
    CHECK(ctx.at("instance") == "faulty");
    CHECK(ctx.at("attempt") == 1);
    CHECK(ctx.at("deadline_ms").as_int64() == p.now + p.cfg.delivery.lease_ms);
    // Derived from the tenant and the provider's message id: the same on any database, any retry.
    CHECK(ctx.at("idempotency_key").as_string() == dispatch::idempotency_key("demo", "m_1", "stage:1:faulty.context"));
    CHECK(ctx.at("idempotency_key").as_string().size() == 32);
}

TEST_CASE("a command's result with a type is filed and routed as an event", "[dispatch][commands]") {
    pipeline_fixture p;
    p.add_fixture_plugin();
    p.cfg.tenants[0].routes[0].run = {"faulty.record"};
    p.add_route("faulty.recorded", {"faulty.relay"});
    p.customer_says("PSID", "hello", "m_1");
    CHECK(p.drain() == 3); // the inbound route, faulty.record, the route on faulty.recorded
    CHECK(p.query_int("SELECT COUNT(*) FROM events WHERE type = 'faulty.recorded'") == 1);
    CHECK(p.query_int("SELECT COUNT(*) FROM events WHERE type = 'fixture.relayed'") == 1);
    CHECK(p.db->job_counts()["done"] == 3);
}

TEST_CASE("a command a plugin does not declare becomes a dead letter naming the plugin", "[dispatch][commands]") {
    pipeline_fixture p;
    p.add_fixture_plugin();
    p.cfg.tenants[0].routes[0].run = {"faulty.record"};
    p.customer_says("PSID", "hello", "m_1");
    run_inbound_route(p);
    auto cmd = p.claim();
    REQUIRE(cmd);
    auto payload = json::parse(cmd->payload).as_object();
    payload["type"] = "faulty.unknown";
    cmd->payload = json::serialize(payload);
    CHECK(p.commands->run(*cmd, 0.0) == delivery::command_status::failed);
    CHECK(p.db->job_counts()["dead"] == 1);
}

TEST_CASE("a deferral postpones a command without spending an attempt", "[dispatch][commands]") {
    pipeline_fixture p;
    p.add_fixture_plugin("faulty", {{"mode", "ok"}, {"defer_records", "1"}});
    p.cfg.tenants[0].routes[0].run = {"faulty.record"};
    p.customer_says("PSID", "hello", "m_1");
    run_inbound_route(p);
    auto cmd = p.claim();
    REQUIRE(cmd);
    CHECK(p.commands->run(*cmd, 0.0) == delivery::command_status::deferred);
    CHECK(p.query_int("SELECT attempts FROM jobs WHERE kind = 'command'") == 0);
    CHECK(p.query_int("SELECT next_attempt_at_ms FROM jobs WHERE kind = 'command'") == p.now + 60'000);
    CHECK_FALSE(p.claim()); // not due before the deferral ends
    p.now += 60'000;
    auto again = p.claim();
    REQUIRE(again);
    CHECK(again->attempts == 1);
    CHECK(p.commands->run(*again, 0.0) == delivery::command_status::delivered);
}

TEST_CASE("a retrying command on its own lane does not hold up the reply", "[dispatch][commands]") {
    pipeline_fixture p;
    p.add_fixture_plugin("faulty", {{"mode", "ok"}, {"fail_records", "100"}});
    p.cfg.tenants[0].routes[0].run = {"faulty.record", "templates.reply"};
    p.customer_says("PSID", "hello", "m_1");
    p.drain();
    CHECK(p.services.posts().size() == 1); // the reply left
    CHECK(p.query_int("SELECT COUNT(*) FROM jobs WHERE kind = 'command' AND state = 'pending' AND attempts = 1") == 1);
}

TEST_CASE("a stage reads the last messages of its conversation, newest last", "[dispatch][history]") {
    pipeline_fixture p;
    p.add_fixture_plugin();
    // Two exchanges: each customer message gets the template reply, recorded as outbound.
    p.customer_says("PSID", "first question", "m_1");
    p.drain();
    p.now += 1'000;
    p.customer_says("PSID", "second question", "m_2");
    p.drain();
    REQUIRE(p.services.posts().size() == 2);
    p.cfg.tenants[0].routes[0].run = {with_params("faulty.history", R"({"count":"3"})")};
    p.now += 1'000;
    p.customer_says("PSID", "third", "m_3");
    auto third = p.claim();
    REQUIRE(third);
    auto ran = p.routes->run(*third);
    INFO(ran.error);
    REQUIRE(ran.status == dispatch::route_status::completed);
    auto history = json::parse(
        [&] {
            sqlite3* conn = nullptr;
            sqlite3_open((p.dir / "test.db").string().c_str(), &conn);
            sqlite3_stmt* st = nullptr;
            sqlite3_prepare_v2(conn, "SELECT payload FROM events WHERE type = 'fixture.history'", -1, &st, nullptr);
            REQUIRE(sqlite3_step(st) == SQLITE_ROW);
            std::string text(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
            sqlite3_finalize(st);
            sqlite3_close(conn);
            return text;
        }());
    auto& messages = history.at("messages").as_array();
    REQUIRE(messages.size() == 3);
    CHECK(messages[0].at("text") == "second question");
    CHECK(messages[0].at("direction") == "in");
    CHECK(messages[1].at("direction") == "out");
    CHECK(messages[2].at("text") == "third");
}
