// An ABI 1.0 plugin as it was built before ABI 2.0: it exports the 1.x symbol
// (switchboard_plugin_v1) with a 1.0 descriptor. The host must refuse it, naming both versions.
// The 1.0 descriptor layout is written out here: the SDK headers describe only 2.x.
#include <boost/dll/alias.hpp>

#include <cstddef>
#include <cstdint>

namespace {
struct abi1_descriptor {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    const char* name;
    const char* version;
    const char* license;
    const char* description;
    uint32_t capabilities;
    const void* settings;
    size_t settings_count;
    const char* const* stages;
    size_t stages_count;
    void* entry_points[7]; // create, destroy, account_ids, route_keys, handle_webhook, execute, run_stage
};

const abi1_descriptor descriptor{sizeof(abi1_descriptor), 1, 0, "abi1", "0.0.1", "Apache-2.0",
                                 "a plugin built against SDK 1.0", 1, nullptr, 0, nullptr, 0, {}};

const abi1_descriptor* abi1_entry() { return &descriptor; }
}  // namespace

BOOST_DLL_ALIAS(abi1_entry, switchboard_plugin_v1)
