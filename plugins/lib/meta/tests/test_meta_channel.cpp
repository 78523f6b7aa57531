// The shared Meta channel instance (switchboard/meta/channel.hpp): settings, subscription
// handshake, refusal of unsigned or unconfigured webhooks, event emission and message.send,
// through an in-memory fake of the host services (meta_channel_fixture.hpp). Last, the built
// plugins are loaded through the C ABI when they are present.
#include "meta_channel_fixture.hpp"

#include <dlfcn.h>

#include <filesystem>

TEST_CASE("meta: settings are read with defaults and validated", "[meta][channel]") {
    channel_config c = read_config(full_settings(), messenger_profile);
    CHECK(c.account_id == "100200300400");
    CHECK(c.send_timeout_ms == 8000);
    CHECK(c.messaging_window_ms == standard_messaging_window_ms);

    sdk::settings empty;
    channel_config d = read_config(empty, instagram_profile);
    CHECK(d.graph_api_base == "https://graph.facebook.com/v21.0");
    CHECK(d.messaging_window_ms == 86400000);
    CHECK(d.send_timeout_ms == 10000);
    CHECK(d.account_id.empty());

    sdk::settings ig = full_settings("account_id", "17841400000000001");
    CHECK(read_config(ig, instagram_profile).account_id == "17841400000000001");
    CHECK(read_config(ig, messenger_profile).account_id.empty());  // Messenger reads page_id

    sdk::settings bad;
    bad.set("send_timeout", "ten seconds");
    CHECK_THROWS_AS(read_config(bad, messenger_profile), plugin_error);
    sdk::settings zero;
    zero.set("messaging_window", "0");
    try {
        read_config(zero, messenger_profile);
        FAIL("expected plugin_error(invalid)");
    } catch (const plugin_error& e) {
        CHECK(e.kind() == error_kind::invalid);
        CHECK_THAT(e.what(), Catch::Contains("messaging_window"));
    }
}

TEST_CASE("meta: an instance without secrets starts and names what is missing", "[meta][channel]") {
    fake_host host;
    meta_channel messenger(host.services(), sdk::settings{}, messenger_profile);
    CHECK(host.logged(SB_LOG_WARN,
                      "app_secret is not set (FACEBOOK_APP_SECRET): webhooks for this tenant will be refused"));
    CHECK(host.logged(SB_LOG_WARN, "verify_token is not set (MESSENGER_VERIFY_TOKEN)"));
    CHECK(host.logged(SB_LOG_WARN, "page_access_token is not set (FACEBOOK_PAGE_ACCESS_TOKEN)"));
    CHECK(messenger.account_ids().empty());

    fake_host ig_host;
    meta_channel instagram(ig_host.services(), sdk::settings{}, instagram_profile);
    CHECK(ig_host.logged(SB_LOG_WARN, "app_secret is not set (FACEBOOK_APP_SECRET)"));

    fake_host ok_host;
    meta_channel configured(ok_host.services(), full_settings(), messenger_profile);
    CHECK(ok_host.logs.empty());
    CHECK(configured.account_ids() == std::vector<std::string>{"100200300400"});

    SECTION("webhooks are answered 503 with a plain reason and an error line") {
        auto req = signed_post("/webhooks/messenger/demo", text_body);
        captured out = deliver(messenger, req);
        CHECK(out.responds == 1);
        CHECK(out.status == 503);
        CHECK(out.content_type == "text/plain");
        CHECK_THAT(out.body, Catch::Contains("app_secret"));
        CHECK(out.events.empty());
        CHECK(host.logged(SB_LOG_ERROR, "webhook refused with 503: app_secret is not set (FACEBOOK_APP_SECRET)"));
    }
    SECTION("the handshake is answered 403 with an error line") {
        fake_request get;
        get.method = "GET";
        get.path = "/webhooks/messenger/demo";
        get.query = "hub.mode=subscribe&hub.verify_token=&hub.challenge=42";
        captured out = deliver(messenger, get);
        CHECK(out.status == 403);
        CHECK(host.logged(SB_LOG_ERROR, "verify_token is not set (MESSENGER_VERIFY_TOKEN)"));
    }
    SECTION("sending fails for good, naming the setting") {
        try {
            messenger.execute(sdk::call(), send_command(host.now - 1000));
            FAIL("expected plugin_error(final)");
        } catch (const plugin_error& e) {
            CHECK(e.kind() == error_kind::final);
            CHECK_THAT(e.what(), Catch::Contains("page_access_token is not set (FACEBOOK_PAGE_ACCESS_TOKEN)"));
        }
        CHECK(host.calls.empty());
    }
}

