#include <switchboard/core/config/config.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

using namespace switchboard::core;

namespace {

struct temp_config {
    std::filesystem::path path;
    explicit temp_config(const std::string& text) {
        std::random_device rd;
        path = std::filesystem::temp_directory_path() / ("sb-config-" + std::to_string(rd()) + ".yaml");
        std::ofstream(path) << text;
    }
    ~temp_config() { std::filesystem::remove(path); }
};

std::vector<diagnostic> errors_of(const std::string& text) {
    temp_config f(text);
    try {
        load_config(f.path.string());
    } catch (const config_error& e) {
        return e.diagnostics();
    }
    return {};
}

const char* minimal = "tenants:\n  demo:\n    plugins:\n      templates: { locale: en }\n";

}  // namespace

TEST_CASE("expand_env reads variables and defaults", "[config]") {
    ::setenv("SB_TEST_SET", "value", 1);
    ::unsetenv("SB_TEST_UNSET");
    std::string err;
    CHECK(expand_env("a-${SB_TEST_SET}-b", err) == "a-value-b");
    CHECK(expand_env("${SB_TEST_UNSET:-fallback}", err) == "fallback");
    CHECK(expand_env("${SB_TEST_UNSET:-}", err) == "");
    CHECK(expand_env("$$HOME", err) == "$HOME");
    CHECK_FALSE(expand_env("${SB_TEST_UNSET}", err));
    CHECK(err.find("SB_TEST_UNSET") != std::string::npos);
    CHECK_FALSE(expand_env("${SB_TEST_SET", err));
    CHECK_FALSE(expand_env("${not valid}", err));
}

