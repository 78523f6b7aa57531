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
    // Replies keep their conversation's order; other commands get a lane per target, so a
    // retrying CRM call or notification never holds up a reply.
    CHECK(dispatch::command_lane("demo", "message.send", "messenger", 7) == "send:7");
    CHECK(dispatch::command_lane("demo", "lead.upsert", "bitrix24", 7) == "cmd:demo:bitrix24:7");
    CHECK(dispatch::command_lane("demo", "notification.send", "email", 0) == "cmd:demo:email");
    CHECK(dispatch::command_lane("demo", "message.send", "messenger", 0) == "cmd:demo:messenger");
    CHECK(dispatch::route_key(9) == "route:9");
    CHECK(dispatch::command_key(12, 1, 0) == "cmd:12:1:0");
    auto in_conversation = dispatch::route_job_for({"demo", "message.received", 7, 9, 0});
    REQUIRE(in_conversation);
    CHECK(in_conversation->lane == "conv:7");
    CHECK(in_conversation->idem_key == "route:9");
    CHECK(dispatch::route_job_for({"demo", "message.status", 0, 10, 0})->lane == "event:10");
    CHECK(dispatch::route_job_for({"demo", "x.y", 0, 11, dispatch::max_chain_depth}));
    CHECK_FALSE(dispatch::route_job_for({"demo", "x.y", 0, 12, dispatch::max_chain_depth + 1}));
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

TEST_CASE("an event a stage emits is filed and routed like an inbound one", "[dispatch]") {
    pipeline_fixture p;
    p.add_fixture_plugin();
    p.cfg.tenants[0].routes[0].run = {"faulty.relay"};
    p.add_route("fixture.relayed", {"faulty.sink"});
    p.customer_says("PSID", "hello", "m_1");
    auto inbound = p.claim();
    REQUIRE(inbound);
    REQUIRE(p.routes->run(*inbound).status == dispatch::route_status::completed);
    auto chained = p.claim(); // the relayed event's route, in the conversation's lane
    REQUIRE(chained);
    CHECK(chained->lane == inbound->lane);
    auto event = json::parse(chained->payload).as_object();
    CHECK(event.at("type").as_string() == "fixture.relayed");
    CHECK(event.at("seen").as_string() == "message.received");
    CHECK(event.at("chain_depth").as_int64() == 1);
    CHECK(event.at("conversation_id") == json::parse(inbound->payload).at("conversation_id"));
    REQUIRE(p.routes->run(*chained).status == dispatch::route_status::completed);
    CHECK(p.db->job_counts()["done"] == 2);
}

TEST_CASE("a loop of routes stops at the chain depth limit", "[dispatch]") {
    pipeline_fixture p;
    p.add_fixture_plugin();
    p.cfg.tenants[0].routes[0].run = {"faulty.relay"};
    p.add_route("fixture.relayed", {"faulty.loop"}); // emits fixture.relayed again: a loop
    p.customer_says("PSID", "hello", "m_1");
    // The inbound route, then one route per depth 1..max_chain_depth; depth max+1 is not routed.
    CHECK(p.drain() == 1 + dispatch::max_chain_depth);
    CHECK(p.db->job_counts()["done"] == 1 + dispatch::max_chain_depth);
    CHECK_FALSE(p.db->next_due_ms());
}

TEST_CASE("a route's when filters on event fields, dotted paths included", "[dispatch]") {
    route_config r;
    r.on = "message.received";
    r.when = {{"channel", {"messenger", "whatsapp"}, {}}, {"contact.provider_id", {"42", "43"}, {}}};
    auto event = json::parse(R"({"type":"message.received","channel":"messenger","contact":{"provider_id":"42"}})");
    CHECK(dispatch::route_applies(r, event.as_object()));
    event.as_object()["channel"] = "instagram";
    CHECK_FALSE(dispatch::route_applies(r, event.as_object()));
    event.as_object()["channel"] = "whatsapp";
    event.as_object()["contact"] = json::object{{"provider_id", 43}}; // a number compares as written
    CHECK(dispatch::route_applies(r, event.as_object()));
    event.as_object().erase("contact");
    CHECK_FALSE(dispatch::route_applies(r, event.as_object())); // a missing field never matches
    r.when.clear();
    CHECK(dispatch::route_applies(r, event.as_object()));
}

TEST_CASE("a route whose when does not hold runs no stage", "[dispatch]") {
    pipeline_fixture p;
    p.cfg.tenants[0].routes[0].when = {{"channel", {"instagram"}, {}}};
    p.customer_says("PSID", "hello", "m_1");
    auto route = p.claim();
    REQUIRE(route);
    auto result = p.routes->run(*route);
    CHECK(result.status == dispatch::route_status::completed);
    CHECK(result.commands == 0);
    p.cfg.tenants[0].routes[0].when = {{"channel", {"messenger"}, {}}};
    p.customer_says("PSID", "hello again", "m_2");
    auto second = p.claim();
    REQUIRE(second);
    CHECK(p.routes->run(*second).commands == 1);
}
