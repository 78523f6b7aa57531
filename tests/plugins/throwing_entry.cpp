// A plugin whose exported entry point throws: the host must refuse it, not crash.
#include <switchboard/abi.h>

#include <boost/dll/alias.hpp>

#include <stdexcept>

namespace {
const sb_plugin_descriptor* throwing_entry() { throw std::runtime_error("static initialisation failed"); }
}  // namespace

BOOST_DLL_ALIAS(throwing_entry, switchboard_plugin)