TEST_CASE("durations accept ms, s, m and h", "[config]") {
    CHECK(parse_duration_ms("250") == 250);
    CHECK(parse_duration_ms("250ms") == 250);
    CHECK(parse_duration_ms("10s") == 10'000);
    CHECK(parse_duration_ms("5m") == 300'000);
    CHECK(parse_duration_ms("24h") == 86'400'000);
    CHECK_FALSE(parse_duration_ms("ten seconds"));
    CHECK_FALSE(parse_duration_ms("-5s"));
    CHECK_FALSE(parse_duration_ms(""));
    CHECK_FALSE(parse_duration_ms("5d"));
    CHECK_FALSE(parse_duration_ms("999999999999999h")); // would overflow int64 milliseconds
    CHECK(parse_duration_ms("999999999999999ms") == 999999999999999);
}

TEST_CASE("did_you_mean suggests close keys only", "[config]") {
    CHECK(did_you_mean("listn", {"listen", "threads"}) == "listen");
    CHECK(did_you_mean("max_body_byte", {"max_body_bytes", "listen"}) == "max_body_bytes");
    CHECK_FALSE(did_you_mean("completely_different", {"listen", "threads"}));
}

TEST_CASE("a valid config loads with its defaults", "[config]") {
    temp_config f(std::string("server:\n  listen: \"127.0.0.1:9090\"\n  header_timeout: 5s\n") + minimal);
    auto cfg = load_config(f.path.string());
    CHECK(cfg.server.host == "127.0.0.1");
    CHECK(cfg.server.port == 9090);
    CHECK(cfg.server.header_timeout_ms == 5000);
    CHECK(cfg.server.max_body_bytes == 1048576);
    CHECK(cfg.storage.url == "sqlite:var/switchboard.db");
    REQUIRE(cfg.tenants.size() == 1);
    CHECK(cfg.tenants[0].id == "demo");
    REQUIRE(cfg.tenants[0].plugins.size() == 1);
    CHECK(cfg.tenants[0].plugins[0].settings[0].name == "locale");
    CHECK(cfg.tenants[0].plugins[0].settings[0].key_mark.line == 7);
}

TEST_CASE("unknown keys are located and get a did-you-mean", "[config]") {
    auto errs = errors_of(std::string("server:\n  listn: \"127.0.0.1:1\"\n") + minimal);
    REQUIRE(errs.size() == 1);
    CHECK(errs[0].mark.line == 2);
    CHECK(errs[0].mark.column == 3);
    CHECK(errs[0].message == "unknown key 'listn' in server; did you mean 'listen'?");
    CHECK(errs[0].to_string().find(":2:3: unknown key") != std::string::npos);
}

TEST_CASE("every problem is reported, not just the first", "[config]") {
    auto errs = errors_of("server:\n  max_body_bytes: abc\n  threads: 0\ndelivery:\n  backoff_max: soon\n" +
                          std::string(minimal));
    REQUIRE(errs.size() == 3);
    CHECK(errs[0].message.find("max_body_bytes") != std::string::npos);
    CHECK(errs[1].message.find("threads") != std::string::npos);
    CHECK(errs[2].message.find("backoff_max") != std::string::npos);
    CHECK(errs[2].mark.line == 5);
}

TEST_CASE("a missing environment variable names the variable and the place", "[config]") {
    ::unsetenv("SB_TEST_MISSING_SECRET");
    auto errs = errors_of("tenants:\n  demo:\n    plugins:\n      messenger:\n        app_secret: \"${SB_TEST_MISSING_SECRET}\"\n");
    REQUIRE(errs.size() == 1);
    CHECK(errs[0].mark.line == 5);
    CHECK(errs[0].message.find("SB_TEST_MISSING_SECRET") != std::string::npos);
}

TEST_CASE("structural errors: syntax, tenants, routes, storage, listen", "[config]") {
    auto syntax = errors_of("tenants: [\n");
    REQUIRE(syntax.size() == 1);
    CHECK(syntax[0].message.find("YAML syntax error") != std::string::npos);

    CHECK(errors_of("server: {}\n")[0].message.find("missing 'tenants'") != std::string::npos);
    CHECK(errors_of("tenants:\n  \"bad id!\": {}\n")[0].message.find("may use only") != std::string::npos);
    CHECK(errors_of(std::string("storage: { url: \"mysql://x\" }\n") + minimal)[0].message.find("sqlite:") !=
          std::string::npos);
    CHECK(errors_of(std::string("server: { listen: \"nowhere\" }\n") + minimal)[0].message.find("HOST:PORT") !=
          std::string::npos);
    CHECK(errors_of(std::string("server: { listen: \"myhost:8080\" }\n") + minimal)[0].message.find("IP address") !=
          std::string::npos);
    CHECK(errors_of(std::string("server: { listen: \"[::1]:8080\" }\n") + minimal).empty());
    CHECK(errors_of(std::string("server: { listen: \"localhost:8080\" }\n") + minimal).empty());
    auto route = errors_of("tenants:\n  demo:\n    routes:\n      - on: message.received\n");
    REQUIRE(route.size() == 1);
    CHECK(route[0].message.find("needs 'run") != std::string::npos);
    CHECK(errors_of("").at(0).message.find("empty") != std::string::npos);
    temp_config unreadable("x");
    CHECK_THROWS_AS(load_config("/nonexistent/switchboard.yaml"), config_error);
}

TEST_CASE("route filters: when maps event fields to a value or a list of values", "[config]") {
    temp_config f(std::string(minimal) +
                  "    routes:\n"
                  "      - on: message.received\n"
                  "        when: { channel: [messenger, instagram], contact.provider_id: \"42\" }\n"
                  "        run: [ templates.reply ]\n");
    auto cfg = load_config(f.path.string());
    REQUIRE(cfg.tenants[0].routes.size() == 1);
    auto& when = cfg.tenants[0].routes[0].when;
    REQUIRE(when.size() == 2);
    CHECK(when[0].field == "channel");
    CHECK(when[0].values == std::vector<std::string>{"messenger", "instagram"});
    CHECK(when[1].field == "contact.provider_id");
    CHECK(when[1].values == std::vector<std::string>{"42"});
    CHECK(when[0].mark.line == 7);

    auto errors = errors_of(std::string(minimal) +
                            "    routes:\n"
                            "      - on: message.received\n"
                            "        when: [channel]\n"
                            "        run: [ templates.reply ]\n"
                            "      - on: message.received\n"
                            "        when: { channel: [] }\n"
                            "        run: [ templates.reply ]\n");
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].message.find("'when' must map event fields") != std::string::npos);
    CHECK(errors[0].mark.line == 7);
    CHECK(errors[1].message.find("non-empty list") != std::string::npos);
    CHECK(errors[1].mark.line == 10);
}

