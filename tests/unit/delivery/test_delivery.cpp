// Delivery: workers, retry policy (backoff, dead letters), fencing and echo recovery, driven
// one job at a time with an injected clock.
#include "../support/pipeline_fixture.hpp"

#include <catch2/catch.hpp>

using namespace switchboard::core;
using switchboard::core::testing::pipeline_fixture;
namespace json = boost::json;

TEST_CASE("backoff doubles from the initial delay with jitter in [d/2, d], capped", "[delivery]") {
    using delivery::backoff_delay_ms;
    CHECK(backoff_delay_ms(1, 1000, 60000, 0.0) == 500);
    CHECK(backoff_delay_ms(1, 1000, 60000, 1.0) == 1000);
    CHECK(backoff_delay_ms(3, 1000, 60000, 0.0) == 2000);
    CHECK(backoff_delay_ms(30, 1000, 60000, 0.5) == 45000);
}

TEST_CASE("an idle worker sleeps until the next job is due and never polls in a tight loop", "[delivery]") {
    using delivery::idle_wait_ms;
    CHECK(idle_wait_ms(std::nullopt, 1000) == 1000);
    CHECK(idle_wait_ms(1300, 1000) == 300);
    CHECK(idle_wait_ms(1'000'000, 1000) == 1000);
    CHECK(idle_wait_ms(1000, 1000) == 50); // due, but another worker holds it
    CHECK(idle_wait_ms(10, 1000) == 50);
}

TEST_CASE("an inbound message gets exactly one reply through route and command jobs", "[delivery]") {
    pipeline_fixture p;
    p.customer_says("PSID", "hello", "m_1");
    CHECK(p.drain() == 2);
    REQUIRE(p.services.posts().size() == 1);
    CHECK(p.services.posts()[0].url.find("/me/messages") != std::string::npos);
    CHECK(p.db->job_counts()["done"] == 2);
    CHECK_FALSE(p.db->next_due_ms().has_value());
}

TEST_CASE("a retryable failure backs off and a final one dead-letters at once", "[delivery]") {
    pipeline_fixture p;
    int fail_with = 503;
    p.services.respond = [&](const auto& c) -> host_services::http_result {
        if (fail_with == 503)
            return {SB_OK, 503, {}, R"({"error":{"message":"down","code":2,"is_transient":true}})", {}};
        if (fail_with == 400)
            return {SB_OK, 400, {}, R"({"error":{"message":"outside the window","code":10,"error_subcode":2018278}})", {}};
        return {SB_OK, 200, {}, R"({"recipient_id":"PSID","message_id":"m_out"})", {}};
    };
    p.customer_says("PSID", "hello", "m_1");
    CHECK(p.drain() == 2); // the route, then the first send attempt
    CHECK(p.services.posts().size() == 1);
    auto due = p.db->next_due_ms();
    REQUIRE(due);
    CHECK(*due == p.now + 500); // attempt 1 failed: initial 1 s, jitter 0 → 500 ms
    CHECK(p.drain() == 0);      // not due yet: nothing runs, nothing is sent
    p.now = *due;
    fail_with = 400;
    CHECK(p.drain() == 1);
    CHECK(p.services.posts().size() == 2);
    CHECK(p.db->job_counts()["dead"] == 1);
    CHECK_FALSE(p.db->next_due_ms().has_value());
}

TEST_CASE("a job out of attempts becomes a dead letter", "[delivery]") {
    pipeline_fixture p;
    p.services.respond = [](const auto&) -> host_services::http_result {
        return {SB_OK, 503, {}, R"({"error":{"message":"down","code":2,"is_transient":true}})", {}};
    };
    p.customer_says("PSID", "hello", "m_1");
    for (int i = 0; i < 10 && p.db->next_due_ms(); ++i) {
        p.now = std::max(p.now, *p.db->next_due_ms());
        p.drain();
    }
    CHECK(p.services.posts().size() == 3); // max_attempts
    CHECK(p.db->job_counts()["dead"] == 1);
}

