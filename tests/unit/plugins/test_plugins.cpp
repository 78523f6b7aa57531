#include <switchboard/core/config/config.hpp>
#include <switchboard/core/plugins/catalog.hpp>
#include <switchboard/core/plugins/inspect.hpp>
#include <switchboard/core/plugins/instance.hpp>
#include <switchboard/core/plugins/settings.hpp>

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <filesystem>
#include <algorithm>
#include <fstream>
#include <random>

using namespace switchboard::core;

namespace {

const std::string fixtures = SWITCHBOARD_TEST_PLUGIN_DIR;
const std::string plugins = SWITCHBOARD_PLUGIN_DIR;

std::string refusal(const std::string& file) {
    try {
        load_plugin(file);
    } catch (const plugin_load_error& e) {
        return e.what();
    }
    return "";
}

config config_from(const std::string& text) {
    std::random_device rd;
    auto path = std::filesystem::temp_directory_path() / ("sb-plugins-" + std::to_string(rd()) + ".yaml");
    std::ofstream(path) << text;
    auto cfg = load_config(path.string());
    std::filesystem::remove(path);
    return cfg;
}

class null_services : public host_services {
public:
    int64_t now_ms() override { return 1'700'000'000'000; }
    http_result http(const outbound_http&) override { return {SB_ERR_RETRYABLE, 0, {}, {}, "no network in unit tests"}; }
    store* storage() override { return nullptr; }
    void metric_add(const std::string&, const std::string&, const std::string&, double) override {}
};

}  // namespace

TEST_CASE("a compatible plugin loads and describes itself", "[plugins]") {
    auto p = load_plugin(fixtures + "/switchboard-fixture.so");
    CHECK(p->name() == "fixture");
    CHECK(p->descriptor().abi_major == SB_ABI_MAJOR);
    CHECK(p->capability_names() == "channel");
}

TEST_CASE("incompatible plugins are refused with a message naming both versions", "[plugins]") {
    CHECK(refusal(fixtures + "/switchboard-stale.so") ==
          "built against SDK ABI 0.9 but this host implements ABI 2.2: rebuild it against SDK 2.2");
    CHECK(refusal(fixtures + "/switchboard-future.so") ==
          "built against SDK ABI 2.99, newer than this host's ABI 2.2: upgrade switchboard, or rebuild it against SDK 2.2");
    CHECK(refusal(fixtures + "/switchboard-abi1.so") ==
          "built against SDK ABI 1.0 but this host implements ABI 2.2: rebuild it against SDK 2.2 (the 2.0 boundary "
          "is described in writing-plugins.md)");
    CHECK(refusal(fixtures + "/switchboard-noexport.so").find("does not export 'switchboard_plugin'") !=
          std::string::npos);
    CHECK(refusal(fixtures + "/switchboard-garbage.so").rfind("not a loadable shared object", 0) == 0);
    CHECK(refusal(fixtures + "/does-not-exist.so").rfind("not a loadable shared object", 0) == 0);
    CHECK(refusal(fixtures + "/switchboard-garbage.so") ==
          "not a loadable shared object: " + fixtures + "/switchboard-garbage.so: file too short");
    CHECK(refusal(fixtures + "/switchboard-throwing.so") == "the plugin's entry point threw: static initialisation failed");
}

TEST_CASE("scanning a directory loads the good and lists the refused", "[plugins]") {
    auto catalog = scan_plugins({fixtures, "/nonexistent/dir"});
    REQUIRE(catalog.plugins.size() == 3);
    CHECK(catalog.find("fixture"));
    CHECK(catalog.find("faulty"));
    CHECK(catalog.find("services"));
    CHECK(catalog.refused.size() == 6); // stale, future, abi1, noexport, garbage, throwing
    CHECK(catalog.find("stale") == nullptr);
}

TEST_CASE("tenant settings are validated against the declared schema", "[plugins]") {
    auto catalog = scan_plugins({plugins, fixtures});
    REQUIRE(catalog.find("messenger"));
    auto cfg = config_from(
        "tenants:\n"
        "  demo:\n"
        "    plugins:\n"
        "      messenger:\n"
        "        app_secrt: \"very-secret-value\"\n"
        "        messaging_window: soon\n"
        "      stale: {}\n"
        "      templats: {}\n"
        "    routes:\n"
        "      - on: message.received\n"
        "        run: [ templates.reply, messenger.nothing, reply ]\n"
        "      - on: message.recieved\n"
        "        run: [ messenger.nothing ]\n"
        "      - on: shop.order_paid\n"
        "        run: []\n");
    auto diags = validate_tenants(cfg, catalog);
    std::vector<std::string> messages;
    for (auto& d : diags) messages.push_back(d.to_string());
    REQUIRE(diags.size() == 9);
    CHECK(diags[0].message == "plugin 'messenger' has no setting 'app_secrt'; did you mean 'app_secret'?");
    CHECK(diags[0].mark.line == 5);
    CHECK(diags[1].message.find("'messaging_window' of plugin 'messenger' must be a duration") != std::string::npos);
    CHECK(diags[2].message.find("plugin 'stale', which was not found") != std::string::npos);
    CHECK(diags[2].message.find("rebuild it against SDK 2.2") != std::string::npos);
    CHECK(diags[3].message.find("did you mean 'templates'?") != std::string::npos);
    CHECK(diags[4].message.find("needs plugin 'templates' enabled") != std::string::npos);
    CHECK(diags[5].message.find("has no stage 'nothing'") != std::string::npos);
    CHECK(diags[6].message.find("plugin.stage") != std::string::npos);
    CHECK(diags[7].message == "route of tenant 'demo' is on unknown event type 'message.recieved'; did you mean "
                              "'message.received'?");
    CHECK(diags[8].message.find("has no stage 'nothing'") != std::string::npos); // a plugin's own event type is fine
    for (auto& m : messages) CHECK(m.find("very-secret-value") == std::string::npos);
}

