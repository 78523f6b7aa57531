// libFuzzer target for the tenant catalog parsers (plugins/ai-templates catalog.hpp): the input as
// CSV and as YAML. Each is read or refused with plugin_error(invalid) naming a line; what is read
// has named entries with numeric prices, and searching it with its own text never throws.
#include "fuzz_check.hpp"

#include <switchboard/templates/catalog.hpp>

#include <switchboard/sdk/plugin.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

void check(const switchboard::templates::product_catalog& c, std::string_view input) {
    for (const auto& e : c.entries()) FUZZ_CHECK(!e.name.empty() && e.line >= 1);
    FUZZ_CHECK(c.search(input, 3).size() <= 3);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    namespace tpl = switchboard::templates;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    for (auto parse : {tpl::product_catalog::parse_csv, tpl::product_catalog::parse_yaml}) {
        try {
            check(parse(input, "fuzz"), input);
        } catch (const switchboard::sdk::plugin_error& e) {
            FUZZ_CHECK(e.kind() == switchboard::sdk::error_kind::invalid);
            FUZZ_CHECK(std::string_view(e.what()).starts_with("fuzz:"));
        }
    }
    return 0;
}
