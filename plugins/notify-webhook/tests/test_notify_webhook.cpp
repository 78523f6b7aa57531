// Standard Webhooks signing (the specification's own example vector) and the retry decisions of the
// outbound webhook sink.
#include <switchboard/notify_webhook/standard_webhooks.hpp>

#include <switchboard/sdk/host.hpp>

#include <catch2/catch.hpp>

namespace nw = switchboard::notify_webhook;
using switchboard::sdk::plugin_error;

TEST_CASE("webhook: signatures match the Standard Webhooks example", "[notify][webhook]") {
    // standard-webhooks spec.md, "Signature scheme": the example message and its expected signature.
    const auto key = nw::secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "secret");
    CHECK(nw::sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})") ==
          "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    const auto header = nw::signature_header({key, key}, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})");
    CHECK(header == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    CHECK_THROWS_WITH(nw::secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "secret"), Catch::Contains("whsec_"));
    CHECK_THROWS_WITH(nw::secret_key("whsec_!!!", "previous_secret"), Catch::Contains("previous_secret") && Catch::Contains("base64"));
    CHECK_THROWS_WITH(nw::secret_key("whsec_c2hvcnQ=", "secret"), Catch::Contains("24 bytes"));
}

TEST_CASE("webhook: retries follow the schedule, Retry-After, and give up or disable as the status says", "[notify][webhook]") {
    const auto schedule = nw::default_schedule_ms();
    REQUIRE(schedule.size() == 8);
    CHECK(nw::decide(200, std::nullopt, 1, schedule, 7).kind == nw::decision::delivered);
    CHECK(nw::decide(204, std::nullopt, 8, schedule, 7).kind == nw::decision::delivered);
    CHECK(nw::decide(410, std::nullopt, 1, schedule, 7).kind == nw::decision::disable);
    for (int status : {400, 401, 403, 404, 413, 301})
        CHECK(nw::decide(status, std::nullopt, 1, schedule, 7).kind == nw::decision::give_up);
    for (int status : {0, 408, 409, 425, 429, 500, 502, 503}) {
        auto d = nw::decide(status, std::nullopt, 2, schedule, 7);
        INFO(status);
        CHECK(d.kind == nw::decision::retry);
        CHECK(d.delay_ms >= 4 * 60'000);  // 5 min ± 20 %
        CHECK(d.delay_ms <= 6 * 60'000);
    }
    // After the first attempt: 5 s ± 20 %; the same message and attempt always wait the same.
    auto first = nw::decide(500, std::nullopt, 1, schedule, 42);
    CHECK(first.delay_ms >= 4000);
    CHECK(first.delay_ms <= 6000);
    CHECK(nw::decide(500, std::nullopt, 1, schedule, 42).delay_ms == first.delay_ms);
    // Retry-After is honoured on 429 and 503 when longer than the schedule's wait.
    CHECK(nw::decide(429, 3'600'000, 1, schedule, 42).delay_ms == 3'600'000);
    CHECK(nw::decide(503, 1000, 1, schedule, 42).delay_ms == first.delay_ms);
    // The eighth failure is the last.
    auto last = nw::decide(500, std::nullopt, 8, schedule, 42);
    CHECK(last.kind == nw::decision::give_up);
    CHECK_THAT(last.reason, Catch::Contains("after 8 attempts"));
}
