// switchboard — the command-line entry point: run, check-config, plugins list, --version.
#include <switchboard/core/config/config.hpp>
#include <switchboard/core/plugins/catalog.hpp>
#include <switchboard/core/plugins/inspect.hpp>
#include <switchboard/core/plugins/instance.hpp>
#include <switchboard/core/plugins/settings.hpp>
#include <switchboard/core/app/runtime.hpp>
#include <switchboard/core/app/scaffold.hpp>

#include <boost/json.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <pthread.h>
#include <climits>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#ifdef SWITCHBOARD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace core = switchboard::core;

namespace {

const char* usage =
    "usage: switchboard run --config FILE          serve in the foreground (stop with SIGTERM/SIGINT)\n"
    "       switchboard check-config --config FILE validate configuration, plugins and settings\n"
    "       switchboard command --config FILE --tenant T --instance I TYPE [JSON]\n"
    "                                              run one command a plugin declares, now (admin one-offs)\n"
    "       switchboard telegram set-webhook --config FILE --tenant T [--instance NAME]\n"
    "                                              register server.public_url with Telegram (secret_token)\n"
    "       switchboard telegram link-code --config FILE --tenant T --staff ID [--instance NAME]\n"
    "                                              a single-use t.me/<bot>?start=<code> link for a staff member\n"
    "       switchboard conversations release --config FILE --tenant T --conversation ID\n"
    "                                              hand an escalated conversation back to the bot\n"
    "       switchboard webhooks replay --config FILE --tenant T --endpoint NAME --since TIME [--until TIME]\n"
    "                                              send an outbound webhook instance's messages of a time range\n"
    "                                              again (TIME: 2026-11-28T10:00:00Z, 2026-11-28, or UTC ms)\n"
    "       switchboard plugins list --config FILE list the plugins found on the plugin paths\n"
    "       switchboard plugins inspect FILE [--json] describe a plugin file without loading it here\n"
    "       switchboard plugins new --kind channel NAME DIR   write a buildable, tested plugin skeleton\n"
    "       switchboard --version\n";

void setup_logging() {
    auto logger = spdlog::stderr_logger_mt("switchboard");
    logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
    spdlog::set_default_logger(logger);
    const char* level = std::getenv("SWITCHBOARD_LOG_LEVEL");
    spdlog::set_level(level ? spdlog::level::from_str(level) : spdlog::level::info);
    spdlog::flush_on(spdlog::level::trace);
}

void print_diagnostics(const core::config_error& e) {
    for (auto& d : e.diagnostics()) std::cerr << d.to_string() << '\n';
}

/// The delivery guarantee this configuration gives, in words an admin can act on.
std::string delivery_guarantee(const core::delivery_config& d) {
    return "note: every acknowledged webhook is stored before it is answered, and each reply is sent once. After a "
           "crash in the middle of a send (the provider may or may not have accepted it), the reply is sent again "
           "only when neither the provider's echo within delivery.echo_grace (" +
           std::to_string(d.echo_grace_ms) +
           " ms; subscribe to message_echoes) nor the provider's own record of the conversation (Messenger and "
           "Instagram: the Graph API Conversations API) shows that it went out.";
}

int check_config(const std::string& file) {
    std::vector<core::diagnostic> diagnostics, warnings;
    std::optional<core::delivery_config> delivery;
    try {
        auto cfg = core::load_config(file, diagnostics);
        warnings = cfg.warnings;
        delivery = cfg.delivery;
        core::runtime rt(std::move(cfg));
    } catch (const core::config_error& e) {
        diagnostics.insert(diagnostics.end(), e.diagnostics().begin(), e.diagnostics().end());
    }
    for (auto& w : warnings) std::cerr << w.to_string() << '\n';
    if (diagnostics.empty()) {
        std::cout << file << ": ok\n";
        if (delivery) std::cout << delivery_guarantee(*delivery) << '\n';
        return 0;
    }
    std::stable_sort(diagnostics.begin(), diagnostics.end(), [](const auto& a, const auto& b) {
        return std::pair(a.mark.line, a.mark.column) < std::pair(b.mark.line, b.mark.column);
    });
    for (auto& d : diagnostics) std::cerr << d.to_string() << '\n';
    return 1;
}

int plugins_list(const std::string& file) {
    std::vector<std::string> paths;
    try {
        paths = core::plugin_search_paths(core::load_config(file));
    } catch (const core::config_error& e) {
        print_diagnostics(e);
        return 1;
    }
    auto catalog = core::scan_plugins(paths);
    for (auto& p : catalog.plugins) {
        auto& d = p->descriptor();
        std::cout << p->name() << ' ' << d.version << " abi=" << d.abi_major << '.' << d.abi_minor
                  << " capabilities=" << p->capability_names() << ' ' << p->file() << '\n';
    }
    for (auto& r : catalog.refused) std::cerr << r.file << ": refused: " << r.reason << '\n';
    if (catalog.plugins.empty() && catalog.refused.empty()) {
        std::cerr << "no plugins found in:";
        for (auto& p : paths) std::cerr << ' ' << p;
        std::cerr << '\n';
    }
    return catalog.refused.empty() ? 0 : 1;
}

// Runs in a child of `plugins inspect`: loads the plugin and prints its descriptor as JSON.
int plugins_describe(const std::string& file) {
    try {
        std::cout << core::describe_plugin_json(*core::load_plugin(file)) << '\n';
        return 0;
    } catch (const std::exception& e) {
        std::cerr << e.what() << '\n';
        return 3;
    }
}

int plugins_inspect(const std::string& file, bool as_json) {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    auto result = core::inspect_plugin(ec ? std::string("switchboard") : self.string(), file);
    if (!result.ok) {
        std::cerr << file << ": not a usable plugin: " << result.error << '\n';
        return 1;
    }
    if (as_json) {
        std::cout << result.json;
        return 0;
    }
    auto d = boost::json::parse(result.json).as_object();
    auto text = [&](const boost::json::object& o, const char* k) {
        auto* v = o.if_contains(k);
        return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    auto join = [](const boost::json::array& a) {
        std::string out;
        for (auto& v : a) out += (out.empty() ? "" : ", ") + std::string(v.as_string());
        return out.empty() ? std::string("none") : out;
    };
    std::cout << "name:         " << text(d, "name") << '\n'
              << "version:      " << text(d, "version") << '\n'
              << "license:      " << text(d, "license") << '\n'
              << "description:  " << text(d, "description") << '\n'
              << "abi:          " << text(d, "abi") << " (this host: " << SB_ABI_MAJOR << '.' << SB_ABI_MINOR << ")\n"
              << "capabilities: " << join(d.at("capabilities").as_array()) << '\n'
              << "stages:       " << join(d.at("stages").as_array()) << '\n'
              << "file:         " << text(d, "file") << '\n'
              << "settings:\n";
    for (auto& v : d.at("settings").as_array()) {
        auto& st = v.as_object();
        std::string flags = text(st, "type");
        if (st.at("required").as_bool()) flags += ", required";
        if (st.at("secret").as_bool()) flags += ", secret";
        if (st.at("default").is_string()) flags += ", default " + std::string(st.at("default").as_string());
        std::cout << "  " << text(st, "name") << " (" << flags << ")\n      " << text(st, "description") << '\n';
    }
    if (auto* limits = d.if_contains("rate_limits"); limits && !limits->as_array().empty()) {
        std::cout << "rate limits (enforced by the host on message.send):\n";
        for (auto& v : limits->as_array()) {
            auto& l = v.as_object();
            std::cout << "  " << text(l, "setting") << ": per " << text(l, "scope") << ", counting " << text(l, "unit");
            if (l.contains("recipient_prefix")) std::cout << ", recipients starting with '" << text(l, "recipient_prefix") << "'";
            std::cout << '\n';
        }
    }
    return 0;
}

int run(const std::string& file) {
    // Block the stop signals in every thread; the main thread waits for them with sigwait.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    std::unique_ptr<core::runtime> rt;
    try {
        auto cfg = core::load_config(file);
        for (auto& w : cfg.warnings) spdlog::warn("{}", w.to_string());
        rt = std::make_unique<core::runtime>(std::move(cfg), core::runtime::instance_failures::isolate);
        rt->start();
    } catch (const core::config_error& e) {
        print_diagnostics(e);
        return 1;
    } catch (const std::exception& e) {
        spdlog::critical("cannot start: {}", e.what());
        return 1;
    }
#ifdef SWITCHBOARD_HAVE_SYSTEMD
    sd_notify(0, "READY=1");
#endif
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("received {}, stopping: finishing in-flight requests and jobs", sig == SIGTERM ? "SIGTERM" : "SIGINT");
#ifdef SWITCHBOARD_HAVE_SYSTEMD
    sd_notify(0, "STOPPING=1");
#endif
    rt->stop();
    spdlog::info("stopped");
    return 0;
}

/// Runs an admin command's body: its result, or 1 after printing a config error's diagnostics or
/// "switchboard <name>: <what>" for any other failure.
template <typename Body>
int reported(const char* name, Body&& body) {
    try {
        return body();
    } catch (const core::config_error& e) {
        print_diagnostics(e);
    } catch (const std::exception& e) {
        std::cerr << "switchboard " << name << ": " << e.what() << '\n';
    }
    return 1;
}

/// `switchboard command`: one declared command on one instance, its result printed as JSON.
int run_command(const std::string& file, const std::string& tenant, const std::string& instance,
                const std::string& command) {
    return reported("command", [&] {
        boost::system::error_code ec;
        auto parsed = boost::json::parse(command, ec);
        if (ec || !parsed.is_object()) {
            std::cerr << "switchboard command: the command must be a JSON object\n";
            return 2;
        }
        core::runtime rt(core::load_config(file));
        auto out = rt.execute_command(tenant, instance, command);
        if (out.status != SB_OK) {
            std::cerr << "switchboard command: " << instance << " (tenant " << tenant << ") failed: " << out.message
                      << (out.code.empty() ? "" : " (code " + out.code + ")") << '\n';
            return 1;
        }
        std::cout << (out.outputs.empty() ? "{}" : out.outputs.front()) << '\n';
        return 0;
    });
}

/// Parses `[--config F] [--tenant T] [--instance I] positional...` for the admin commands.
struct admin_args {
    std::string config, tenant, instance, staff;
    std::vector<std::string> positional;
    std::string error;
};

admin_args parse_admin_args(const std::vector<std::string>& args, size_t from) {
    admin_args out;
    for (size_t i = from; i < args.size(); ++i) {
        auto take = [&](const char* flag, std::string& into) {
            if (args[i] == flag && i + 1 < args.size()) {
                into = args[++i];
                return true;
            }
            return false;
        };
        if (take("--config", out.config) || take("--tenant", out.tenant) || take("--instance", out.instance) ||
            take("--staff", out.staff))
            continue;
        if (args[i].rfind("--", 0) == 0) out.error = "unexpected option '" + args[i] + "'";
        else out.positional.push_back(args[i]);
    }
    if (out.error.empty() && (out.config.empty() || out.tenant.empty())) out.error = "--config FILE and --tenant T are required";
    return out;
}

/// `--name value` pairs after `args[0] args[1]` (a command and its subcommand), each one of
/// `allowed`. On anything else, prints what is wrong with the usage and returns nullopt.
std::optional<std::map<std::string, std::string>> named_options(const std::vector<std::string>& args,
                                                                std::initializer_list<const char*> allowed,
                                                                const char* command) {
    std::map<std::string, std::string> out;
    for (size_t i = 2; i < args.size(); i += 2) {
        const bool known = std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return args[i] == a; });
        if (!known || i + 1 >= args.size()) {
            std::cerr << "switchboard " << command << ": " << (known ? "no value for '" : "unexpected option '") << args[i]
                      << "'\n" << usage;
            return std::nullopt;
        }
        out[args[i]] = args[i + 1];
    }
    return out;
}

