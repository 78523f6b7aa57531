// The SDK's fake host (switchboard/sdk/testing.hpp): descriptor checks with the host's refusal
// messages, settings validation, webhook/execute/run_stage through the C ABI, and the scripted
// host services (HTTP, clock, key/value state, logs, metrics). First against a plugin built into
// this binary, then against the real built plugins and the fixture plugins.
#include <switchboard/sdk/testing.hpp>

#include <switchboard/core/plugins/catalog.hpp>
#include <switchboard/core/plugins/inspect.hpp>
#include <switchboard/core/plugins/instance.hpp>
#include <switchboard/core/plugins/settings.hpp>
#include <switchboard/meta/signature.hpp>
#include <switchboard/sdk/plugin.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace json = boost::json;
namespace fs = std::filesystem;
namespace sdk = switchboard::sdk;
namespace sbt = switchboard::sdk::testing;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

// --- a plugin compiled into the test binary, reached through its descriptor -------------------

using sdk::setting_type;

/// Uses every host service so the fake host's side of each can be checked.
class probe_instance : public sdk::instance {
public:
    probe_instance(const sdk::host& host, const sdk::settings& s) : host_(host), settings_(s) {
        if (s.integer("limit") <= 0) throw sdk::plugin_error(sdk::error_kind::invalid, "limit must be positive");
        host_.info("probe created with token " + s.string("token"));  // a leak the fake host must show
    }

    void handle_webhook(const sdk::request& r, sdk::webhook_result& out) override {
        if (r.path() == "/silent") return;
        if (r.path() == "/throw") throw sdk::plugin_error(sdk::error_kind::retryable, "database down", "E1");
        if (r.path() == "/bad-event") {
            out.emit({{"no", "type"}});
            out.respond(200);
            return;
        }
        host_.kv_put("last", r.body(), settings_.integer("ttl"));
        host_.metric("hits", 2);
        host_.warn("got " + std::to_string(r.body().size()) + " bytes");
        out.emit({{"type", "probe.seen"},
                  {"query", r.raw_query()},
                  {"signature", r.header("x-probe").value_or("none")},
                  {"body", r.body()}});
        out.emit({{"type", "probe.other"}, {"channel", "elsewhere"}, {"tenant", "forged"}});
        out.respond(202, "seen", "text/x-probe");
    }

    json::object execute(const sdk::call&, const json::object& command) override {
        sdk::http_call call;
        call.method = "GET";
        call.url = std::string(command.at("url").as_string());
        call.headers = {{"X-Attempt", "1"}};
        call.timeout_ms = 1234;
        auto response = host_.http(call);
        json::object out{{"status", response.status}, {"body", response.body}};
        for (auto& [k, v] : response.headers) out["header:" + k] = v;
        return out;
    }

    void run_stage(const sdk::call&, std::string_view stage, const json::object& event, sdk::emitter& out) override {
        if (stage == "settings") {
            json::object seen{{"type", "probe.settings"}};
            for (const char* n : {"token", "limit", "enabled", "ttl", "note"})
                if (settings_.has(n)) seen[n] = settings_.string(n);
            out.emit(seen);
        } else if (stage == "state") {
            auto v = host_.kv_get("last");
            out.emit({{"type", "probe.state"}, {"value", v ? json::value(*v) : json::value(nullptr)}, {"now", host_.now_ms()}});
        } else {
            out.emit({{"type", "probe.partial"}});
            out.emit({{"no", "type"}});
        }
    }

private:
    sdk::host host_;
    sdk::settings settings_;
};

const sdk::plugin_info probe_info{
    .name = "probe",
    .version = "1.2.3",
    .description = "fake-host test probe",
    .capabilities = SB_CAP_CHANNEL | SB_CAP_STAGE,
    .settings = {{.name = "token", .required = true, .secret = true, .description = "API token"},
                 {.name = "limit", .type = setting_type::integer, .default_value = "3", .description = "how many"},
                 {.name = "enabled", .type = setting_type::boolean, .default_value = "true", .description = "on or off"},
                 {.name = "ttl", .type = setting_type::duration, .default_value = "1m", .description = "how long state lives"},
                 {.name = "note", .description = "free text"},
                 {.name = "pin", .type = setting_type::integer, .secret = true, .description = "secret number"}},
    .stages = {"settings", "state", "broken"},
    .commands = {"fetch", "x"},
};

