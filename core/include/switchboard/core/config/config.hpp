// switchboard/core/config.hpp — the YAML configuration: model, loading and validation.
//
// Loading reports every problem it finds, not just the first, each located as FILE:LINE:COL
// (1-based) so `switchboard check-config` can print them the way compilers do.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace switchboard::core {

/// A location in a config file; line and column are 1-based (0 = unknown).
struct source_mark {
    int line = 0;
    int column = 0;
};

/// One problem found in a config file.
struct diagnostic {
    std::string file;
    source_mark mark;
    std::string message; ///< says what to change; never contains a secret value

    /// "FILE:LINE:COL: message" (or "FILE: message" when the location is unknown).
    std::string to_string() const;
};

/// Thrown by load_config() and by validation; carries every diagnostic found.
class config_error : public std::runtime_error {
public:
    explicit config_error(std::vector<diagnostic> diagnostics);
    const std::vector<diagnostic>& diagnostics() const noexcept { return diagnostics_; }

private:
    std::vector<diagnostic> diagnostics_;
};

/// One setting of a plugin under tenants.<t>.plugins.<p>, after ${VAR} expansion. `<name>_file: PATH`
/// entries are kept as written; the plugin host reads them for declared settings (see plugin_host.hpp).
struct setting_entry {
    std::string name;
    /// Scalar text as written (after expansion); a YAML sequence or mapping of scalars becomes JSON
    /// text (an array of strings, an object of strings) for list and map settings.
    std::string value;
    bool collection = false; ///< the value was a YAML sequence or mapping
    source_mark key_mark;    ///< where the key is
    source_mark value_mark;  ///< where the value is
};

/// A tenant's configuration of one plugin instance: `messenger: {...}` (the instance is named
/// after its plugin) or `staff-bot: { use: telegram, ... }` (a second instance of a plugin).
struct plugin_use {
    std::string name;   ///< instance name: what routes, commands and /webhooks/{name}/{tenant} address
    std::string plugin; ///< the plugin it runs
    source_mark mark;
    std::vector<setting_entry> settings;
};

/// routes: - on: <event type> run: [<plugin>.<stage>, ...]
/// One condition of a route's `when`: the event field at `field` (a dotted path such as
/// "contact.provider_id") equals one of `values` (numbers and booleans compared as written).
struct route_filter {
    std::string field;
    std::vector<std::string> values;
    source_mark mark;
};

/// One stage of a route: `plugin.stage`, or `{ stage: plugin.stage, with: {...}, budget: 8s }`.
struct stage_call {
    std::string stage;              ///< "<instance>.<stage>"
    std::string params_json = "{}"; ///< `with:` as a JSON object (strings, lists and maps of strings)
    int64_t budget_ms = 0;          ///< time allowed in a first_of chain (ms); 0 = the delivery default
    source_mark mark;
};

/// One step of a route's `run`: a stage, or a `first_of` fallback chain of stages (the first tier
/// that produces output within its budget wins; later tiers see why earlier ones fell through).
struct route_step {
    bool first_of = false;
    std::vector<stage_call> tiers; ///< one entry for a plain stage
    source_mark mark;

    route_step() = default;
    /// A plain stage, e.g. route_step("templates.reply").
    route_step(std::string stage) : tiers{stage_call{std::move(stage), "{}", 0, {}}} {}
    route_step(const char* stage) : route_step(std::string(stage)) {}
};

struct route_config {
    std::string on;
    std::vector<route_filter> when; ///< every filter must hold for the route to run (empty: always)
    std::vector<route_step> run;
    source_mark mark;
};

struct tenant_config {
    std::string id;
    source_mark mark;
    std::vector<plugin_use> plugins;
    std::vector<route_config> routes;
    /// `reply_debounce` (0–10 s, in ms): a customer's message.received waits this long for more
    /// messages of the same conversation; a burst runs the routes once, on its last message, which
    /// carries the burst (see route_runner). 0 = every message is routed as it comes.
    int64_t reply_debounce_ms = 0;