/// `switchboard conversations release --config F --tenant T --conversation ID`: the bot answers
/// that conversation again (a person handled it); files conversation.released.
int release_command(const std::vector<std::string>& args) {
    auto opts = named_options(args, {"--config", "--tenant", "--conversation"}, "conversations release");
    if (!opts) return 2;
    const std::string config = (*opts)["--config"], tenant = (*opts)["--tenant"], conversation = (*opts)["--conversation"];
    if (args.size() < 2 || args[1] != "release" || config.empty() || tenant.empty() || conversation.empty() ||
        conversation.find_first_not_of("0123456789") != std::string::npos || conversation.size() > 18) {
        std::cerr << "switchboard conversations release: --config FILE, --tenant T and --conversation ID (a number) "
                     "are required\n"
                  << usage;
        return 2;
    }
    return reported("conversations release", [&] {
        core::runtime rt(core::load_config(config));
        if (!rt.release_conversation(tenant, std::stoll(conversation))) {
            std::cerr << "switchboard conversations release: tenant '" << tenant << "' has no escalated conversation "
                      << conversation << '\n';
            return 1;
        }
        std::cout << "conversation " << conversation << " of tenant '" << tenant << "' released: the bot answers it again\n";
        return 0;
    });
}

/// A time on the command line as UTC ms: "2026-11-28T10:00:00Z", "2026-11-28" (midnight UTC) or
/// digits (ms since the epoch). nullopt otherwise.
std::optional<int64_t> parse_utc_time(const std::string& text) {
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos && text.size() <= 15)
        return std::stoll(text);
    std::tm tm{};
    const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!end || *end) {
        tm = {};
        end = strptime(text.c_str(), "%Y-%m-%d", &tm);
        if (!end || *end) return std::nullopt;
    }
    return static_cast<int64_t>(timegm(&tm)) * 1000;
}