TEST_CASE("route steps: stage parameters, first_of chains with budgets, plain stages", "[config]") {
    temp_config f("tenants:\n"
                  "  demo:\n"
                  "    routes:\n"
                  "      - on: message.received\n"
                  "        run:\n"
                  "          - first_of:\n"
                  "              - { stage: openai.reply, budget: 8s }\n"
                  "              - templates.reply\n"
                  "          - { stage: notify.send, with: { template: escalation, to: [a, b] } }\n"
                  "          - templates.reply\n");
    auto cfg = load_config(f.path.string());
    auto& run = cfg.tenants[0].routes[0].run;
    REQUIRE(run.size() == 3);
    CHECK(run[0].first_of);
    REQUIRE(run[0].tiers.size() == 2);
    CHECK(run[0].tiers[0].stage == "openai.reply");
    CHECK(run[0].tiers[0].budget_ms == 8'000);
    CHECK(run[0].tiers[1].stage == "templates.reply");
    CHECK(run[0].tiers[1].budget_ms == 0);
    CHECK_FALSE(run[1].first_of);
    CHECK(run[1].tiers[0].stage == "notify.send");
    CHECK(run[1].tiers[0].params_json == R"({"template":"escalation","to":["a","b"]})");
    CHECK(run[2].tiers[0].stage == "templates.reply");
    CHECK(run[2].tiers[0].params_json == "{}");
}

TEST_CASE("route steps: malformed first_of, with and budget are located", "[config]") {
    auto d = errors_of("tenants:\n"
                       "  demo:\n"
                       "    routes:\n"
                       "      - on: message.received\n"
                       "        run:\n"
                       "          - first_of: [ templates.reply ]\n"
                       "          - { stage: templates.reply, budget: 8s }\n"
                       "          - { stage: templates.reply, with: [1] }\n"
                       "          - { stage: templates.reply, budget: soon, wiht: {} }\n");
    REQUIRE(d.size() == 6);
    CHECK(d[0].message.find("'first_of' must list at least two stages") != std::string::npos);
    CHECK(d[0].mark.line == 6);
    CHECK(d[1].message == "'budget' applies only to a tier of 'first_of'");
    CHECK(d[2].message.find("'with' must map parameter names to values") != std::string::npos);
    CHECK(d[3].message.find("unknown key 'wiht' in a stage; did you mean 'with'?") != std::string::npos);
    CHECK(d[4].message == "'budget' applies only to a tier of 'first_of'");
    CHECK(d[5].message.find("'budget' must be a duration") != std::string::npos);
    CHECK(d[5].mark.line == 9);
}

TEST_CASE("plugin instances: `use:` runs a plugin twice; list and map settings become JSON", "[config]") {
    temp_config f("server:\n"
                  "  public_url: https://bot.example.com/\n"
                  "tenants:\n"
                  "  demo:\n"
                  "    plugins:\n"
                  "      telegram: { bot_token: a }\n"
                  "      staff-bot: { use: telegram, bot_token: b, keywords: [refund, 'manager'] }\n"
                  "      notify: { headers: { X-A: '1' } }\n");
    auto cfg = load_config(f.path.string());
    CHECK(cfg.server.public_url == "https://bot.example.com");
    auto& plugins = cfg.tenants[0].plugins;
    REQUIRE(plugins.size() == 3);
    CHECK(plugins[0].name == "telegram");
    CHECK(plugins[0].plugin == "telegram");
    CHECK(plugins[1].name == "staff-bot");
    CHECK(plugins[1].plugin == "telegram");
    REQUIRE(plugins[1].settings.size() == 2); // `use` is not a setting
    CHECK(plugins[1].settings[1].value == R"(["refund","manager"])");
    CHECK(plugins[1].settings[1].collection);
    CHECK(plugins[2].settings[0].value == R"({"X-A":"1"})");
    CHECK(cfg.tenants[0].find_plugin("staff-bot") == &plugins[1]);

    auto d = errors_of("server: { public_url: 'ftp://x' }\ntenants:\n  demo:\n    plugins:\n      Staff_Bot: { use: telegram }\n");
    REQUIRE(d.size() == 2);
    CHECK(d[0].message.find("'public_url' must be the http(s) URL providers call") != std::string::npos);
    CHECK(d[1].message.find("plugin instance name 'Staff_Bot'") != std::string::npos);
}

TEST_CASE("reply_debounce is a tenant duration of 0 to 10 s", "[config]") {
    temp_config ok("tenants:\n  demo:\n    reply_debounce: 2500ms\n    plugins:\n      templates: {}\n");
    CHECK(load_config(ok.path.string()).tenants[0].reply_debounce_ms == 2500);
    temp_config unset(minimal);
    CHECK(load_config(unset.path.string()).tenants[0].reply_debounce_ms == 0);
    auto d = errors_of("tenants:\n  demo:\n    reply_debounce: 30s\n    plugins:\n      templates: {}\n");
    REQUIRE(d.size() == 1);
    CHECK(d[0].message == "'reply_debounce' of tenant 'demo' must be between 0s and 10s");
    CHECK(d[0].mark.line == 3);
    auto typo = errors_of("tenants:\n  demo:\n    reply_debounse: 3s\n");
    REQUIRE_FALSE(typo.empty());
    CHECK(typo[0].message.find("did you mean 'reply_debounce'?") != std::string::npos);
}

TEST_CASE("a plugin setting's relative *_file path is relative to the config file's folder", "[config]") {
    temp_config f("tenants:\n  demo:\n    plugins:\n      templates:\n        catalog_file: products.csv\n"
                  "        templates_file: /etc/switchboard/replies.json\n        locale: en\n");
    auto cfg = load_config(f.path.string());
    const auto& settings = cfg.tenants[0].plugins[0].settings;
    CHECK(settings[0].value == (f.path.parent_path() / "products.csv").string());
    CHECK(settings[1].value == "/etc/switchboard/replies.json");
    CHECK(settings[2].value == "en");
}
