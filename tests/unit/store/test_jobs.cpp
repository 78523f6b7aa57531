// The durable outbox under contention: leases start after the lock, nothing is written when
// nothing is due, a blocked lane is skipped and costs no wake-ups.
#include "../support/pipeline_fixture.hpp"

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <chrono>

using namespace switchboard::core;
using switchboard::core::testing::pipeline_fixture;

TEST_CASE("a claim's lease runs from a time read after the claim holds its lock", "[store][jobs]") {
    pipeline_fixture p;
    p.customer_says("PSID", "hello", "m_1");
    // Each read of the clock is 10 s later, as if the claim had waited that long for the lock.
    int64_t t = p.now;
    auto slow_clock = [&t] { return t += 10'000; };
    auto j = p.db->claim(slow_clock, 60'000, 3);
    REQUIRE(j);
    CHECK(j->lease_until_ms == t + 60'000); // the last reading, not the first
}

TEST_CASE("a claim with nothing due writes nothing, so it never waits for the ingest writer's lock", "[store][jobs]") {
    pipeline_fixture p;
    sqlite3* other = nullptr;
    REQUIRE(sqlite3_open((p.dir / "test.db").string().c_str(), &other) == SQLITE_OK);
    REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK); // holds the write lock
    auto started = std::chrono::steady_clock::now();
    CHECK_FALSE(p.claim());
    CHECK_FALSE(p.db->next_due_ms());
    auto waited = std::chrono::steady_clock::now() - started;
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);
    CHECK(waited < std::chrono::seconds(5)); // busy_timeout is 30 s: a write would have waited
}

TEST_CASE("jobs queued behind a busy lane are skipped and do not count as due", "[store][jobs]") {
    pipeline_fixture p;
    for (int i = 0; i < 50; ++i) p.customer_says("PSID", "message " + std::to_string(i), "m_" + std::to_string(i));
    p.customer_says("OTHER", "hello", "m_other");
    auto head = p.claim();
    REQUIRE(head);
    CHECK(head->lane == "conv:1");
    auto other = p.claim(); // the other conversation is not held up by the backlog
    REQUIRE(other);
    CHECK(other->lane == "conv:2");
    CHECK_FALSE(p.claim()); // conv:1's 49 queued jobs wait for their head
    // What is due next is a lease expiry, not the backlog (which would make idle workers spin).
    auto due = p.db->next_due_ms();
    REQUIRE(due);
    CHECK(*due == head->lease_until_ms + 1);
    CHECK(delivery::idle_wait_ms(due, p.now) == 1000);
    // Finishing the head lets the next job of its lane run, in order.
    REQUIRE(p.db->complete_route(*head, {}, {}, p.now) == fence::held);
    auto next = p.claim();
    REQUIRE(next);
    CHECK(next->lane == "conv:1");
    CHECK(next->id == head->id + 1);
}

TEST_CASE("lane heads left unmarked by concurrent writers are repaired", "[store][jobs]") {
    pipeline_fixture p;
    p.customer_says("PSID", "one", "m_1");
    p.customer_says("PSID", "two", "m_2");
    auto head = p.claim();
    REQUIRE(head);
    REQUIRE(p.db->complete_route(*head, {}, {}, p.now) == fence::held);
    // Simulate what two instances' transactions can leave behind on PostgreSQL: the second job
    // not marked as its lane's head although nothing precedes it any more.
    sqlite3* other = nullptr;
    REQUIRE(sqlite3_open((p.dir / "test.db").string().c_str(), &other) == SQLITE_OK);
    REQUIRE(sqlite3_exec(other, "UPDATE jobs SET lane_head = 0 WHERE state = 'pending'", nullptr, nullptr, nullptr) ==
            SQLITE_OK);
    sqlite3_close(other);
    CHECK_FALSE(p.claim());
    CHECK(p.db->promote_lane_heads() == 1);
    CHECK(p.claim());
    CHECK(p.db->promote_lane_heads() == 0);
}

TEST_CASE("workers claim only the jobs of their pool's class", "[store][jobs][pools]") {
    switchboard::core::testing::pipeline_fixture p;
    p.add_fixture_plugin();
    p.cfg.tenants[0].routes[0].run = {"faulty.record", "templates.reply"};
    p.customer_says("PSID", "hello", "m_1");
    CHECK_FALSE(p.db->claim(p.clock, 60'000, 3, job_class::replies)); // only a route job exists
    CHECK_FALSE(p.db->claim(p.clock, 60'000, 3, job_class::commands));
    auto route = p.db->claim(p.clock, 60'000, 3, job_class::stages);
    REQUIRE(route);
    REQUIRE(p.routes->run(*route).status == dispatch::route_status::completed);
    CHECK_FALSE(p.db->claim(p.clock, 60'000, 3, job_class::stages));
    auto reply = p.db->claim(p.clock, 60'000, 3, job_class::replies);
    REQUIRE(reply);
    CHECK(reply->lane.rfind("send:", 0) == 0);
    auto record = p.db->claim(p.clock, 60'000, 3, job_class::commands);
    REQUIRE(record);
    CHECK(record->lane.rfind("cmd:demo:faulty", 0) == 0);
    CHECK(std::string(job_class_name(job_class::replies)) == "replies");
}
