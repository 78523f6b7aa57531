// A minimal plugin compiled several times with different ABI versions and names, so tests can
// prove how the host refuses incompatible plugins. FIXTURE_NAME is set by tests/plugins/CMakeLists.txt.
#include <switchboard/sdk/plugin.hpp>

namespace {

class fixture_instance : public switchboard::sdk::instance {
public:
    fixture_instance(const switchboard::sdk::host&, const switchboard::sdk::settings&) {}
};

const switchboard::sdk::plugin_info info{
    .name = FIXTURE_NAME,
    .version = "0.0.1",
    .license = "Apache-2.0",
    .description = "test fixture plugin",
    .capabilities = SB_CAP_CHANNEL,
};

}  // namespace

SWITCHBOARD_PLUGIN(fixture_instance, info)
