// libFuzzer target for the TikTok channel's parsers (plugins/channel-tiktok/src/tiktok.cpp):
// parse_webhook on verified bodies (the envelope, then its content parsed a second time),
// verify_signature on unverified header values and bodies, read_send_response on Business API
// answers. None throws (read_send_response: only plugin_error); every event has a type and the
// channel; a body signed now always verifies, signed with another secret never does.
#include "fuzz_check.hpp"

#include <switchboard/tiktok/tiktok.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    namespace tt = switchboard::tiktok;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    for (std::string_view business : {std::string_view(), std::string_view("biz-1")}) {
        auto events = tt::parse_webhook(input, business);
        FUZZ_CHECK(events.size() == 1);
        FUZZ_CHECK(events[0].at("channel") == "tiktok");
        if (events[0].at("type") == "message.received") FUZZ_CHECK(!events[0].at("provider_message_id").as_string().empty());
        (void)boost::json::serialize(events[0]);
    }
    const int64_t now = 1'800'000'000'000;
    const std::string good = tt::sign("secret", now / 1000, input);
    FUZZ_CHECK(tt::verify_signature(good, "secret", input, now, 5000) == tt::signature_status::valid);
    FUZZ_CHECK(tt::verify_signature(good, "other", input, now, 5000) == tt::signature_status::mismatch);
    (void)tt::verify_signature(input, "secret", "{}", now, 5000);
    for (int status : {200, 429, 500}) {
        try {
            auto r = tt::read_send_response({status, {}, std::string(input)});
            FUZZ_CHECK(status == 200 && !r.at("provider_message_id").as_string().empty());
        } catch (const switchboard::sdk::plugin_error&) {
        }
    }
    return 0;
}
