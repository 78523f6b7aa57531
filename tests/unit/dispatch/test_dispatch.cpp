// Dispatch: lanes, idempotency keys and the route runner, with an injected clock.
#include "../support/pipeline_fixture.hpp"

#include <catch2/catch.hpp>

using namespace switchboard::core;
using switchboard::core::testing::pipeline_fixture;
namespace json = boost::json;

TEST_CASE("lanes and idempotency keys come from one place", "[dispatch]") {
    CHECK(dispatch::conversation_lane(7) == "conv:7");
    CHECK(dispatch::send_lane(7) == "send:7");
    CHECK(dispatch::event_lane(9) == "event:9");
    CHECK(dispatch::tenant_command_lane("demo") == "cmd:demo");
    CHECK(dispatch::route_key(9) == "route:9");
    CHECK(dispatch::command_key(12, 1, 0) == "cmd:12:1:0");
    auto in_conversation = dispatch::route_job_for({"demo", "message.received", 7, 9});
    CHECK(in_conversation.lane == "conv:7");
    CHECK(in_conversation.idem_key == "route:9");
    CHECK(dispatch::route_job_for({"demo", "message.status", 0, 10}).lane == "event:10");
}

TEST_CASE("a route job turns the template reply into one send command on the conversation's send lane", "[dispatch]") {
    pipeline_fixture p;
    REQUIRE(p.customer_says("PSID", "hello", "m_1").jobs_created == 1);
    auto route = p.claim();
    REQUIRE(route);
    REQUIRE(route->kind == job_kind::route);
    auto result = p.routes->run(*route);
    CHECK(result.status == dispatch::route_status::completed);
    CHECK(result.commands == 1);
    auto cmd = p.claim();
    REQUIRE(cmd);
    CHECK(cmd->kind == job_kind::command);
    CHECK(cmd->lane.rfind("send:", 0) == 0);
    auto payload = json::parse(cmd->payload).as_object();
    CHECK(payload.at("type").as_string() == "message.send");
    CHECK(payload.at("channel").as_string() == "messenger");
    CHECK(payload.at("conversation_id").as_int64() > 0);
}

TEST_CASE("a route job re-run after its lease ran out creates no second command", "[dispatch]") {
    pipeline_fixture p;
    p.customer_says("PSID", "hello", "m_1");
    auto first = p.claim();
    REQUIRE(first);
    p.now += 60'001; // the first worker stalls past its lease
    auto second = p.claim();
    REQUIRE(second);
    CHECK(second->id == first->id);
    CHECK(second->interrupted_at_ms.has_value());
    CHECK(p.routes->run(*second).status == dispatch::route_status::completed);
    // The stalled worker finishes late: its claim no longer holds, nothing is written.
    CHECK(p.routes->run(*first).status == dispatch::route_status::lost);
    CHECK(p.db->job_counts()["pending"] == 1); // one send command, not two
}

TEST_CASE("a stage of a plugin the tenant lacks fails finally", "[dispatch]") {
    pipeline_fixture p;
    p.cfg.tenants[0].routes[0].run = {"openai.reply"};
    p.customer_says("PSID", "hello", "m_1");
    auto route = p.claim();
    REQUIRE(route);
    auto result = p.routes->run(*route);
    CHECK(result.status == dispatch::route_status::failed);
    CHECK(result.final_failure);
    CHECK(result.plugin == "openai");
    CHECK(result.error.find("no plugin 'openai'") != std::string::npos);
}
