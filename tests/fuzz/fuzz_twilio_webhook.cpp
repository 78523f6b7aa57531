// libFuzzer target for the Twilio channel's parsers (plugins/channel-twilio/src/twilio.cpp):
// parse_webhook on every verified form body, verify_signature on unverified ones (the input as
// the body, the header and the URL), read_send_response on Messages API answers. None throws
// (read_send_response: only plugin_error); events have a type and the channel; statuses carry
// their sid; a body signed with the token always verifies, and with another token never does.
#include "fuzz_check.hpp"

#include <switchboard/twilio/twilio.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    namespace tw = switchboard::twilio;
    namespace codec = switchboard::sdk::codec;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    auto events = tw::parse_webhook(input);
    FUZZ_CHECK(!events.empty());
    for (auto& ev : events) {
        FUZZ_CHECK(ev.at("channel") == "twilio");
        if (ev.at("type") == "message.status") FUZZ_CHECK(ev.at("provider_message_ids").as_array().size() == 1);
        if (ev.at("type") == "message.received") FUZZ_CHECK(!ev.at("provider_message_id").as_string().empty());
        (void)boost::json::serialize(ev);
    }
    const std::string url = "https://sb.example.test/webhooks/twilio/shop";
    const std::string good = tw::signature("token", url, codec::form_decode(input));
    FUZZ_CHECK(tw::verify_signature(good, "token", url, input));
    FUZZ_CHECK(!tw::verify_signature(good, "other", url, input));
    (void)tw::verify_signature(input, "token", url, "Body=x");
    (void)tw::verify_signature("abc", "token", input, input);
    for (int status : {201, 400, 429, 503}) {
        try {
            auto r = tw::read_send_response({status, {}, std::string(input)});
            FUZZ_CHECK(status == 201 && !r.at("provider_message_id").as_string().empty());
        } catch (const switchboard::sdk::plugin_error&) {
        }
    }
    return 0;
}
