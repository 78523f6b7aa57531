// The SDK's fake host and the real host agree: the same plugin scenario (tests/plugins/
// services_plugin.cpp, every host service from one stage) runs through both, and what the plugin
// saw is compared field by field.
#include "../support/pipeline_fixture.hpp"

#include <switchboard/sdk/testing.hpp>

#include <catch2/catch.hpp>

using namespace switchboard::core;
using switchboard::core::testing::pipeline_fixture;
namespace json = boost::json;
namespace sbt = switchboard::sdk::testing;

namespace {

/// The text of the one row a query on the fixture's SQLite file returns.
std::string query_text(pipeline_fixture& p, const char* sql) {
    sqlite3* conn = nullptr;
    REQUIRE(sqlite3_open((p.dir / "test.db").string().c_str(), &conn) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(conn, sql, -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    std::string text(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    sqlite3_finalize(st);
    sqlite3_close(conn);
    return text;
}

}  // namespace

TEST_CASE("the fake host and the real host give a plugin the same services", "[plugins][sdk][agreement]") {
    const std::string plugin_file = std::string(SWITCHBOARD_TEST_PLUGIN_DIR) + "/switchboard-services.so";

    // The real host: a conversation with one exchange, then the stage through a plugin_instance.
    pipeline_fixture p;
    p.customer_says("PSID", "hello", "m_1");
    p.drain();
    const int64_t conversation = p.query_int("SELECT id FROM conversations");
    const std::string reply = query_text(p, "SELECT text FROM messages WHERE direction = 'outbound'");
    auto services = load_plugin(plugin_file);
    p.catalog.plugins.push_back(services);
    p.instances.add(std::make_unique<plugin_instance>(services, "demo", "helper", std::vector<std::pair<std::string, std::string>>{},
                                                      p.services));
    auto* real = p.instances.find("demo", "helper");
    REQUIRE(real);
    json::object event{{"type", "message.received"}, {"conversation_id", conversation},
                       {"contact", {{"provider_id", "PSID"}}}};
    auto real_out = real->run_stage("exercise", json::serialize(event));
    INFO(real_out.message);
    REQUIRE(real_out.status == SB_OK);
    REQUIRE(real_out.outputs.size() == 1);
    auto real_report = json::parse(real_out.outputs[0]).as_object();

    // The fake host: the same conversation seeded by hand, the same stage.
    auto fake = sbt::fake_host::load(plugin_file);
    fake.set_now_ms(p.now);
    fake.add_history("demo", conversation, "in", "hello");
    fake.add_history("demo", conversation, "out", reply);
    auto inst = fake.create_instance("demo", "helper");
    auto fake_out = inst.run_stage("exercise", event);
    REQUIRE(fake_out.ok());
    auto fake_report = fake_out.output();

    CHECK(real_report.at("kv_get") == "1");
    CHECK(real_report.at("kv_after_delete").is_null());
    CHECK(real_report.at("kv_increment") == 5);
    CHECK(real_report.at("kv_increment_once") == json::array{10, true, 10, false, 15});
    CHECK(real_report.at("tenant_scope") == "chat-9");
    CHECK(real_report.at("instance_scope").is_null());
    CHECK(real_report.at("contact_before") == "known"); // the customer's PSID from the webhook
    CHECK(real_report.at("contact") ==
          json::parse(R"({"name":"Saraa","phone":"","email":"","tags":["vip"],"attributes":{"city":"UB"},"score":0.5})"));
    CHECK(real_report.at("history") ==
          json::array{json::object{{"direction", "in"}, {"text", "hello"}}, json::object{{"direction", "out"}, {"text", reply}}});
    CHECK(real_report.at("instance") == "helper");
    CHECK(real->redact("token is runtime-token-123456") == "token is ***");
    CHECK(fake.registered_secrets() == std::vector<std::string>{"runtime-token-123456"});

    // Field by field, except whether the contact existed before (the fake host has no webhook
    // that created it).
    for (auto& [key, value] : real_report) {
        if (key == "contact_before") continue;
        INFO(std::string(key));
        CHECK(fake_report.at(key) == value);
    }
    CHECK(fake_report.at("contact_before") == "unknown");
}
