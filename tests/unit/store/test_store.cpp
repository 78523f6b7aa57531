#include <switchboard/core/dispatch/keys.hpp>
#include <switchboard/core/store/store.hpp>

#include <switchboard/core/delivery/retry_policy.hpp>

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <filesystem>
#include <future>
#include <random>

using namespace switchboard::core;
namespace json = boost::json;

namespace {

struct temp_store {
    std::filesystem::path dir;
    int64_t now = 1'700'000'000'000;
    std::unique_ptr<store> db;
    temp_store() {
        std::random_device rd;
        dir = std::filesystem::temp_directory_path() / ("sb-store-" + std::to_string(rd()));
        store::options o;
        o.url = "sqlite:" + (dir / "test.db").string();
        o.pool_size = 2;
        o.now_ms = [this] { return now; };
        o.route_job = [](const filed_event& e) -> std::optional<route_job_spec> {
            if (e.type != "message.received") return std::nullopt;
            return dispatch::route_job_for(e);
        };
        db = store::open(o);
    }
    ~temp_store() {
        db.reset();
        std::filesystem::remove_all(dir);
    }
    /// Claims with the clock standing at `at`.
    std::optional<job> claim(int64_t at, int64_t lease_ms, int max_attempts) {
        return db->claim([at] { return at; }, lease_ms, max_attempts);
    }
    ingest_result ingest(std::vector<std::string> events) {
        std::promise<ingest_result> p;
        db->ingest({"demo", "messenger", "application/json", "{}", now, std::move(events)},
                   [&](ingest_result r) { p.set_value(std::move(r)); });
        return p.get_future().get();
    }
};

std::string text_event(const std::string& mid, const std::string& psid, int64_t ts) {
    return json::serialize(json::object{{"type", "message.received"},
                                        {"tenant", "demo"},
                                        {"channel", "messenger"},
                                        {"provider_message_id", mid},
                                        {"account_id", "PAGE"},
                                        {"contact", {{"provider_id", psid}}},
                                        {"timestamp_ms", ts},
                                        {"text", "hello"}});
}

std::string send_command(int64_t conversation, const std::string& text) {
    return json::serialize(json::object{{"type", "message.send"},
                                        {"channel", "messenger"},
                                        {"conversation_id", conversation},
                                        {"recipient", {{"provider_id", "PSID"}}},
                                        {"text", text}});
}

}  // namespace

TEST_CASE("backoff grows exponentially with jitter and is capped", "[store][backoff]") {
    CHECK(delivery::backoff_delay_ms(1, 1000, 60000, 0.0) == 500);
    CHECK(delivery::backoff_delay_ms(1, 1000, 60000, 1.0) == 1000);
    CHECK(delivery::backoff_delay_ms(3, 1000, 60000, 0.0) == 2000);
    CHECK(delivery::backoff_delay_ms(3, 1000, 60000, 1.0) == 4000);
    CHECK(delivery::backoff_delay_ms(30, 1000, 60000, 0.5) == 45000);
    CHECK(delivery::backoff_delay_ms(0, 1000, 60000, 1.0) == 1000);
    for (int attempt = 1; attempt < 20; ++attempt) {
        auto d = delivery::backoff_delay_ms(attempt, 100, 5000, 0.37);
        CHECK(d >= 50);
        CHECK(d <= 5000);
    }
}

TEST_CASE("migrations are applied once and recorded", "[store]") {
    temp_store s;
    CHECK(s.db->schema_version() == store::known_migrations().back());
}

TEST_CASE("ingest stores events, creates one route job and drops provider retries", "[store]") {
    temp_store s;
    auto r = s.ingest({text_event("m1", "PSID", s.now)});
    CHECK(r.status == ingest_status::stored);
    CHECK(r.events_stored == 1);
    CHECK(r.jobs_created == 1);

    auto again = s.ingest({text_event("m1", "PSID", s.now)});
    CHECK(again.status == ingest_status::stored);
    CHECK(again.duplicates == 1);
    CHECK(again.jobs_created == 0);

    auto j = s.claim(s.now, 60000, 8);
    REQUIRE(j);
    CHECK(j->kind == job_kind::route);
    CHECK(j->attempts == 1);
    auto payload = json::parse(j->payload).as_object();
    CHECK(payload.at("conversation_id").as_int64() > 0);
    CHECK_FALSE(s.claim(s.now, 60000, 8)); // nothing else due
}

