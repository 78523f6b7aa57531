#include <switchboard/core/app/scaffold.hpp>

#include <switchboard/abi.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

namespace switchboard::core {

// Generated from share/scaffold at build time (core/cmake/embed_files.cmake).
struct embedded_file {
    const char* path;
    const char* text;
};
extern const embedded_file embedded_scaffold[];
extern const size_t embedded_scaffold_count;

namespace fs = std::filesystem;

std::vector<std::string> scaffold_kinds() {
    std::set<std::string> kinds;
    for (size_t i = 0; i < embedded_scaffold_count; ++i) {
        std::string path = embedded_scaffold[i].path;
        kinds.insert(path.substr(0, path.find('/')));
    }
    return {kinds.begin(), kinds.end()};
}

namespace {
std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
        text.replace(pos, from.size(), to);
    return text;
}
}  // namespace

std::vector<std::string> write_scaffold(const std::string& kind, const std::string& name, const std::string& dir) {
    auto kinds = scaffold_kinds();
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
        std::string list;
        for (auto& k : kinds) list += (list.empty() ? "" : ", ") + k;
        throw std::runtime_error("unknown kind '" + kind + "': use one of " + list);
    }
    bool valid = !name.empty() && name[0] >= 'a' && name[0] <= 'z' &&
                 std::all_of(name.begin(), name.end(), [](char c) {
                     return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
                 });
    if (!valid)
        throw std::runtime_error("plugin name '" + name +
                                 "' must start with a-z and use only a-z, 0-9, '-' and '_' (it appears in URLs and file names)");
    std::error_code ec;
    if (fs::exists(dir, ec) && !(fs::is_directory(dir, ec) && fs::is_empty(dir, ec)))
        throw std::runtime_error("'" + dir + "' already exists and is not an empty directory: choose a new one");

    std::string ident = name;
    std::replace(ident.begin(), ident.end(), '-', '_');
    const std::string abi = std::to_string(SB_ABI_MAJOR) + "." + std::to_string(SB_ABI_MINOR);
    const std::string prefix = kind + "/";
    std::vector<std::string> written;
    for (size_t i = 0; i < embedded_scaffold_count; ++i) {
        std::string path = embedded_scaffold[i].path;
        if (path.rfind(prefix, 0) != 0) continue;
        std::string relative = replace_all(path.substr(prefix.size()), "@NAME@", name);
        std::string text = embedded_scaffold[i].text;
        text = replace_all(text, "@NAME@", name);
        text = replace_all(text, "@IDENT@", ident);
        text = replace_all(text, "@SWITCHBOARD_VERSION@", SWITCHBOARD_VERSION);
        text = replace_all(text, "@ABI@", abi);
        fs::path target = fs::path(dir) / relative;
        fs::create_directories(target.parent_path(), ec);
        std::ofstream out(target, std::ios::binary);
        out << text;
        if (!out) throw std::runtime_error("cannot write '" + target.string() + "'");
        written.push_back(relative);
    }
    return written;
}

}  // namespace switchboard::core
