// libFuzzer target for the SDK's repair of untrusted text (sdk/text.hpp), which every channel
// runs on authenticated webhook bodies before parsing them: to_valid_utf8, repair_lone_surrogates,
// is_valid_utf8, printable, and sdk::complete_event on what a plugin emits.
#include "fuzz_check.hpp"

#include <switchboard/sdk/host_rules.hpp>
#include <switchboard/sdk/text.hpp>

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace text = switchboard::sdk::text;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    // UTF-8 repair: always valid, the identity on valid text, idempotent.
    const std::string valid = text::to_valid_utf8(input);
    FUZZ_CHECK(text::is_valid_utf8(valid));
    FUZZ_CHECK((valid == input) == text::is_valid_utf8(input));
    FUZZ_CHECK(text::to_valid_utf8(valid) == valid);

    // Surrogate repair: idempotent, never longer than the input, keeps UTF-8 valid.
    const std::string repaired = text::repair_lone_surrogates(valid);
    FUZZ_CHECK(text::repair_lone_surrogates(repaired) == repaired);
    FUZZ_CHECK(repaired.size() <= valid.size());
    FUZZ_CHECK(text::is_valid_utf8(repaired));
    // The no-copy shortcut agrees with the full repair.
    const auto shortcut = text::repaired_json_text(input);
    FUZZ_CHECK((shortcut ? *shortcut : std::string(input)) == text::repair_lone_surrogates(valid));
    // A document Boost.JSON accepted is still accepted, with the same value.
    boost::system::error_code before, after;
    auto v1 = boost::json::parse(valid, before);
    auto v2 = boost::json::parse(repaired, after);
    if (!before) {
        FUZZ_CHECK(!after);
        FUZZ_CHECK(v1 == v2);
    }

    // What the host does with an emitted event: throws std::runtime_error or yields an object
    // with the tenant filled in.
    try {
        auto o = switchboard::sdk::complete_event({input.data(), input.size()}, "t", "p");
        FUZZ_CHECK(o.at("tenant").as_string() == "t");
    } catch (const std::runtime_error&) {
    }

    const std::string shown = text::printable(input, 64);
    for (char c : shown) FUZZ_CHECK(c >= 0x20 && c < 0x7f);
    return 0;
}