TEST_CASE("meta: subscription handshake", "[meta][channel]") {
    fake_host host;
    meta_channel channel(host.services(), full_settings(), messenger_profile);
    fake_request get;
    get.method = "GET";
    get.path = "/webhooks/messenger/demo";

    SECTION("matching token: the challenge comes back as text/plain") {
        get.query = "hub.mode=subscribe&hub.verify_token=verify+me%20please&hub.challenge=1158201444";
        captured out = deliver(channel, get);
        CHECK(out.status == 200);
        CHECK(out.content_type == "text/plain");
        CHECK(out.body == "1158201444");
        CHECK(out.events.empty());
    }
    SECTION("wrong token") {
        get.query = "hub.mode=subscribe&hub.verify_token=verify+me&hub.challenge=1158201444";
        captured out = deliver(channel, get);
        CHECK(out.status == 403);
        CHECK(out.body.find("1158201444") == std::string::npos);
        CHECK(host.logged(SB_LOG_WARN, "does not match"));
    }
    SECTION("missing token") {
        get.query = "hub.mode=subscribe&hub.challenge=1158201444";
        CHECK(deliver(channel, get).status == 403);
    }
    SECTION("wrong mode") {
        get.query = "hub.mode=unsubscribe&hub.verify_token=verify+me+please&hub.challenge=1";
        CHECK(deliver(channel, get).status == 403);
        CHECK(host.logged(SB_LOG_WARN, "hub.mode"));
    }
    SECTION("no challenge") {
        get.query = "hub.mode=subscribe&hub.verify_token=verify+me+please";
        CHECK(deliver(channel, get).status == 400);
    }
    host.check_no_secret_logged();
}

TEST_CASE("meta: signed notifications are normalized and acknowledged", "[meta][channel]") {
    fake_host host;
    meta_channel channel(host.services(), full_settings(), messenger_profile);

    SECTION("tenant in the path: the other page's entry is reported") {
        auto req = signed_post("/webhooks/messenger/demo", text_body);
        captured out = deliver(channel, req);
        CHECK(out.responds == 1);
        CHECK(out.status == 200);
        CHECK(out.body == "EVENT_RECEIVED");
        REQUIRE(out.events.size() == 2);
        CHECK(out.events[0].at("type") == "message.received");
        CHECK(out.events[0].at("channel") == "messenger");
        CHECK(out.events[0].at("provider_message_id") == "m_1");
        CHECK(out.events[0].at("text") == "hello");
        CHECK(out.events[1].at("type") == "webhook.unhandled");
        CHECK(host.logged(SB_LOG_WARN, "entry for account 999888777666 is not this tenant's"));
        CHECK(host.metrics == std::vector<std::pair<std::string, double>>{{"webhook_events", 2}});
    }
    SECTION("host-routed (no tenant in the path): the other page's entry is left to its tenant") {
        auto req = signed_post("/webhooks/messenger", text_body);
        captured out = deliver(channel, req);
        CHECK(out.status == 200);
        REQUIRE(out.events.size() == 1);
        CHECK(out.events[0].at("provider_message_id") == "m_1");
    }
    SECTION("a signed body that is not JSON is stored as unhandled") {
        auto req = signed_post("/webhooks/messenger/demo", "hello=world");
        captured out = deliver(channel, req);
        CHECK(out.status == 200);
        REQUIRE(out.events.size() == 1);
        CHECK(out.events[0].at("type") == "webhook.unhandled");
        CHECK(out.events[0].at("raw") == "hello=world");
    }
    // The message text must not reach the log.
    for (auto& [level, line] : host.logs) CHECK(line.find("hello") == std::string::npos);
    host.check_no_secret_logged();
}

