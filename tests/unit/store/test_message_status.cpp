// Message status v2: receipts that arrive before the send is recorded are kept and applied when
// it is; a failure keeps the provider's code and reason.
#include "../support/pipeline_fixture.hpp"

#include <catch2/catch.hpp>

using namespace switchboard::core;
using switchboard::core::testing::pipeline_fixture;
namespace json = boost::json;

namespace {

std::string receipt(const std::string& status, const std::string& mid, int64_t at, json::object extra = {}) {
    json::object ev{{"type", "message.status"},
                    {"tenant", "demo"},
                    {"channel", "messenger"},
                    {"status", status},
                    {"provider_message_ids", json::array{json::string(mid)}},
                    {"timestamp_ms", at}};
    for (auto& [k, v] : extra) ev[k] = v;
    return json::serialize(ev);
}

}  // namespace

TEST_CASE("a receipt that arrives before its send is recorded is applied when the send is", "[store][status]") {
    pipeline_fixture p;
    p.customer_says("PSID", "hello", "m_1");
    REQUIRE(p.workers->run_one(0.0)); // the route: the reply is queued
    // Meta answers the Send API with m_out_1 (scripted) and its delivery receipt overtakes our commit.
    p.ingest({receipt("delivered", "m_out_1", p.now + 5)});
    CHECK(p.query_int("SELECT COUNT(*) FROM pending_statuses") == 1);
    REQUIRE(p.workers->run_one(0.0)); // the send, recorded with m_out_1
    CHECK(p.query_int("SELECT COUNT(*) FROM messages WHERE provider_message_id = 'm_out_1' AND status = 'delivered' "
                      "AND delivered_at_ms IS NOT NULL") == 1);
    CHECK(p.query_int("SELECT COUNT(*) FROM pending_statuses") == 0);
}

TEST_CASE("a receipt for a message we already hold is applied at once, never kept", "[store][status]") {
    pipeline_fixture p;
    p.customer_says("PSID", "hello", "m_1");
    p.drain();
    p.ingest({receipt("read", "m_out_1", p.now + 5)});
    p.ingest({receipt("delivered", "m_out_1", p.now + 6)}); // late and lower: ignored, not kept
    CHECK(p.query_int("SELECT COUNT(*) FROM messages WHERE provider_message_id = 'm_out_1' AND status = 'read'") == 1);
    CHECK(p.query_int("SELECT COUNT(*) FROM pending_statuses") == 0);
}

TEST_CASE("a failed status keeps the provider's code and reason", "[store][status]") {
    pipeline_fixture p;
    p.customer_says("PSID", "hello", "m_1");
    p.drain();
    p.ingest({receipt("failed", "m_out_1", p.now + 5, {{"error_code", "131026"}, {"error_reason", "Message undeliverable"}})});
    CHECK(p.query_int("SELECT COUNT(*) FROM messages WHERE provider_message_id = 'm_out_1' AND status = 'failed' AND "
                      "error_code = '131026' AND error = 'Message undeliverable' AND failed_at_ms IS NOT NULL") == 1);
}

TEST_CASE("an outbound message outside any conversation is recorded in the recipient's conversation", "[store][status]") {
    pipeline_fixture p;
    p.add_fixture_plugin();
    p.add_route("fixture.notice", {"faulty.reply"});
    p.ingest({boost::json::serialize(boost::json::object{
        {"type", "fixture.notice"}, {"tenant", "demo"}, {"channel", "messenger"}, {"contact", {{"provider_id", "PSID-9"}}}})});
    p.drain();
    CHECK(p.query_int("SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                      "JOIN channel_identities i ON i.contact_id = c.contact_id "
                      "WHERE m.direction = 'outbound' AND i.provider_id = 'PSID-9' AND c.channel = 'messenger'") == 1);
}

TEST_CASE("a reply is queued with its job, then sent, in one message row", "[store][status]") {
    pipeline_fixture p;
    p.customer_says("PSID", "hello", "m_1");
    auto route = p.claim();
    REQUIRE(route);
    REQUIRE(p.routes->run(*route).status == dispatch::route_status::completed);
    CHECK(p.query_int("SELECT COUNT(*) FROM messages WHERE direction = 'outbound' AND status = 'queued' "
                      "AND provider_message_id IS NULL AND job_id IS NOT NULL") == 1);
    p.drain();
    CHECK(p.query_int("SELECT COUNT(*) FROM messages WHERE direction = 'outbound'") == 1);
    CHECK(p.query_int("SELECT COUNT(*) FROM messages WHERE direction = 'outbound' AND status = 'sent' "
                      "AND provider_message_id = 'm_out_1' AND sent_at_ms IS NOT NULL") == 1);
}

TEST_CASE("a reply that becomes a dead letter turns its queued message into a failed one", "[store][status]") {
    pipeline_fixture p;
    p.services.respond = [](const auto&) {
        return host_services::http_result{SB_OK, 400, {}, R"({"error":{"message":"bad","code":100}})", {}};
    };
    p.customer_says("PSID", "hello", "m_1");
    p.drain();
    CHECK(p.db->job_counts()["dead"] == 1);
    CHECK(p.query_int("SELECT COUNT(*) FROM messages WHERE direction = 'outbound'") == 1);
    CHECK(p.query_int("SELECT COUNT(*) FROM messages WHERE direction = 'outbound' AND status = 'failed' "
                      "AND failed_at_ms IS NOT NULL AND error IS NOT NULL") == 1);
}