TEST_CASE("a webhook that cannot be stored fails alone in a group commit", "[store]") {
    temp_store s;
    auto bad = s.ingest({"not json"});
    CHECK(bad.status == ingest_status::storage_failed);
    CHECK(s.ingest({text_event("m2", "PSID", s.now)}).status == ingest_status::stored);
}

TEST_CASE("jobs of one lane run one at a time, oldest first", "[store]") {
    temp_store s;
    s.ingest({text_event("a1", "A", s.now), text_event("a2", "A", s.now), text_event("b1", "B", s.now)});
    auto first = s.claim(s.now, 60000, 8);
    auto second = s.claim(s.now, 60000, 8);
    REQUIRE(first);
    REQUIRE(second);
    CHECK(json::parse(first->payload).at("provider_message_id") == "a1");
    CHECK(json::parse(second->payload).at("provider_message_id") == "b1"); // a2 waits for a1
    CHECK_FALSE(s.claim(s.now, 60000, 8));
    s.db->complete_route(*first, {}, {}, s.now);
    auto third = s.claim(s.now, 60000, 8);
    REQUIRE(third);
    CHECK(json::parse(third->payload).at("provider_message_id") == "a2");
}

TEST_CASE("route completion creates commands once, even when run twice", "[store]") {
    temp_store s;
    s.ingest({text_event("m1", "PSID", s.now)});
    auto route = s.claim(s.now, 60000, 8);
    REQUIRE(route);
    int64_t conv = json::parse(route->payload).at("conversation_id").as_int64();
    std::vector<new_job> cmds{{job_kind::command, "send:" + std::to_string(conv), "cmd:1:1:0", send_command(conv, "Hi!")}};
    std::string escalated = json::serialize(json::object{{"type", "conversation.escalated"}, {"channel", "messenger"},
                                                         {"conversation_id", conv}});
    s.db->complete_route(*route, cmds, {escalated}, s.now);
    s.db->complete_route(*route, cmds, {}, s.now); // a re-run after a crash adds nothing
    auto c = s.db->conversation(conv);
    REQUIRE(c);
    CHECK(c->escalated);
    CHECK(c->last_inbound_at_ms == s.now);

    auto cmd = s.claim(s.now, 60000, 8);
    REQUIRE(cmd);
    CHECK(cmd->kind == job_kind::command);
    CHECK_FALSE(s.claim(s.now, 60000, 8));
    s.db->complete_command(*cmd, "{\"provider_message_id\":\"m_out\"}", {}, s.now);
    CHECK(s.db->job_counts()["done"] == 2);
}

TEST_CASE("a failed attempt runs again when retried, and never again once dead-lettered", "[store]") {
    temp_store s;
    s.ingest({text_event("m1", "PSID", s.now)});
    auto j = s.claim(s.now, 60000, 8);
    REQUIRE(j);
    CHECK(s.db->retry_later(*j, "HTTP 503", s.now + 1000, s.now) == fence::held);
    CHECK_FALSE(s.claim(s.now, 60000, 8)); // not due yet
    CHECK(s.db->next_due_ms() == s.now + 1000);
    s.now += 1000;
    auto again = s.claim(s.now, 60000, 8);
    REQUIRE(again);
    CHECK(again->attempts == 2);
    CHECK(s.db->dead_letter(*again, "HTTP 503 again", s.now) == fence::held);
    CHECK(s.db->job_counts()["dead"] == 1);
}

TEST_CASE("expired leases make a crashed instance's job claimable again, marked interrupted", "[store]") {
    temp_store s;
    s.ingest({text_event("m1", "PSID", s.now)});
    auto first = s.claim(s.now, 1000, 3);
    REQUIRE(first);
    CHECK_FALSE(first->interrupted_at_ms);
    CHECK_FALSE(s.claim(s.now + 500, 1000, 3));
    auto again = s.claim(s.now + 1001, 1000, 3);
    REQUIRE(again);
    CHECK(again->attempts == 2);
    CHECK(again->interrupted_at_ms == s.now + 1000); // when the first attempt's lease ran out

    // Waiting for an echo does not use up an attempt, and keeps the mark.
    s.db->postpone(*again, s.now + 5000, s.now + 1001);
    CHECK_FALSE(s.claim(s.now + 4999, 1000, 3));
    auto third = s.claim(s.now + 5000, 1000, 3);
    REQUIRE(third);
    CHECK(third->attempts == 2);
    CHECK(third->interrupted_at_ms == s.now + 1000);

    // A known outcome clears the mark.
    CHECK(s.db->retry_later(*third, "HTTP 503", s.now + 6000, s.now + 5000) == fence::held);
    auto fourth = s.claim(s.now + 6000, 1000, 3);
    REQUIRE(fourth);
    CHECK_FALSE(fourth->interrupted_at_ms);
    CHECK(fourth->attempts == 3);

    // The process dies on the last allowed attempt: a dead letter, not a fourth attempt.
    CHECK_FALSE(s.claim(s.now + 8000, 1000, 3));
    CHECK(s.db->job_counts()["dead"] == 1);
}