TEST_CASE("meta: unsigned or badly signed notifications are refused with 401", "[meta][channel]") {
    fake_host host;
    meta_channel channel(host.services(), full_settings(), messenger_profile);

    auto wrong = signed_post("/webhooks/messenger/demo", text_body, "another-secret");
    captured out = deliver(channel, wrong);
    CHECK(out.status == 401);
    CHECK(out.events.empty());
    CHECK(host.logged(SB_LOG_WARN, "X-Hub-Signature-256 is mismatch"));

    auto missing = signed_post("/webhooks/messenger/demo", text_body);
    missing.headers.pop_back();
    out = deliver(channel, missing);
    CHECK(out.status == 401);
    CHECK(out.events.empty());
    CHECK(host.logged(SB_LOG_WARN, "X-Hub-Signature-256 is missing"));

    auto malformed = signed_post("/webhooks/messenger/demo", text_body);
    malformed.headers.back().second = "sha1=abcdef";
    out = deliver(channel, malformed);
    CHECK(out.status == 401);
    CHECK(host.logged(SB_LOG_WARN, "X-Hub-Signature-256 is malformed"));

    // Tampering after signing: the signature no longer covers the bytes.
    auto tampered = signed_post("/webhooks/messenger/demo", text_body);
    tampered.body.replace(tampered.body.find("hello"), 5, "HELLO");
    out = deliver(channel, tampered);
    CHECK(out.status == 401);
    CHECK(out.events.empty());

    auto upper = signed_post("/webhooks/messenger/demo", text_body);
    for (auto& ch : upper.headers.back().second)
        if (ch >= 'a' && ch <= 'f') ch = static_cast<char>(ch - 'a' + 'A');
    upper.headers.back().second.replace(0, 7, "sha256=");
    CHECK(deliver(channel, upper).status == 200);

    fake_request put;
    put.method = "PUT";
    put.path = "/webhooks/messenger/demo";
    CHECK(deliver(channel, put).status == 405);
    host.check_no_secret_logged();
}

TEST_CASE("meta: Instagram instance takes instagram bodies only", "[meta][channel]") {
    fake_host host;
    meta_channel channel(host.services(), full_settings("account_id", "17841400000000001"), instagram_profile);
    const std::string ig =
        R"({"object":"instagram","entry":[{"id":"17841400000000001","time":1,"messaging":[)"
        R"({"sender":{"id":"6100000000000001"},"recipient":{"id":"17841400000000001"},"timestamp":2,)"
        R"("message":{"mid":"aWdf1","text":"hi"}}]}]})";
    auto req = signed_post("/webhooks/instagram/shop", ig);
    captured out = deliver(channel, req);
    REQUIRE(out.events.size() == 1);
    CHECK(out.events[0].at("type") == "message.received");
    CHECK(out.events[0].at("channel") == "instagram");

    auto fb = signed_post("/webhooks/instagram/shop", text_body);
    out = deliver(channel, fb);
    REQUIRE(out.events.size() == 1);
    CHECK(out.events[0].at("type") == "webhook.unhandled");
}

