// libFuzzer target for the SDK's form codec (sdk/codec.hpp), which plugins run on unverified form
// bodies (Twilio, Bitrix24): decode, nest bracket keys, flatten and re-encode; base64/hex decoders.
#include "fuzz_check.hpp"

#include <switchboard/sdk/codec.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace codec = switchboard::sdk::codec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    // Decoding then encoding then decoding again gives the same fields.
    auto fields = codec::form_decode(input);
    auto again = codec::form_decode(codec::form_encode(fields));
    FUZZ_CHECK(again == fields);

    // Nesting never throws; flattening a nested object and nesting it again is stable.
    auto nested = codec::form_to_json(fields);
    auto flat = codec::json_to_form(nested);
    FUZZ_CHECK(codec::form_to_json(flat) == codec::form_to_json(codec::form_decode(codec::form_encode(flat))));

    // Decoders accept or refuse, and what they accept re-encodes to a canonical form that decodes back.
    if (auto bytes = codec::base64_decode(input)) FUZZ_CHECK(codec::base64_decode(codec::base64_encode(*bytes)) == *bytes);
    if (auto bytes = codec::base64url_decode(input))
        FUZZ_CHECK(codec::base64url_decode(codec::base64url_encode(*bytes)) == *bytes);
    if (auto bytes = codec::hex_decode(input)) FUZZ_CHECK(codec::hex_decode(codec::hex_encode(*bytes)) == *bytes);
    return 0;
}