const sb_plugin_descriptor* probe_descriptor() {
    static const sb_plugin_descriptor d = sdk::detail::make_descriptor<probe_instance>(probe_info);
    return &d;
}

std::string refusal_of(const sb_plugin_descriptor& d) {
    try {
        sbt::fake_host host(&d);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "<accepted>";
}

std::string load_refusal(const std::string& file) {
    try {
        sbt::fake_host::load(file);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "<accepted>";
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    REQUIRE(in);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const std::string plugin_dir = SWITCHBOARD_PLUGIN_DIR;
const std::string fixture_dir = SWITCHBOARD_TEST_PLUGIN_DIR;
const fs::path meta_fixtures = fs::path(SWITCHBOARD_SOURCE_DIR) / "tests" / "fixtures" / "meta";

}  // namespace

// --- descriptor checks --------------------------------------------------------------------------

TEST_CASE("fake host: a descriptor is checked with the host's wording", "[sdk]") {
    const sb_plugin_descriptor good = *probe_descriptor();
    CHECK(refusal_of(good) == "<accepted>");

    auto older = good;
    older.abi_major = SB_ABI_MAJOR - 1;
    older.abi_minor = 7;
    CHECK(refusal_of(older) == "built against SDK ABI " + std::to_string(SB_ABI_MAJOR - 1) + ".7 but this host implements ABI " +
                                   std::to_string(SB_ABI_MAJOR) + "." + std::to_string(SB_ABI_MINOR) +
                                   ": rebuild it against SDK " + std::to_string(SB_ABI_MAJOR) + "." +
                                   std::to_string(SB_ABI_MINOR));
    auto newer = good;
    newer.abi_minor = SB_ABI_MINOR + 1;
    CHECK_THAT(refusal_of(newer), Contains(", newer than this host's ABI") && Contains("upgrade switchboard"));
    auto truncated = good;
    truncated.struct_size = offsetof(sb_plugin_descriptor, run_stage);
    CHECK_THAT(refusal_of(truncated), StartsWith("descriptor is smaller than ABI"));
    auto corrupt = good;
    corrupt.struct_size = 4;
    CHECK(refusal_of(corrupt) == "corrupt descriptor (struct_size 4)");
    auto badly_named = good;
    badly_named.name = "Probe!";
    CHECK_THAT(refusal_of(badly_named), StartsWith("invalid plugin name"));
    auto no_create = good;
    no_create.create = nullptr;
    CHECK(refusal_of(no_create) == "descriptor lacks create/destroy");
    CHECK_THROWS_WITH(sbt::fake_host(nullptr), "the plugin's entry point returned no descriptor");
}

// --- settings -----------------------------------------------------------------------------------

TEST_CASE("fake host: settings get defaults, ms durations and declared order", "[sdk]") {
    sbt::fake_host host(probe_descriptor());
    auto probe = host.create("demo", {{"ttl", "2h"}, {"token", "tok-123456789"}, {"enabled", ""}});
    auto r = probe.run_stage("settings", json::object{{"type", "message.received"}});
    REQUIRE(r.ok());
    CHECK(r.output() == json::parse(R"({"type":"probe.settings","token":"tok-123456789","limit":"3","enabled":"true",
                                        "ttl":"7200000","tenant":"demo","channel":"probe"})"));

    auto plain_ms = host.create("demo", {{"token", "t"}, {"ttl", "250"}, {"note", "x"}});
    CHECK(plain_ms.run_stage("settings", json::object{}).output().at("ttl") == "250");
}

TEST_CASE("fake host: bad settings are refused before create, with every problem named", "[sdk]") {
    sbt::fake_host host(probe_descriptor());
    std::string message;
    try {
        host.create("acme", {{"limit", "many"}, {"enabled", "yes"}, {"ttl", "soon"}, {"tokn", "hunter2-secret"}});
    } catch (const std::runtime_error& e) {
        message = e.what();
    }
    CHECK_THAT(message, Contains("plugin 'probe' has no setting 'tokn' (it declares: token, limit, enabled, ttl, note, pin)"));
    CHECK_THAT(message, Contains("plugin 'probe' of tenant 'acme' requires setting 'token' (API token)"));
    CHECK_THAT(message, Contains("setting 'limit' of plugin 'probe' must be a whole number, got 'many'"));
    CHECK_THAT(message, Contains("setting 'enabled' of plugin 'probe' must be true or false, got 'yes'"));
    CHECK_THAT(message, Contains("setting 'ttl' of plugin 'probe' must be a duration such as 500ms, 10s, 5m or 24h"));

    // A secret's value is never quoted back.
    CHECK_THROWS_WITH(host.create("acme", {{"token", "t"}, {"pin", "hunter2"}}),
                      "setting 'pin' of plugin 'probe' must be a whole number, got (secret value hidden)");
    CHECK_THROWS_WITH(host.create("acme", {{"token", ""}}), Contains("requires setting 'token'"));
    // create() failing: the plugin's own message, as the host words it.
    CHECK_THROWS_WITH(host.create("acme", {{"token", "t"}, {"limit", "0"}}),
                      "plugin 'probe' refused the settings of tenant 'acme': limit must be positive");
}

// --- webhooks -----------------------------------------------------------------------------------

TEST_CASE("fake host: webhooks return the response and host-completed events", "[sdk]") {
    sbt::fake_host host(probe_descriptor());
    auto probe = host.create("demo", {{"token", "tok-abcdefgh"}, {"ttl", "10s"}});

    auto r = probe.webhook({.method = "POST",
                            .path = "/webhooks/probe/demo",
                            .query = "a=1&b=%20",
                            .headers = {{"X-Probe", "sig"}},
                            .body = std::string("raw\0bytes", 9)});
    CHECK(r.status == 202);
    CHECK(r.content_type == "text/x-probe");
    CHECK(r.body == "seen");
    REQUIRE(r.events.size() == 2);
    CHECK(r.events[0].at("type") == "probe.seen");
    CHECK(r.events[0].at("query") == "a=1&b=%20");
    CHECK(r.events[0].at("signature") == "sig");
    CHECK(r.events[0].at("body").as_string().size() == 9);
    CHECK(r.events[0].at("tenant") == "demo");
    CHECK(r.events[0].at("channel") == "probe");
    CHECK(r.events[1].at("tenant") == "demo");        // a plugin cannot emit for another tenant
    CHECK(r.events[1].at("channel") == "elsewhere");  // but may name the channel

    auto silent = probe.webhook({.path = "/silent"});
    CHECK(silent.status == 200);
    CHECK(silent.body.empty());
    CHECK(silent.events.empty());

    try {
        probe.webhook({.path = "/throw"});
        FAIL("a failing handler must throw");
    } catch (const sbt::plugin_call_error& e) {
        CHECK(e.error().status == SB_ERR_RETRYABLE);
        CHECK(e.error().code == "E1");
        CHECK(e.error().message == "database down");
        CHECK(std::string(e.what()) == "handle_webhook failed (SB_ERR_RETRYABLE): database down");
    }
    // The host refuses the event at emit() and reports why, before the handler's own failure.
    CHECK_THROWS_WITH(probe.webhook({.path = "/bad-event"}), Contains("invalid event: emitted object has no \"type\""));
}

// --- execute and outbound HTTP ------------------------------------------------------------------

TEST_CASE("fake host: outbound HTTP is recorded and answered from the script", "[sdk]") {
    sbt::fake_host host(probe_descriptor());
    auto probe = host.create("demo", {{"token", "t"}});
    auto fetch = [&](const std::string& url) { return probe.execute(json::object{{"type", "fetch"}, {"url", url}}); };

    // Nothing scripted: a retryable transport failure that says what to do.
    auto unscripted = fetch("https://api.example.test/a");
    CHECK(unscripted.status() == SB_ERR_RETRYABLE);
    CHECK_THAT(unscripted.error->message, Contains("no reply scripted for GET https://api.example.test/a"));

    host.push_http_reply({.status = 201, .headers = {{"X-Id", "7"}}, .body = "first"});
    host.push_http_reply(sbt::http_reply::failure("connection refused"));
    host.push_http_reply(sbt::http_reply::failure("bad URL", SB_ERR_INVALID));
    host.set_http_responder([](const sbt::outbound_request& req) {
        return sbt::http_reply{.status = 299, .body = "from responder for " + req.url};
    });

    auto first = fetch("https://api.example.test/b");
    REQUIRE(first.ok());
    CHECK(first.output() == json::parse(R"({"status":201,"body":"first","header:X-Id":"7"})"));
    auto refused = fetch("https://api.example.test/c");
    CHECK(refused.status() == SB_ERR_RETRYABLE);
    CHECK(refused.error->message == "connection refused");
    CHECK(fetch("notaurl").status() == SB_ERR_INVALID);
    auto answered = fetch("https://api.example.test/d");
    CHECK(answered.output().at("body") == "from responder for https://api.example.test/d");
    CHECK(answered.output().at("status") == 299);

    auto sent = host.http_requests();
    REQUIRE(sent.size() == 5);
    CHECK(sent[1].tenant == "demo");
    CHECK(sent[1].method == "GET");
    CHECK(sent[1].url == "https://api.example.test/b");
    CHECK(sent[1].header("x-attempt") == std::optional<std::string>("1"));
    CHECK_FALSE(sent[1].header("X-Missing"));
    CHECK(sent[1].timeout_ms == 1234);

    host.clear_records();
    CHECK(host.http_requests().empty());
    CHECK(host.logs().empty());
}

TEST_CASE("fake host: execute reports malformed commands and missing entry points", "[sdk]") {
    sbt::fake_host host(probe_descriptor());
    auto probe = host.create("demo", {{"token", "t"}});
    auto bad = probe.execute(std::string_view("[1,2"));
    CHECK(bad.status() == SB_ERR_INVALID);  // the SDK layer's parse error
    CHECK_THROWS_AS(bad.output(), std::logic_error);

    sb_plugin_descriptor no_calls = *probe_descriptor();
    no_calls.execute = nullptr;
    no_calls.run_stage = nullptr;
    no_calls.handle_webhook = nullptr;
    sbt::fake_host bare(&no_calls);
    auto inst = bare.create("demo", {{"token", "t"}});
    CHECK(inst.execute(json::object{{"type", "x"}}).status() == SB_ERR_UNSUPPORTED);
    CHECK(inst.run_stage("settings", json::object{}).status() == SB_ERR_UNSUPPORTED);
    auto wh = inst.webhook({});
    CHECK(wh.status == 404);
    CHECK(wh.body == "this plugin receives no webhooks");
}

// --- stages, clock, state, logs, metrics --------------------------------------------------------

TEST_CASE("fake host: run_stage checks the stage name and the emitted values", "[sdk]") {
    sbt::fake_host host(probe_descriptor());
    auto probe = host.create("demo", {{"token", "t"}});
    CHECK_THROWS_WITH(probe.run_stage("nope", json::object{}),
                      "plugin 'probe' declares no stage 'nope' (declared: settings, state, broken)");
    auto broken = probe.run_stage("broken", json::object{});
    CHECK(broken.status() == SB_ERR_FINAL);
    CHECK(broken.outputs.empty());  // nothing of a failed stage reaches the dispatcher
    CHECK_THAT(broken.error->message, Contains("invalid output: emitted object has no \"type\""));
    std::ostringstream printed;
    printed << broken;
    CHECK_THAT(printed.str(), StartsWith("SB_ERR_FINAL"));
}

TEST_CASE("fake host: key/value state is per tenant and expires on the fake clock", "[sdk]") {
    sbt::fake_host host(probe_descriptor());
    CHECK(host.now_ms() == sbt::fake_host::default_now_ms);
    host.set_now_ms(1'000'000);
    auto demo = host.create("demo", {{"token", "t"}, {"ttl", "10s"}});
    auto acme = host.create("acme", {{"token", "t"}, {"ttl", "10s"}});
    auto state_of = [](sbt::tenant_instance& inst) { return inst.run_stage("state", json::object{}).output(); };

    demo.webhook({.path = "/webhooks/probe/demo", .body = "kept"});
    CHECK(host.kv_get("demo", "last") == std::optional<std::string>("kept"));
    CHECK_FALSE(host.kv_get("acme", "last"));
    CHECK(state_of(demo).at("value") == "kept");
    CHECK(state_of(acme).at("value").is_null());

    host.advance_ms(9'999);
    CHECK(state_of(demo).at("value") == "kept");
    CHECK(state_of(demo).at("now") == 1'009'999);
    host.advance_ms(1);
    CHECK(state_of(demo).at("value").is_null());
    CHECK_FALSE(host.kv_get("demo", "last"));

    host.kv_put("acme", "last", "seeded");  // no TTL: forever
    host.advance_ms(365LL * 24 * 3600 * 1000);
    CHECK(state_of(acme).at("value") == "seeded");
    host.kv_put("acme", "last", "short", 5);
    host.advance_ms(5);
    CHECK_FALSE(host.kv_get("acme", "last"));
}

TEST_CASE("fake host: logs and metrics are recorded per tenant, verbatim", "[sdk]") {
    sbt::fake_host host(probe_descriptor());
    auto demo = host.create("demo", {{"token", "tok-visible-in-log"}});
    auto acme = host.create("acme", {{"token", "t"}});
    demo.webhook({.path = "/p", .body = "12345"});
    demo.webhook({.path = "/p", .body = "1"});
    acme.webhook({.path = "/p", .body = ""});

    // The fake host does not redact: a test sees that this plugin leaks its token.
    CHECK(host.logged("tok-visible-in-log"));
    CHECK(host.logged("got 5 bytes", SB_LOG_WARN));
    CHECK_FALSE(host.logged("got 5 bytes", SB_LOG_ERROR));
    auto logs = host.logs();
    REQUIRE(logs.size() == 5);
    CHECK(logs[0].tenant == "demo");
    CHECK(logs[0].level == SB_LOG_INFO);
    CHECK(logs[4].tenant == "acme");
    CHECK(logs[4].text == "got 0 bytes");

    CHECK(host.metric_total("hits") == 6);
    CHECK(host.metric_total("hits", "demo") == 4);
    CHECK(host.metric_total("misses") == 0);
    REQUIRE(host.metrics().size() == 3);
    CHECK(host.metrics()[2].tenant == "acme");
}

TEST_CASE("fake host: durations parse like the host's config", "[sdk]") {
    CHECK(sbt::parse_duration_ms("500ms") == 500);
    CHECK(sbt::parse_duration_ms("30s") == 30'000);
    CHECK(sbt::parse_duration_ms("5m") == 300'000);
    CHECK(sbt::parse_duration_ms("5min") == 300'000);
    CHECK(sbt::parse_duration_ms("2h") == 7'200'000);
    CHECK(sbt::parse_duration_ms("42") == 42);
    CHECK_FALSE(sbt::parse_duration_ms("1d"));
    CHECK_FALSE(sbt::parse_duration_ms("-5s"));
    CHECK_FALSE(sbt::parse_duration_ms(""));
    CHECK_FALSE(sbt::parse_duration_ms("s"));
}

// --- the built fixture plugins ------------------------------------------------------------------

TEST_CASE("fake host: the fixture plugins are refused or loaded as by the host", "[sdk]") {
    CHECK(load_refusal(fixture_dir + "/switchboard-stale.so") ==
          "built against SDK ABI 0.9 but this host implements ABI 2.2: rebuild it against SDK 2.2");
    CHECK(load_refusal(fixture_dir + "/switchboard-future.so") ==
          "built against SDK ABI 2.99, newer than this host's ABI 2.2: upgrade switchboard, or rebuild it against SDK 2.2");
    CHECK(load_refusal(fixture_dir + "/switchboard-noexport.so") ==
          "not a Switchboard plugin: it does not export 'switchboard_plugin' (declare it with SWITCHBOARD_PLUGIN "
          "from <switchboard/sdk/plugin.hpp>)");
    CHECK_THAT(load_refusal(fixture_dir + "/switchboard-abi1.so"),
               StartsWith("built against SDK ABI 1.0 but this host implements ABI 2.2: rebuild it against SDK 2.2"));
    // Same words as the host itself (only the loader's own detail after "shared object:" differs).
    for (const char* name : {"stale", "future", "noexport", "abi1"}) {
        const std::string file = fixture_dir + "/switchboard-" + name + ".so";
        std::string host_says;
        try {
            switchboard::core::load_plugin(file);
        } catch (const switchboard::core::plugin_load_error& e) {
            host_says = e.what();
        }
        CHECK(load_refusal(file) == host_says);
    }
    CHECK_THAT(load_refusal(fixture_dir + "/switchboard-garbage.so"), StartsWith("not a loadable shared object: "));
    CHECK_THAT(load_refusal(fixture_dir + "/does-not-exist.so"), StartsWith("not a loadable shared object: "));

    sbt::fake_host host = sbt::fake_host::load(fixture_dir + "/switchboard-fixture.so");
    CHECK(host.name() == "fixture");
    CHECK(host.descriptor().capabilities == SB_CAP_CHANNEL);
    CHECK_THROWS_WITH(host.create("demo", {{"anything", "x"}}),
                      "plugin 'fixture' has no setting 'anything' (it declares: none)");
    auto fixture = host.create("demo");
    // The SDK's defaults: no webhooks, no commands, no stages.
    CHECK_THROWS_WITH(fixture.webhook({.path = "/webhooks/fixture/demo"}),
                      "handle_webhook failed (SB_ERR_FINAL): this plugin does not receive webhooks");
    CHECK_THROWS_AS(fixture.execute(json::object{{"type", "message.send"}}), std::invalid_argument); // not declared
    CHECK_THROWS_AS(fixture.run_stage("reply", json::object{}), std::invalid_argument);
    CHECK(fixture.account_ids().empty());
}

// --- the built Messenger plugin -----------------------------------------------------------------

TEST_CASE("fake host: Messenger verifies a signed webhook and sends with a canned Graph response", "[sdk]") {
    const std::string app_secret = "messenger-app-secret-4242";
    const std::string token = "EAAGfaketoken0123456789";
    sbt::fake_host host = sbt::fake_host::load(plugin_dir + "/switchboard-messenger.so");
    CHECK(host.name() == "messenger");
    auto messenger = host.create("demo", {{"app_secret", app_secret},
                                          {"page_access_token", token},
                                          {"page_id", "100200300400"},
                                          {"send_timeout", "3s"}});
    CHECK(messenger.account_ids() == std::vector<std::string>{"100200300400"});

    const std::string body = slurp(meta_fixtures / "messenger-batch.json");
    const std::string signature = "sha256=" + switchboard::meta::hmac_sha256_hex(app_secret, body);
    sbt::inbound_request post{.method = "POST",
                              .path = "/webhooks/messenger/demo",
                              .headers = {{"Content-Type", "application/json"}, {"X-Hub-Signature-256", signature}},
                              .body = body};
    CHECK(host.route_keys(post) == std::vector<std::string>{"100200300400", "999888777666"});

    auto accepted = messenger.webhook(post);
    CHECK(accepted.status == 200);
    CHECK(accepted.body == "EVENT_RECEIVED");
    REQUIRE(accepted.events.size() == 7);
    CHECK(accepted.events[0].at("type") == "message.received");
    CHECK(accepted.events[0].at("provider_message_id") == "m_batch_text_1");
    CHECK(accepted.events[0].at("tenant") == "demo");
    CHECK(accepted.events[0].at("channel") == "messenger");
    CHECK(host.metric_total("webhook_events", "demo") == 7);

    post.body.back() = ' ';  // altered on the way: the signature no longer matches
    auto refused = messenger.webhook(post);
    CHECK(refused.status == 401);
    CHECK(refused.events.empty());
    CHECK(host.logged("X-Hub-Signature-256 is", SB_LOG_WARN));

    host.push_http_reply({.status = 200, .body = slurp(meta_fixtures / "graph-send-ok.json")});
    json::object command{{"type", "message.send"},
                         {"channel", "messenger"},
                         {"recipient", {{"provider_id", "24000000000000001"}}},
                         {"text", "Сайн байна уу"},
                         {"last_inbound_ms", host.now_ms()},
                         {"job_id", "42"}};
    auto sent = messenger.execute(command, {.idempotency_key = "k-42"});
    REQUIRE(sent.ok());
    CHECK(sent.output().at("provider_message_id") == "m_sent_AbCdEf0123456789");
    auto requests = host.http_requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "POST");
    CHECK(requests[0].url == "https://graph.facebook.com/v21.0/me/messages");
    CHECK(requests[0].header("Authorization") == "Bearer " + token);
    CHECK(requests[0].timeout_ms == 3000);
    CHECK(requests[0].json().at("recipient").at("id") == "24000000000000001");
    CHECK(requests[0].json().at("message").at("metadata") == "42"); // the job id: echoes prove which job delivered

    host.push_http_reply({.status = 400, .body = slurp(meta_fixtures / "graph-error-rate-limit-613.json")});
    auto limited = messenger.execute(command);
    CHECK(limited.status() == SB_ERR_RETRYABLE);
    CHECK(limited.error->code == "613");

    // The 24-hour window runs on the host clock.
    host.advance_ms(24LL * 3600 * 1000 + 1);
    auto late = messenger.execute(command);
    CHECK(late.status() == SB_ERR_FINAL);
    CHECK(late.error->code == "messaging_window");
    CHECK(host.http_requests().size() == 2);  // refused before any request
    CHECK_FALSE(host.logged(token));
}

// --- the built templates plugin -----------------------------------------------------------------

TEST_CASE("fake host: the templates plugin replies through run_stage", "[sdk]") {
    sbt::fake_host host = sbt::fake_host::load(plugin_dir + "/switchboard-templates.so");
    CHECK_THROWS_WITH(host.create("demo", {{"locale", "ru"}}),
                      "setting 'locale' of plugin 'templates' must be one of: en, mn, got 'ru'");
    CHECK_THROWS_WITH(host.create("demo", {{"detect_language", "maybe"}}),
                      Contains("setting 'detect_language' of plugin 'templates' must be true or false, got 'maybe'"));

    auto templates = host.create("demo", {{"locale", "mn"}, {"business_name", "Номин"}});
    json::object received = json::parse(R"({"type":"message.received","tenant":"demo","channel":"messenger",
        "provider_message_id":"m_1","contact":{"provider_id":"psid-1","name":"Сараа"},
        "text":"Сайн байна уу, оператор","conversation":{"id":7,"escalated":false}})")
                                .as_object();
    auto r = templates.run_stage("reply", received);
    REQUIRE(r.ok());
    REQUIRE(r.outputs.size() == 2);
    CHECK(r.outputs[0].at("type") == "conversation.escalated");
    CHECK(r.outputs[0].at("conversation_id") == 7);
    CHECK(r.outputs[1].at("type") == "message.send");
    CHECK(r.outputs[1].at("tenant") == "demo");
    CHECK(r.outputs[1].at("recipient").at("provider_id") == "psid-1");
    CHECK_THAT(std::string(r.outputs[1].at("text").as_string()), Contains("Сараа"));

    auto garbage = templates.run_stage("reply", std::string_view("not json"));
    CHECK_FALSE(garbage.ok());
    CHECK(garbage.outputs.empty());
}