TEST_CASE("an interrupted send waits for the echo and is not sent again once the echo proves it", "[delivery]") {
    pipeline_fixture p;
    p.customer_says("PSID", "hello", "m_1");
    REQUIRE(p.workers->run_one(0.0)); // the route job
    auto cmd = p.claim();             // a worker takes the send... and its process dies
    REQUIRE(cmd);
    p.now += 60'001; // lease over
    REQUIRE(p.workers->run_one(0.0));
    CHECK(p.services.posts().empty()); // waiting for the echo, not sending
    auto due = p.db->next_due_ms();
    REQUIRE(due);
    CHECK(*due == cmd->lease_until_ms + p.cfg.delivery.echo_grace_ms);
    // Meta echoes the message the dead process sent, with our job id as metadata.
    auto echo = json::serialize(json::object{{"type", "message.echoed"},
                                             {"tenant", "demo"},
                                             {"channel", "messenger"},
                                             {"provider_message_id", "m_echoed"},
                                             {"account_id", "PAGE"},
                                             {"contact", {{"provider_id", "PSID"}}},
                                             {"timestamp_ms", p.now},
                                             {"metadata", std::to_string(cmd->id)},
                                             {"text", "whatever was sent"}});
    p.ingest({echo});
    p.now = *due;
    REQUIRE(p.workers->run_one(0.0));
    CHECK(p.services.posts().empty());
    CHECK(p.db->job_counts()["done"] == 2);
}

TEST_CASE("without an echo an interrupted send asks the provider, then sends once", "[delivery]") {
    pipeline_fixture p;
    p.customer_says("PSID", "hello", "m_1");
    REQUIRE(p.workers->run_one(0.0));
    auto cmd = p.claim();
    REQUIRE(cmd);
    p.now += 60'001;
    REQUIRE(p.workers->run_one(0.0)); // postponed for the echo grace
    p.now = *p.db->next_due_ms();
    REQUIRE(p.workers->run_one(0.0));
    REQUIRE(p.services.posts().size() == 1);
    auto sent = json::parse(p.services.posts()[0].body).as_object();
    CHECK(sent.at("message").at("text").as_string().size() > 0);
    CHECK(p.db->job_counts()["done"] == 2);
    CHECK(p.drain() == 0);
}

TEST_CASE("a worker whose lease ran out cannot finish, fail or postpone the job another worker took", "[delivery]") {
    pipeline_fixture p;
    p.customer_says("PSID", "hello", "m_1");
    REQUIRE(p.workers->run_one(0.0));
    auto stale = p.claim();
    REQUIRE(stale);
    p.now += 60'001;
    auto current = p.claim();
    REQUIRE(current);
    CHECK(current->id == stale->id);
    CHECK(current->claim_token != stale->claim_token);
    CHECK(p.db->retry_later(*stale, "late failure", p.now + 1000, p.now) == fence::lost);
    CHECK(p.db->dead_letter(*stale, "late failure", p.now) == fence::lost);
    CHECK(p.db->postpone(*stale, p.now + 1000, p.now) == fence::lost);
    CHECK(p.db->complete_command(*stale, R"({"provider_message_id":"m_x"})", {}, p.now) == fence::lost);
    CHECK(p.db->job_counts()["running"] == 1); // still the current worker's
    // The stale attempt was delivered all the same: its record lets the current worker see it.
    CHECK(p.db->delivered_by_job(stale->id) == std::optional<std::string>("m_x"));
    CHECK(p.db->complete_command(*current, R"({"provider_message_id":"m_x"})", {}, p.now) == fence::held);
    CHECK(p.db->job_counts()["done"] == 2);
}

TEST_CASE("a job running longer than its lease keeps it: the lease is renewed while it runs", "[delivery]") {
    CHECK(delivery::lease_renewal_interval_ms(60'000) == 10'000);
    CHECK(delivery::lease_renewal_interval_ms(6'000) == 2'000);
    pipeline_fixture p;
    p.customer_says("PSID", "hello", "m_1");
    REQUIRE(p.workers->run_one(0.0)); // the route job
    bool checked = false;
    p.services.respond = [&](const auto&) -> host_services::http_result {
        // The provider takes 100 s to answer a send, longer than the 60 s lease.
        p.now += 50'000;
        CHECK(p.workers->renew_leases() == 1);
        p.now += 50'000;
        CHECK_FALSE(p.claim()); // without the renewal the job would be claimed again here
        checked = true;
        return {SB_OK, 200, {}, R"({"recipient_id":"PSID","message_id":"m_slow"})", {}};
    };
    REQUIRE(p.workers->run_one(0.0));
    CHECK(checked);
    CHECK(p.db->job_counts()["done"] == 2);
    CHECK(p.workers->renew_leases() == 0); // nothing runs any more
}
