// Send rate limits (ABI 2.1): the rate setting syntax, SMS segment counting, and the token
// buckets the command runner consults before a message.send reaches its plugin.
#include <switchboard/core/delivery/rate_limiter.hpp>

#include <catch2/catch.hpp>

namespace d = switchboard::core::delivery;
namespace sdk = switchboard::sdk;

namespace {
d::resolved_rate_limit limit(std::string setting, uint32_t scope, int64_t count, int64_t per_ms,
                             std::string prefix = "", uint32_t unit = SB_RATE_MESSAGES) {
    return {std::move(setting), scope, unit, std::move(prefix), {count, per_ms}};
}
}  // namespace

TEST_CASE("rate settings read COUNT/DURATION or off", "[rate_limit]") {
    CHECK(sdk::parse_rate("80/1s")->count == 80);
    CHECK(sdk::parse_rate("80/1s")->per_ms == 1000);
    CHECK(sdk::parse_rate("20/1m")->per_ms == 60'000);
    CHECK(sdk::parse_rate("30/s")->per_ms == 1000);
    CHECK(sdk::parse_rate("1/6s")->per_ms == 6000);
    CHECK(sdk::parse_rate("off")->count == 0);
    for (const char* bad : {"", "80", "/1s", "0/1s", "80/0s", "-1/1s", "80/1 s", "eighty/1s", "80/1d", "1234567890/1s"})
        CHECK_FALSE(sdk::parse_rate(bad));
}

TEST_CASE("SMS segments follow GSM-7 and UCS-2 sizes", "[rate_limit]") {
    CHECK(d::sms_segments("") == 1);
    CHECK(d::sms_segments(std::string(160, 'a')) == 1);
    CHECK(d::sms_segments(std::string(161, 'a')) == 2);
    CHECK(d::sms_segments(std::string(306, 'a')) == 2);
    CHECK(d::sms_segments(std::string(307, 'a')) == 3);
    CHECK(d::sms_segments(std::string(80, '[')) == 1);   // extension characters take two septets
    CHECK(d::sms_segments(std::string(81, '[')) == 2);
    std::string cyrillic;
    for (int i = 0; i < 70; ++i) cyrillic += "\xD0\xB0";  // "а" (U+0430): UCS-2
    CHECK(d::sms_segments(cyrillic) == 1);
    CHECK(d::sms_segments(cyrillic + "\xD0\xB0") == 2);
    CHECK(d::sms_segments("caf\xC3\xA9") == 1);  // é is in the GSM basic set
}

TEST_CASE("a token bucket lets its count through at once, then one per interval", "[rate_limit]") {
    d::rate_limiter limiter;
    std::vector<d::resolved_rate_limit> limits{limit("rate_limit", SB_RATE_ACCOUNT, 3, 3000)};
    for (int i = 0; i < 3; ++i) CHECK(limiter.acquire("t/wa", limits, "r", "", 0) == 0);
    std::string which;
    CHECK(limiter.acquire("t/wa", limits, "r", "", 0, &which) == 1000);
    CHECK(which == "rate_limit");
    CHECK(limiter.acquire("t/wa", limits, "r", "", 400) == 600);
    CHECK(limiter.acquire("t/wa", limits, "r", "", 1000) == 0);
    CHECK(limiter.acquire("t/other", limits, "r", "", 1000) == 0);  // another instance: its own bucket
}

TEST_CASE("per-recipient, prefixed and segment limits; a refused send takes no token", "[rate_limit]") {
    d::rate_limiter limiter;
    std::vector<d::resolved_rate_limit> limits{limit("rate_limit", SB_RATE_ACCOUNT, 30, 1000),
                                               limit("per_chat", SB_RATE_RECIPIENT, 1, 1000),
                                               limit("per_group", SB_RATE_RECIPIENT, 20, 60'000, "-")};
    CHECK(limiter.acquire("t/tg", limits, "42", "", 0) == 0);
    std::string which;
    CHECK(limiter.acquire("t/tg", limits, "42", "", 0, &which) == 1000);
    CHECK(which == "per_chat");
    CHECK(limiter.acquire("t/tg", limits, "43", "", 0) == 0);  // another chat
    d::rate_limiter groups;
    std::vector<d::resolved_rate_limit> group_only{limit("per_group", SB_RATE_RECIPIENT, 20, 60'000, "-")};
    for (int i = 0; i < 20; ++i) CHECK(groups.acquire("t/tg", group_only, "-1001", "", 0) == 0);
    CHECK(groups.acquire("t/tg", group_only, "-1001", "", 0, &which) == 3000);
    CHECK(which == "per_group");
    CHECK(groups.acquire("t/tg", group_only, "42", "", 0) == 0);  // a private chat: the group limit does not apply
    // SMS segments: a 2-segment text costs 2 tokens, capped to the bucket's size, so it can go.
    std::vector<d::resolved_rate_limit> sms{limit("rate_limit_sms", SB_RATE_ACCOUNT, 2, 2000, "+", SB_RATE_SMS_SEGMENTS)};
    d::rate_limiter twilio;
    CHECK(twilio.acquire("t/twilio", sms, "+1555", std::string(200, 'a'), 0) == 0);
    CHECK(twilio.acquire("t/twilio", sms, "+1555", "hi", 0) == 1000);
    CHECK(twilio.acquire("t/twilio", sms, "whatsapp:+1555", std::string(200, 'a'), 0) == 0);  // not an SMS
    CHECK(twilio.acquire("t/twilio", sms, "+1555", std::string(500, 'a'), 1000) == 1000);  // 4 segments → 2 tokens
    d::rate_limiter fresh;
    std::vector<d::resolved_rate_limit> off{limit("rate_limit", SB_RATE_ACCOUNT, 0, 0)};
    for (int i = 0; i < 100; ++i) CHECK(fresh.acquire("t/x", off, "r", "", 0) == 0);
}
