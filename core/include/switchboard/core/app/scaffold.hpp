// switchboard/core/scaffold.hpp — `switchboard plugins new`: writes a buildable, tested plugin
// skeleton from the templates under share/scaffold/<kind>/ (compiled into the program).
#pragma once

#include <string>
#include <vector>

namespace switchboard::core {

/// The kinds of skeleton available (the folders of share/scaffold), e.g. {"channel"}.
std::vector<std::string> scaffold_kinds();

/// Writes the `kind` skeleton for a plugin named `name` into `dir`, replacing @NAME@ (the plugin
/// name), @IDENT@ (the name as a C++ identifier), @SWITCHBOARD_VERSION@ and @ABI@ in every file.
/// `dir` is created; it must not exist or be empty.
/// @returns the paths written, relative to `dir`.
/// @throws std::runtime_error for an unknown kind, a name not matching [a-z][a-z0-9_-]*, a
/// non-empty `dir`, or a write failure — each message says what to change.
std::vector<std::string> write_scaffold(const std::string& kind, const std::string& name, const std::string& dir);

}  // namespace switchboard::core