TEST_CASE("meta: message.send through the host's HTTP client", "[meta][channel]") {
    fake_host host;
    meta_channel channel(host.services(), full_settings(), messenger_profile);

    SECTION("success") {
        host.reply_body = R"({"recipient_id":"24000000000000001","message_id":"m_out_1"})";
        json::object result = channel.execute(sdk::call(), send_command(host.now - 3600 * 1000));
        CHECK(result.at("provider_message_id") == "m_out_1");
        CHECK(result.at("recipient_id") == "24000000000000001");
        REQUIRE(host.calls.size() == 1);
        auto& call = host.calls[0];
        CHECK(call.method == "POST");
        CHECK(call.url == "https://graph.facebook.com/v21.0/me/messages");
        CHECK(call.timeout_ms == 8000);
        CHECK(call.headers == std::vector<std::pair<std::string, std::string>>{
                                  {"Content-Type", "application/json"},
                                  {"Authorization", std::string("Bearer ") + token_value}});
        json::value body = json::parse(call.body);
        CHECK(body.at("message").at("metadata") == "7");
        CHECK(body.at("messaging_type") == "RESPONSE");
    }
    SECTION("outside the 24-hour window nothing is sent") {
        try {
            channel.execute(sdk::call(), send_command(host.now - 25 * 3600 * 1000LL));
            FAIL("expected plugin_error(final)");
        } catch (const plugin_error& e) {
            CHECK(e.kind() == error_kind::final);
            CHECK(e.code() == "messaging_window");
            CHECK_THAT(e.what(), Catch::Contains("last wrote 25 h ago"));
        }
        CHECK(host.calls.empty());
    }
    SECTION("a Graph rate limit is retryable") {
        host.reply_status = 400;
        host.reply_body = R"({"error":{"message":"Calls to this api have exceeded the rate limit.","type":"OAuthException","code":613}})";
        try {
            channel.execute(sdk::call(), send_command(host.now));
            FAIL("expected plugin_error(retryable)");
        } catch (const plugin_error& e) {
            CHECK(e.kind() == error_kind::retryable);
            CHECK(e.code() == "613");
        }
    }
    SECTION("a transport failure stays retryable and never quotes the token") {
        host.transport = SB_ERR_RETRYABLE;
        host.transport_message = std::string("timeout talking to graph with Bearer ") + token_value;
        try {
            channel.execute(sdk::call(), send_command(host.now));
            FAIL("expected plugin_error(retryable)");
        } catch (const plugin_error& e) {
            CHECK(e.kind() == error_kind::retryable);
            CHECK(std::string(e.what()).find(token_value) == std::string::npos);
            CHECK_THAT(e.what(), Catch::Contains("[redacted]"));
        }
    }
    SECTION("other commands are refused") {
        json::object other;
        other["type"] = "payment.invoice.create";
        CHECK_THROWS_AS(channel.execute(sdk::call(), other), plugin_error);
        CHECK(host.calls.empty());
    }
    SECTION("Instagram sends no metadata") {
        fake_host ig_host;
        ig_host.reply_body = R"({"recipient_id":"6100000000000001","message_id":"aWdfout"})";
        meta_channel ig(ig_host.services(), full_settings("account_id", "17841400000000001"), instagram_profile);
        CHECK(ig.execute(sdk::call(), send_command(ig_host.now)).at("provider_message_id") == "aWdfout");
        REQUIRE(ig_host.calls.size() == 1);
        CHECK_FALSE(json::parse(ig_host.calls[0].body).at("message").as_object().contains("metadata"));
    }
    host.check_no_secret_logged();
}

namespace {

/// Loads a built plugin and returns its descriptor, or nullptr when it is not built here.
const sb_plugin_descriptor* load_plugin(const std::string& name) {
#ifdef SWITCHBOARD_PLUGIN_DIR
    std::filesystem::path p = std::filesystem::path(SWITCHBOARD_PLUGIN_DIR) / ("switchboard-" + name + ".so");
    if (!std::filesystem::exists(p)) return nullptr;
    // Kept loaded on purpose: plugins are never unloaded (see DESIGN.md §4).
    void* handle = dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL);
    INFO((handle ? "" : dlerror()));
    REQUIRE(handle);
    void* sym = dlsym(handle, SB_PLUGIN_EXPORT_NAME);
    REQUIRE(sym);
    // BOOST_DLL_ALIAS exports a variable holding the entry point's address.
    auto entry = *reinterpret_cast<sb_plugin_entry_fn*>(sym);
    return entry();
#else
    (void)name;
    return nullptr;
#endif
}

}  // namespace