    /// This tenant's plugin instance named `name`, or nullptr.
    const plugin_use* find_plugin(const std::string& name) const;
};

struct server_config {
    std::string host = "127.0.0.1";
    uint16_t port = 8080;
    uint64_t max_body_bytes = 1024 * 1024; ///< request bodies above this are refused with 413
    int64_t header_timeout_ms = 10'000;    ///< time allowed to receive the first request of a connection
    int64_t idle_timeout_ms = 60'000;      ///< time allowed for each later request on a keep-alive connection
    int threads = 2;                       ///< I/O threads
    int64_t shutdown_grace_ms = 10'000;    ///< in-flight requests get this long at SIGTERM
    /// The externally visible base URL providers call ("https://bot.example.com", no trailing '/'),
    /// "" when unset: plugins get public_url + the request target (Twilio signs it).
    std::string public_url;
};

struct storage_config {
    std::string url = "sqlite:var/switchboard.db"; ///< "sqlite:PATH" or "postgresql://..."
    source_mark mark;
};

struct delivery_config {
    int workers = 2;                  ///< stage workers: threads that run route jobs (stages, AI calls)
    int reply_workers = 2;            ///< reply workers: threads that send message.send jobs
    int command_workers = 1;          ///< command workers: every other command (CRM, payments, notifications)
    int max_attempts = 8;             ///< attempts before a job becomes a dead letter
    int64_t backoff_initial_ms = 1'000;
    int64_t backoff_max_ms = 300'000;
    int64_t http_timeout_ms = 10'000; ///< default outbound HTTP timeout for plugins
    int64_t lease_ms = 60'000;        ///< a running job whose lease expired (its instance died) runs again
    /// After an interrupted send, how long to wait for the provider's echo proving it was delivered
    /// before sending again (a duplicate is then possible only if echoes are not subscribed).
    int64_t echo_grace_ms = 15'000;
    /// A first_of tier that failed or was late this many times in a row is skipped for
    /// breaker_cooldown_ms, then probed once (0 = never skipped).
    int breaker_failures = 3;
    int64_t breaker_cooldown_ms = 30'000;
};

/// The whole configuration.
struct config {
    std::string file;
    server_config server;
    storage_config storage;
    std::vector<std::string> plugin_paths;
    source_mark plugin_paths_mark;
    delivery_config delivery;
    std::vector<tenant_config> tenants;
    /// Settings that are valid but risky (each message starts with "warning: "): check-config
    /// prints them and still succeeds, run logs them at start.
    std::vector<diagnostic> warnings;

    /// The tenant with this id, or nullptr.
    const tenant_config* find_tenant(const std::string& id) const;
};

/// Reads and validates the structure of a config file: known keys only (with did-you-mean),
/// types, `${VAR}` / `${VAR:-default}` expansion from the environment.
/// Plugin settings are checked later against each plugin's declared schema (validate_tenants in
/// plugin_host.hpp), since that needs the plugins loaded.
/// @throws config_error with every problem found (unreadable file, YAML syntax, unknown key...).
config load_config(const std::string& path);

/// Like load_config(), but returns what could be read and appends the problems to `diagnostics`
/// instead of throwing, so that `check-config` can go on to check plugin settings and report
/// everything at once. Values with problems are left out of the result.
/// @throws config_error only when nothing can be read (unreadable file, YAML syntax error).
config load_config(const std::string& path, std::vector<diagnostic>& diagnostics);

/// Expands `${VAR}` and `${VAR:-default}` in `text` from the environment; `$$` is a literal `$`.
/// @returns the expanded text, or nullopt with `error` set (naming the variable) when a variable
/// without default is unset or the syntax is broken.
std::optional<std::string> expand_env(const std::string& text, std::string& error);

/// Parses a duration: a number of milliseconds, or a number followed by ms, s, m or h.
/// @returns milliseconds, or nullopt when malformed or negative.
std::optional<int64_t> parse_duration_ms(const std::string& text);

/// The candidate closest to `word` by edit distance when it is close enough to be a likely typo.
std::optional<std::string> did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace switchboard::core