/// `switchboard webhooks replay --config F --tenant T --endpoint NAME --since TIME [--until TIME]`:
/// queues the outbound webhook instance's notifications of that range again (same webhook ids).
int replay_command(const std::vector<std::string>& args) {
    auto opts = named_options(args, {"--config", "--tenant", "--endpoint", "--since", "--until"}, "webhooks replay");
    if (!opts) return 2;
    const std::string config = (*opts)["--config"], tenant = (*opts)["--tenant"], endpoint = (*opts)["--endpoint"],
                      since = (*opts)["--since"], until = (*opts)["--until"];
    const auto from = parse_utc_time(since);
    const auto to = until.empty() ? std::optional<int64_t>(INT64_MAX) : parse_utc_time(until);
    if (args.size() < 2 || args[1] != "replay" || config.empty() || tenant.empty() ||
        endpoint.empty() || !from || !to) {
        std::cerr << "switchboard webhooks replay: --config FILE, --tenant T, --endpoint NAME and --since TIME are "
                     "required; TIME is 2026-11-28T10:00:00Z, 2026-11-28 or UTC milliseconds\n"
                  << usage;
        return 2;
    }
    return reported("webhooks replay", [&] {
        core::runtime rt(core::load_config(config));
        const int queued = rt.replay_notifications(tenant, endpoint, *from, *to);
        std::cout << queued << " webhook message(s) of '" << endpoint << "' (tenant '" << tenant
                  << "') queued again; the running service sends them\n";
        return 0;
    });
}