TEST_CASE("meta: the built plugins expose their settings and work through the C ABI", "[meta][channel][abi]") {
    for (auto [name, account] : {std::pair<std::string, std::string>{"messenger", "page_id"},
                                 std::pair<std::string, std::string>{"instagram", "account_id"}}) {
        INFO("plugin " << name);
        const sb_plugin_descriptor* d = load_plugin(name);
        if (!d) {
            WARN("switchboard-" << name << ".so is not built next to the tests; skipping the ABI check");
            continue;
        }
        CHECK(d->struct_size == sizeof(sb_plugin_descriptor));
        CHECK(d->abi_major == SB_ABI_MAJOR);
        CHECK(std::string(d->name) == name);
        CHECK((d->capabilities & SB_CAP_CHANNEL) != 0);
        REQUIRE(d->settings_count == 8);
        std::vector<std::string> names;
        for (size_t i = 0; i < d->settings_count; ++i) {
            const sb_setting_spec& s = d->settings[i];
            names.emplace_back(s.name);
            CHECK((s.flags & SB_SETTING_REQUIRED) == 0);
            bool secret = names.back() == "app_secret" || names.back() == "verify_token" ||
                          names.back() == "page_access_token";
            CHECK(((s.flags & SB_SETTING_SECRET) != 0) == secret);
            if (names.back() == "graph_api_base") CHECK(std::string(s.default_value) == "https://graph.facebook.com/v21.0");
            if (names.back() == "messaging_window") {
                CHECK(s.type == SB_SETTING_DURATION);
                CHECK(std::string(s.default_value) == "86400000");
            }
            if (names.back() == "send_timeout") CHECK(std::string(s.default_value) == "10000");
        }
        CHECK(names == std::vector<std::string>{"app_secret", "verify_token", "page_access_token", account,
                                                "graph_api_base", "messaging_window", "send_timeout", "rate_limit"});
        // ABI 2.1: the host enforces the page's send rate through the declared rate setting.
        REQUIRE(switchboard::sdk::rate_limit_count(*d) == 1);
        CHECK(std::string(switchboard::sdk::rate_limit_at(*d, 0).setting) == "rate_limit");
        CHECK(switchboard::sdk::rate_limit_at(*d, 0).scope == SB_RATE_ACCOUNT);

        // route_keys is static: it reads the entry ids of the unverified body.
        std::string body = std::string(R"({"object":")") + (name == "messenger" ? "page" : "instagram") +
                           R"(","entry":[{"id":"4242","time":1,"messaging":[{"sender":{"id":"7"},)"
                           R"("recipient":{"id":"4242"},"timestamp":2,"message":{"mid":"m_abi","text":"x"}}]}]})";
        auto req = signed_post("/webhooks/" + name + "/demo", body);
        std::vector<std::string> keys;
        sb_sink key_sink{sizeof(sb_sink), &keys, [](void* c, sb_str s) {
                             static_cast<std::vector<std::string>*>(c)->emplace_back(sdk::view(s));
                             return SB_OK;
                         }};
        sb_error err = sdk::make_error();
        REQUIRE(d->route_keys);
        CHECK(d->route_keys(&req.get(), &key_sink, &err) == SB_OK);
        CHECK(keys == std::vector<std::string>{"4242"});

        // A tenant instance created through create(), with the account set to 4242.
        fake_host host;
        std::vector<std::pair<std::string, std::string>> values{
            {"app_secret", app_secret_value}, {"verify_token", verify_token_value},
            {"page_access_token", token_value}, {account, "4242"}};
        std::vector<sb_setting_value> c_values;
        for (auto& [k, v] : values) c_values.push_back({sdk::borrow(k), sdk::borrow(v)});
        sb_instance_config cfg{};
        cfg.struct_size = sizeof cfg;
        cfg.tenant = sdk::borrow("demo");
        cfg.instance = sdk::borrow(name);
        cfg.settings = c_values.data();
        cfg.settings_count = c_values.size();
        void* inst = nullptr;
        REQUIRE(d->create(&host.api, &cfg, &inst, &err) == SB_OK);

        std::vector<std::string> ids;
        sb_sink id_sink{sizeof(sb_sink), &ids, key_sink.put};
        CHECK(d->account_ids(inst, &id_sink, &err) == SB_OK);
        CHECK(ids == std::vector<std::string>{"4242"});

        captured out;
        CHECK(d->handle_webhook(inst, &req.get(), &out.sink, &err) == SB_OK);
        CHECK(out.status == 200);
        REQUIRE(out.events.size() == 1);
        CHECK(out.events[0].at("channel") == json::value(name));
        CHECK(out.events[0].at("provider_message_id") == "m_abi");

        // Outside the window the command fails for good, through the ABI's error struct.
        std::string cmd = json::serialize(send_command(host.now - 48LL * 3600 * 1000));
        std::vector<std::string> results;
        sb_sink result_sink{sizeof(sb_sink), &results, key_sink.put};
        sb_call_context context{};
        context.struct_size = sizeof context;
        CHECK(d->execute(inst, &context, sdk::borrow(cmd), &result_sink, &err) == SB_ERR_FINAL);
        CHECK(std::string(err.code) == "messaging_window");
        CHECK(results.empty());

        host.reply_body = R"({"recipient_id":"24000000000000001","message_id":"m_abi_out"})";
        cmd = json::serialize(send_command(host.now));
        CHECK(d->execute(inst, &context, sdk::borrow(cmd), &result_sink, &err) == SB_OK);
        REQUIRE(results.size() == 1);
        CHECK(json::parse(results[0]).at("provider_message_id") == "m_abi_out");
        d->destroy(inst);
        host.check_no_secret_logged();
    }
}
