// libFuzzer target for the Telegram Update parser (plugins/channel-telegram/src/update.cpp), which
// runs on every authenticated webhook body: it never throws, always yields exactly one event with a
// type and the channel, carries the update's dedupe key when it has an update_id, and its output
// serializes.
#include "fuzz_check.hpp"

#include <switchboard/telegram/update.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    auto events = switchboard::telegram::parse_update(input);
    FUZZ_CHECK(events.size() == 1);
    const auto& ev = events.front();
    FUZZ_CHECK(ev.contains("type") && ev.at("type").is_string());
    FUZZ_CHECK(ev.at("channel") == "telegram");
    if (ev.at("type") != "webhook.unhandled") {
        FUZZ_CHECK(ev.contains("dedupe_key"));
        FUZZ_CHECK(ev.contains("contact"));
    }
    (void)boost::json::serialize(ev);
    return 0;
}
