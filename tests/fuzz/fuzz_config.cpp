// fuzz_config — configuration loading (core/include/switchboard/core/config.hpp) on arbitrary bytes.
//
// `switchboard check-config` and `run` read whatever file an admin points them at; a typo or a
// truncated file must end in diagnostics, never in a crash, a hang or an exception other than
// config_error. The input is written to a per-process file (load_config takes a path) and read back
// through both load_config overloads; the same bytes also go through expand_env and
// parse_duration_ms, which every scalar of the file passes through.
#include "fuzz_check.hpp"

#include <switchboard/core/config/config.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

namespace core = switchboard::core;

const std::string& config_path() {
    static const std::string path = [] {
        // A crash skips atexit: run-fuzzers.sh points TMPDIR at its work directory, which it removes.
        const char* tmp = std::getenv("TMPDIR");
        std::string p = std::string(tmp && *tmp ? tmp : "/tmp") + "/sb-fuzz-config-" + std::to_string(::getpid()) + ".yaml";
        std::atexit([] { std::remove(config_path().c_str()); });
        return p;
    }();
    return path;
}

void write_file(const std::string& path, std::string_view bytes) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    FUZZ_CHECK(f != nullptr);
    if (!bytes.empty()) FUZZ_CHECK(std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size());
    FUZZ_CHECK(std::fclose(f) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // Fixed environment, so ${VAR} references in the corpus expand the same way on every machine
    // (the shipped etc/switchboard.yaml reads these; the rest stay unset and need a default).
    ::setenv("SWITCHBOARD_FUZZ_SET", "value", 1);
    ::unsetenv("SWITCHBOARD_FUZZ_UNSET");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const std::string& path = config_path();
    write_file(path, text);

    // Collecting overload: either returns with the problems appended, or throws config_error when
    // nothing could be read. Any other exception escapes and libFuzzer reports it as a crash.
    bool readable = false;
    std::vector<core::diagnostic> diagnostics;
    try {
        core::config cfg = core::load_config(path, diagnostics);
        readable = true;
        for (const auto& t : cfg.tenants) FUZZ_CHECK(cfg.find_tenant(t.id) != nullptr);
        FUZZ_CHECK(cfg.delivery.backoff_initial_ms >= 0 && cfg.delivery.backoff_max_ms >= 0);
    } catch (const core::config_error& e) {
        FUZZ_CHECK(!e.diagnostics().empty());
    }
    for (const auto& d : diagnostics) FUZZ_CHECK(!d.message.empty() && !d.to_string().empty());

    // Throwing overload: throws exactly when the collecting one found problems.
    try {
        (void)core::load_config(path);
        FUZZ_CHECK(readable && diagnostics.empty());
    } catch (const core::config_error& e) {
        FUZZ_CHECK(!readable || !diagnostics.empty());
        FUZZ_CHECK(!e.diagnostics().empty());
    }

    std::string error;
    if (auto expanded = core::expand_env(text, error)) {
        // Without "${" nothing but "$$" changes.
        if (text.find("${") == std::string::npos && text.find("$$") == std::string::npos) FUZZ_CHECK(*expanded == text);
    } else {
        FUZZ_CHECK(!error.empty());
    }

    if (auto ms = core::parse_duration_ms(text)) FUZZ_CHECK(*ms >= 0);
    // Every scalar of the file is a candidate duration: try each word too, so mutations anywhere in
    // a YAML seed reach the duration parser.
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t begin = text.find_first_not_of(" \t\r\n:", at);
        if (begin == std::string::npos) break;
        const std::size_t end = std::min(text.find_first_of(" \t\r\n:", begin), text.size());
        if (auto ms = core::parse_duration_ms(text.substr(begin, end - begin))) FUZZ_CHECK(*ms >= 0);
        at = end;
    }

    // did_you_mean as the loader uses it, on an unknown key.
    (void)core::did_you_mean(text.substr(0, 256), {"server", "storage", "plugins", "delivery", "tenants"});
    return 0;
}
