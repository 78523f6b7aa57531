// The built switchboard-templates.so, through the C ABI only, as the host loads it: registration
// (name, capabilities, stages, declared settings) and one reply through create/run_stage/destroy.
#include <switchboard/abi.h>
#include <switchboard/sdk/compat.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <cstring>
#include <dlfcn.h>
#include <filesystem>
#include <string>
#include <vector>

#ifdef SWITCHBOARD_PLUGIN_DIR

namespace {

struct collected {
    std::vector<std::string> items;
};

sb_status collect(void* ctx, sb_str item) {
    static_cast<collected*>(ctx)->items.emplace_back(item.data, item.size);
    return SB_OK;
}

/// An ABI 2.0 instance config for tenant "demo".
sb_instance_config demo_config(const sb_setting_value* values, size_t count) {
    sb_instance_config c{};
    c.struct_size = sizeof c;
    c.tenant = {"demo", 4};
    c.instance = {"templates", 9};
    c.settings = values;
    c.settings_count = count;
    return c;
}

sb_str s(const char* text) { return sb_str{text, std::strlen(text)}; }

const sb_plugin_descriptor* load_templates_plugin() {
    const std::string path = std::string(SWITCHBOARD_PLUGIN_DIR) + "/switchboard-templates.so";
    INFO(path);
    REQUIRE(std::filesystem::exists(path));
    // Kept resident, as the host does: plugins are never dlclose'd.
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    INFO((handle ? "" : dlerror()));
    REQUIRE(handle != nullptr);
    // Boost.DLL exports the alias as a variable holding the entry function's address.
    void* alias = dlsym(handle, SB_PLUGIN_EXPORT_NAME);
    REQUIRE(alias != nullptr);
    auto entry = reinterpret_cast<sb_plugin_entry_fn>(*static_cast<void* const*>(alias));
    REQUIRE(entry != nullptr);
    return entry();
}

}  // namespace

TEST_CASE("the templates plugin describes itself through the C ABI", "[templates]") {
    const sb_plugin_descriptor* d = load_templates_plugin();
    REQUIRE(d != nullptr);
    CHECK(d->struct_size == sizeof(sb_plugin_descriptor));
    CHECK(d->abi_major == SB_ABI_MAJOR);
    CHECK(d->abi_minor == SB_ABI_MINOR);
    CHECK(std::string(d->name) == "templates");
    CHECK(d->capabilities == (SB_CAP_AI | SB_CAP_STAGE));
    REQUIRE(d->stages_count == 3);
    CHECK(std::string(d->stages[0]) == "reply");
    CHECK(std::string(d->stages[1]) == "score");
    CHECK(std::string(d->stages[2]) == "handoff");

    struct expected_setting {
        const char* name;
        uint32_t type;
        const char* default_value;
    };
    const expected_setting expected[] = {
        {"locale", SB_SETTING_ENUM, "en"},
        {"detect_language", SB_SETTING_BOOL, "true"},
        {"business_name", SB_SETTING_STRING, "our shop"},
        {"templates_file", SB_SETTING_STRING, nullptr},
        {"templates", SB_SETTING_STRING, nullptr},
        {"escalation_keywords", SB_SETTING_LIST, nullptr},
        {"catalog_file", SB_SETTING_STRING, nullptr},
        {"auto_escalate_after", SB_SETTING_INT, "0"},
    };
    REQUIRE(d->settings_count == std::size(expected));
    for (size_t i = 0; i < d->settings_count; ++i) {
        const sb_setting_spec& spec = switchboard::sdk::setting_spec_at(*d, i);
        INFO(spec.name);
        CHECK(std::string(spec.name) == expected[i].name);
        CHECK(spec.type == expected[i].type);
        CHECK(spec.flags == 0);  // nothing required, nothing secret
        if (expected[i].default_value)
            CHECK(std::string(spec.default_value ? spec.default_value : "<null>") == expected[i].default_value);
        else
            CHECK(spec.default_value == nullptr);
        CHECK(std::strlen(spec.description) > 10);
    }
    CHECK(d->create != nullptr);
    CHECK(d->run_stage != nullptr);
}

TEST_CASE("the templates plugin replies through create, run_stage and destroy", "[templates]") {
    const sb_plugin_descriptor* d = load_templates_plugin();
    REQUIRE(d != nullptr);

    const sb_setting_value values[] = {{s("locale"), s("mn")},
                                       {s("detect_language"), s("true")},
                                       {s("business_name"), s("Номин")}};
    const sb_instance_config config = demo_config(values, std::size(values));
    sb_host_api api{};
    api.struct_size = sizeof api;
    void* instance = nullptr;
    sb_error error = switchboard::sdk::make_error();
    REQUIRE(d->create(&api, &config, &instance, &error) == SB_OK);
    REQUIRE(instance != nullptr);

    const char* event = R"({"type":"message.received","channel":"messenger","provider_message_id":"m_1",
        "contact":{"provider_id":"psid-1","name":"Сараа"},"text":"Сайн байна уу, оператор",
        "conversation":{"id":7,"escalated":false}})";
    collected out;
    sb_sink sink{sizeof(sb_sink), &out, collect};
    sb_call_context context{};
    context.struct_size = sizeof context;
    REQUIRE(d->run_stage(instance, &context, s("reply"), s(event), &sink, &error) == SB_OK);
    REQUIRE(out.items.size() == 2);
    auto escalated = boost::json::parse(out.items[0]).as_object();
    CHECK(escalated.at("type") == "conversation.escalated");
    CHECK(escalated.at("conversation_id") == 7);
    auto send = boost::json::parse(out.items[1]).as_object();
    CHECK(send.at("type") == "message.send");
    CHECK(send.at("intent") == "handoff");
    CHECK(send.at("locale") == "mn");
    CHECK_THAT(std::string(send.at("text").as_string()), Catch::Contains("Сараа"));

    out.items.clear();
    CHECK(d->run_stage(instance, &context, s("other"), s(event), &sink, &error) == SB_ERR_FINAL);
    CHECK_THAT(std::string(error.message), Catch::Contains("templates.reply"));
    CHECK(d->run_stage(instance, &context, s("reply"), s("not json"), &sink, &error) != SB_OK);
    CHECK(out.items.empty());
    d->destroy(instance);
}

TEST_CASE("the templates plugin refuses an unsupported locale at create", "[templates]") {
    const sb_plugin_descriptor* d = load_templates_plugin();
    REQUIRE(d != nullptr);
    const sb_setting_value values[] = {{s("locale"), s("ru")}};
    const sb_instance_config config = demo_config(values, std::size(values));
    sb_host_api api{};
    api.struct_size = sizeof api;
    void* instance = nullptr;
    sb_error error = switchboard::sdk::make_error();
    CHECK(d->create(&api, &config, &instance, &error) == SB_ERR_INVALID);
    CHECK(std::string(error.message) == "locale 'ru' is not supported: use en or mn");
    CHECK(instance == nullptr);
}

#endif  // SWITCHBOARD_PLUGIN_DIR
