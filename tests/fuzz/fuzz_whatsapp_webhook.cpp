// libFuzzer target for the WhatsApp webhook parser (plugins/lib/whatsapp/src/webhook.cpp), which
// runs on every authenticated Cloud API, 360dialog and on-premise body, and for route_keys, which
// runs on unauthenticated ones: neither throws; every event has a type and the channel; customer
// messages carry a wamid and a contact; statuses carry their wamid and dedupe key; output serializes.
// The input is also a Messages API answer: read_send_response throws nothing but plugin_error.
#include "fuzz_check.hpp"

#include <switchboard/whatsapp/send.hpp>
#include <switchboard/whatsapp/webhook.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    namespace wa = switchboard::whatsapp;
    for (bool in_path : {true, false}) {
        auto events = wa::parse_webhook(input, {.channel = "whatsapp", .own_phone_number_id = size % 2 ? "" : "1065",
                                                .tenant_in_path = in_path});
        if (in_path) FUZZ_CHECK(!events.empty());
        for (auto& ev : events) {
            FUZZ_CHECK(ev.contains("type") && ev.at("type").is_string());
            FUZZ_CHECK(ev.at("channel") == "whatsapp");
            if (ev.at("type") == "message.received") {
                FUZZ_CHECK(!ev.at("provider_message_id").as_string().empty());
                FUZZ_CHECK(!ev.at("contact").at("provider_id").as_string().empty());
            }
            if (ev.at("type") == "message.status") {
                FUZZ_CHECK(ev.at("provider_message_ids").as_array().size() == 1);
                FUZZ_CHECK(ev.contains("dedupe_key"));
            }
            (void)boost::json::serialize(ev);
        }
    }
    // Routing by the unverified body: never throws, never an empty key.
    sb_http_request post{};
    post.struct_size = sizeof post;
    post.method = switchboard::sdk::borrow("POST");
    post.path = switchboard::sdk::borrow("/webhooks/whatsapp");
    post.body = switchboard::sdk::borrow(input);
    for (auto& key : wa::route_keys(switchboard::sdk::request(post))) FUZZ_CHECK(!key.empty());
    for (int status : {200, 400, 429, 503}) {
        try {
            auto result = wa::read_send_response({status, {}, std::string(input)});
            FUZZ_CHECK(status == 200 && !result.at("provider_message_id").as_string().empty());
        } catch (const switchboard::sdk::plugin_error&) {
        }
    }
    return 0;
}