TEST_CASE("start-up releases running jobs as interrupted", "[store]") {
    temp_store s;
    s.ingest({text_event("m1", "PSID", s.now)});
    REQUIRE(s.claim(s.now, 60000, 8));
    CHECK(s.db->release_running(s.now + 10) == 1);
    auto j = s.claim(s.now + 10, 60000, 8);
    REQUIRE(j);
    CHECK(j->interrupted_at_ms == s.now + 10);
}

TEST_CASE("an outbound message with the same text proves an interrupted send (Instagram echoes)", "[store]") {
    temp_store s;
    s.ingest({text_event("m1", "PSID", s.now)});
    auto route = s.claim(s.now, 60000, 8);
    REQUIRE(route);
    int64_t conv = json::parse(route->payload).at("conversation_id").as_int64();
    auto echo = json::serialize(json::object{{"type", "message.echoed"}, {"channel", "messenger"},
                                             {"provider_message_id", "m_echo"}, {"contact", {{"provider_id", "PSID"}}},
                                             {"timestamp_ms", s.now}, {"text", "Hi there!"}});
    REQUIRE(s.ingest({echo}).status == ingest_status::stored);
    CHECK(s.db->delivered_by_job(99, conv, "Hi there!", s.now - 1000) == "m_echo");
    CHECK_FALSE(s.db->delivered_by_job(99, conv, "Something else", s.now - 1000));
    CHECK_FALSE(s.db->delivered_by_job(99, conv, "Hi there!", s.now + 1));
}

TEST_CASE("an event that cannot be filed is stored as unhandled, not refused", "[store]") {
    temp_store s;
    auto r = s.ingest({text_event("", "PSID", s.now), text_event("m2", "PSID", s.now)});
    CHECK(r.status == ingest_status::stored);
    CHECK(r.event_types == std::vector<std::string>{"webhook.unhandled", "message.received"});
    CHECK(r.jobs_created == 1);
}

TEST_CASE("key/value state honours expiry", "[store]") {
    temp_store s;
    s.db->kv_put("demo", "messenger", "token", "abc", s.now + 1000);
    CHECK(s.db->kv_get("demo", "messenger", "token", s.now) == "abc");
    CHECK_FALSE(s.db->kv_get("demo", "messenger", "token", s.now + 1000));
    CHECK_FALSE(s.db->kv_get("other", "messenger", "token", s.now));
    s.db->kv_put("demo", "messenger", "token", "def", std::nullopt);
    CHECK(s.db->kv_get("demo", "messenger", "token", s.now + 99999999) == "def");
}

TEST_CASE("an echo carrying our job id as metadata proves that job's delivery", "[store]") {
    temp_store s;
    s.ingest({text_event("m1", "PSID", s.now)});
    auto route = s.claim(s.now, 60000, 8);
    REQUIRE(route);
    CHECK_FALSE(s.db->delivered_by_job(7));
    auto echo = json::serialize(json::object{{"type", "message.echoed"},
                                             {"channel", "messenger"},
                                             {"provider_message_id", "m_reply"},
                                             {"contact", {{"provider_id", "PSID"}}},
                                             {"timestamp_ms", s.now},
                                             {"metadata", "7"},
                                             {"text", "Hi!"}});
    auto other_app = json::serialize(json::object{{"type", "message.echoed"},
                                                  {"channel", "messenger"},
                                                  {"provider_message_id", "m_human"},
                                                  {"contact", {{"provider_id", "PSID"}}},
                                                  {"timestamp_ms", s.now},
                                                  {"metadata", "sent from the inbox"}});
    CHECK(s.ingest({echo, other_app}).status == ingest_status::stored);
    CHECK(s.db->delivered_by_job(7) == "m_reply");
    CHECK_FALSE(s.db->delivered_by_job(8));
}