TEST_CASE("effective settings apply defaults and convert durations to ms", "[plugins]") {
    auto catalog = scan_plugins({plugins});
    auto cfg = config_from("tenants:\n  demo:\n    plugins:\n      messenger:\n        messaging_window: 2h\n");
    auto settings = effective_settings(*catalog.find("messenger"), cfg.tenants[0].plugins[0]);
    auto get = [&](const std::string& k) {
        for (auto& [n, v] : settings)
            if (n == k) return v;
        return std::string("<unset>");
    };
    CHECK(get("messaging_window") == "7200000");
    CHECK(get("graph_api_base") == "https://graph.facebook.com/v21.0");
}

TEST_CASE("instances redact secrets and report plugin errors without throwing", "[plugins]") {
    auto catalog = scan_plugins({plugins});
    null_services services;
    plugin_instance inst(catalog.find("messenger"), "demo", "messenger",
                         {{"app_secret", "super-secret-app-key"}, {"page_id", "42"}, {"page_access_token", "EAAG-token-123"}},
                         services);
    CHECK(inst.redact("key super-secret-app-key and EAAG-token-123") == "key *** and ***");
    CHECK(inst.account_ids() == std::vector<std::string>{"42"});
    auto out = inst.execute("{\"type\":\"message.send\",\"recipient\":{\"provider_id\":\"1\"},\"text\":\"hi\"}");
    CHECK(out.status == SB_ERR_RETRYABLE);
    CHECK(out.message.find("no network") != std::string::npos);
    auto bad = inst.execute("not json");
    CHECK(bad.status != SB_OK);
}

TEST_CASE("secrets can be read from <name>_file settings", "[plugins]") {
    auto catalog = scan_plugins({plugins});
    std::random_device rd;
    auto secret = std::filesystem::temp_directory_path() / ("sb-secret-" + std::to_string(rd()));
    std::ofstream(secret) << "s3cr3t-from-file\n";
    auto cfg = config_from("tenants:\n  demo:\n    plugins:\n      messenger:\n        app_secret_file: " +
                           secret.string() + "\n      templates:\n        templates_file: /nonexistent.json\n");
    CHECK(validate_tenants(cfg, catalog).empty());
    auto settings = effective_settings(*catalog.find("messenger"), cfg.tenants[0].plugins[0]);
    CHECK(std::find(settings.begin(), settings.end(), std::pair<std::string, std::string>{"app_secret", "s3cr3t-from-file"}) !=
          settings.end());
    // templates_file is the templates plugin's own setting: it reaches the plugin as a path.
    auto t = effective_settings(*catalog.find("templates"), cfg.tenants[0].plugins[1]);
    CHECK(std::find(t.begin(), t.end(), std::pair<std::string, std::string>{"templates_file", "/nonexistent.json"}) != t.end());
    std::filesystem::remove(secret);

    auto missing = config_from("tenants:\n  demo:\n    plugins:\n      messenger:\n        app_secret_file: /nonexistent/secret\n");
    auto diags = validate_tenants(missing, catalog);
    REQUIRE(diags.size() == 1);
    CHECK(diags[0].message.find("cannot read file '/nonexistent/secret'") != std::string::npos);
    CHECK(diags[0].mark.line == 5);
}

TEST_CASE("plugins are inspected in a child process", "[plugins]") {
    auto self = std::string(SWITCHBOARD_BINARY);
    auto good = inspect_plugin(self, plugins + "/switchboard-templates.so");
    REQUIRE(good.ok);
    auto d = boost::json::parse(good.json).as_object();
    CHECK(d.at("name") == "templates");
    CHECK(d.at("abi") == "2.2");
    CHECK(d.at("events") == boost::json::array{"conversation.escalated", "lead.scored", "lead.temperature_changed"});
    CHECK(d.at("settings").as_array()[0].at("type") == "enum");
    CHECK(d.at("settings").as_array()[0].at("choices") == boost::json::array{"en", "mn"});
    CHECK(d.at("stages") == boost::json::array{"reply", "score", "handoff"});
    auto stale = inspect_plugin(self, fixtures + "/switchboard-stale.so");
    CHECK_FALSE(stale.ok);
    CHECK(stale.error == "built against SDK ABI 0.9 but this host implements ABI 2.2: rebuild it against SDK 2.2");
    auto missing = inspect_plugin("/nonexistent/switchboard", fixtures + "/switchboard-fixture.so");
    CHECK_FALSE(missing.ok);
    CHECK(missing.error.find("cannot start") != std::string::npos);
}
