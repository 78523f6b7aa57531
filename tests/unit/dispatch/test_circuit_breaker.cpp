// The first_of circuit breaker: opens after N failures in a row, skips the tier for the
// cool-down, lets exactly one call probe, and closes on the probe's success.
#include <switchboard/core/dispatch/circuit_breaker.hpp>

#include <catch2/catch.hpp>

using switchboard::core::dispatch::circuit_breaker;

TEST_CASE("circuit breaker: open after repeated failures, one probe after the cool-down", "[dispatch][breaker]") {
    circuit_breaker b(3, 30'000);
    CHECK(b.allow("shop", "openai.reply", 0));
    CHECK_FALSE(b.record("shop", "openai.reply", false, 0));
    CHECK_FALSE(b.record("shop", "openai.reply", false, 1));
    CHECK(b.record("shop", "openai.reply", false, 2));  // third in a row: opens
    CHECK_FALSE(b.allow("shop", "openai.reply", 10));
    CHECK(b.allow("other", "openai.reply", 10));         // per tenant
    CHECK(b.allow("shop", "anthropic.reply", 10));       // per stage
    CHECK(b.allow("shop", "openai.reply", 30'002));      // the probe
    CHECK_FALSE(b.allow("shop", "openai.reply", 30'003)); // others wait for its outcome
    CHECK_FALSE(b.record("shop", "openai.reply", false, 30'500));  // failed probe: open again, quietly
    CHECK_FALSE(b.allow("shop", "openai.reply", 31'000));
    CHECK(b.allow("shop", "openai.reply", 60'600));
    CHECK(b.record("shop", "openai.reply", true, 60'700));  // closes
    CHECK(b.allow("shop", "openai.reply", 60'701));
    CHECK(b.allow("shop", "openai.reply", 60'702));
    CHECK(b.state_of("shop", "openai.reply") == circuit_breaker::state::closed);
}

TEST_CASE("circuit breaker: a success resets the count; 0 failures turns it off", "[dispatch][breaker]") {
    circuit_breaker b(2, 1000);
    b.record("t", "s", false, 0);
    b.record("t", "s", true, 1);
    b.record("t", "s", false, 2);
    CHECK(b.allow("t", "s", 3));
    circuit_breaker off(0, 1000);
    for (int i = 0; i < 10; ++i) off.record("t", "s", false, i);
    CHECK(off.allow("t", "s", 10));
}