/// `switchboard command ...` and `switchboard telegram set-webhook|link-code ...`.
int admin_command(const std::vector<std::string>& args) {
    const std::string& command = args[0];
    const bool telegram = command == "telegram";
    const std::string sub = telegram && args.size() >= 2 ? args[1] : "";
    if (telegram && sub != "set-webhook" && sub != "link-code") {
        std::cerr << "switchboard telegram: the subcommand is set-webhook or link-code\n" << usage;
        return 2;
    }
    auto a = parse_admin_args(args, telegram ? 2 : 1);
    if (telegram && a.instance.empty()) a.instance = "telegram";
    if (a.error.empty() && !telegram && a.instance.empty()) a.error = "--instance I is required";
    if (a.error.empty() && sub == "link-code" && a.staff.empty()) a.error = "--staff ID is required";
    if (a.error.empty() && sub != "link-code" && !a.staff.empty()) a.error = "unexpected option '--staff'";
    if (a.error.empty() && telegram && !a.positional.empty()) a.error = "takes no arguments";
    if (a.error.empty() && !telegram && (a.positional.empty() || a.positional.size() > 2))
        a.error = "TYPE is required (then an optional JSON object of fields)";
    if (!a.error.empty()) {
        std::cerr << "switchboard " << command << ": " << a.error << '\n' << usage;
        return 2;
    }
    std::string body;
    if (sub == "set-webhook") {
        body = R"({"type":"telegram.set_webhook"})";
    } else if (sub == "link-code") {
        body = boost::json::serialize(boost::json::object{{"type", "telegram.link_code"}, {"staff", a.staff}});
    } else {
        boost::system::error_code ec;
        auto fields = boost::json::parse(a.positional.size() > 1 ? a.positional[1] : "{}", ec);
        if (ec || !fields.is_object()) {
            std::cerr << "switchboard command: the fields must be a JSON object\n";
            return 2;
        }
        fields.as_object()["type"] = a.positional[0];
        body = boost::json::serialize(fields);
    }
    return run_command(a.config, a.tenant, a.instance, body);
    }

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::cout << usage;
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version" || args[0] == "version") {
        std::cout << "switchboard " << SWITCHBOARD_VERSION << " (plugin ABI " << SB_ABI_MAJOR << '.' << SB_ABI_MINOR
                  << ")\n";
        return 0;
    }
    setup_logging();
    std::string command = args[0];
    size_t next = 1;
    if (command == "command" || command == "telegram") return admin_command(args);
    if (command == "conversations") return release_command(args);
    if (command == "webhooks") return replay_command(args);
    if (command == "plugins") {
        std::string sub = args.size() >= 2 ? args[1] : "";
        if (sub == "inspect" || sub == "describe") {
            std::string file;
            bool as_json = false;
            for (size_t i = 2; i < args.size(); ++i) {
                if (args[i] == "--json") as_json = true;
                else if (file.empty()) file = args[i];
                else {
                    std::cerr << "switchboard plugins " << sub << ": unexpected argument '" << args[i] << "'\n";
                    return 2;
                }
            }
            if (file.empty()) {
                std::cerr << "switchboard plugins " << sub << ": FILE is required\n" << usage;
                return 2;
            }
            spdlog::set_level(spdlog::level::off); // plugins may log at load; keep the output clean
            return sub == "inspect" ? plugins_inspect(file, as_json) : plugins_describe(file);
        }
        if (sub == "new") {
            std::string kind = "channel";
            std::vector<std::string> positional;
            for (size_t i = 2; i < args.size(); ++i) {
                if (args[i] == "--kind" && i + 1 < args.size()) kind = args[++i];
                else if (args[i].rfind("--kind=", 0) == 0) kind = args[i].substr(7);
                else positional.push_back(args[i]);
            }
            if (positional.size() != 2) {
                std::cerr << "switchboard plugins new: NAME and DIR are required\n" << usage;
                return 2;
            }
            try {
                auto files = core::write_scaffold(kind, positional[0], positional[1]);
                std::cout << "wrote a " << kind << " plugin '" << positional[0] << "' in " << positional[1] << ":\n";
                for (auto& f : files) std::cout << "  " << f << '\n';
                std::cout << "next: cmake -S " << positional[1] << " -B " << positional[1]
                          << "/build -DCMAKE_PREFIX_PATH=<switchboard prefix> && cmake --build " << positional[1]
                          << "/build && ctest --test-dir " << positional[1] << "/build\n";
                return 0;
            } catch (const std::exception& e) {
                std::cerr << "switchboard plugins new: " << e.what() << '\n';
                return 1;
            }
        }
        if (sub != "list") {
            std::cerr << "switchboard plugins: unknown subcommand '" << sub << "'\n" << usage;
            return 2;
        }
        command = "plugins list";
        next = 2;
    }
    std::string config_file;
    for (size_t i = next; i < args.size(); ++i) {
        if (args[i] == "--config" && i + 1 < args.size()) config_file = args[++i];
        else if (args[i].rfind("--config=", 0) == 0) config_file = args[i].substr(9);
        else {
            std::cerr << "switchboard " << command << ": unexpected argument '" << args[i] << "'\n" << usage;
            return 2;
        }
    }
    if (config_file.empty()) {
        std::cerr << "switchboard " << command << ": --config FILE is required\n" << usage;
        return 2;
    }
    if (command == "run") return run(config_file);
    if (command == "check-config") return check_config(config_file);
    if (command == "plugins list") return plugins_list(config_file);
    std::cerr << "switchboard: unknown command '" << command << "'\n" << usage;
    return 2;
}
