// fuzz_meta_webhook — the Meta webhook endpoint on arbitrary request bytes.
//
// Untrusted input reaches plugins/meta-common through POST bodies (before and after the
// X-Hub-Signature-256 check), the signature header itself, and the query string of the GET
// subscription handshake. The input is used as each of these in turn, for both channel profiles,
// and the documented promises are checked: parse_webhook never throws and every event names its
// type and channel; a correctly signed body is always accepted; route_keys() is entry_ids() for
// POST and nothing otherwise.
#include "fuzz_check.hpp"

#include <switchboard/sdk/text.hpp>

#include <switchboard/meta/channel.hpp>
#include <switchboard/meta/profile.hpp>
#include <switchboard/meta/signature.hpp>
#include <switchboard/meta/webhook.hpp>

#include <switchboard/sdk/events.hpp>
#include <switchboard/sdk/plugin.hpp>

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace text = switchboard::sdk::text;

namespace {

namespace meta = switchboard::meta;
namespace sdk = switchboard::sdk;
namespace json = boost::json;

// Fixed test secrets: the fuzzer signs bodies itself so that they get past the signature check.
constexpr std::string_view app_secret = "fuzz-app-secret";
constexpr std::string_view verify_token = "fuzz-verify-token";
// The account id of tests/fixtures/meta/messenger-batch.json's first entry, so seeds exercise both
// the own-entry and the foreign-entry branches.
constexpr std::string_view own_account = "100200300400";
// A body that never matches a fuzzed signature header (except by breaking HMAC-SHA256).
constexpr std::string_view fixed_body = R"({"object":"page","entry":[]})";

void check_events(const std::vector<json::object>& events, std::string_view channel) {
    for (const auto& ev : events) {
        const auto* type = ev.if_contains("type");
        const auto* ch = ev.if_contains("channel");
        FUZZ_CHECK(type && type->is_string() && !type->get_string().empty());
        FUZZ_CHECK(ch && ch->is_string() && ch->get_string() == channel);
        if (type->get_string() == sdk::events::webhook_unhandled) {
            const auto* reason = ev.if_contains("reason");
            FUZZ_CHECK(reason && reason->is_string());
            FUZZ_CHECK(ev.contains("raw"));
        }
        // The host stores events as JSON text: serializing must work for whatever was kept as "raw".
        (void)json::serialize(ev);
    }
}

sb_http_request make_request(std::string_view method, std::string_view path, std::string_view query,
                             const std::vector<sb_header>& headers, std::string_view body) {
    sb_http_request r{};
    r.struct_size = sizeof r;
    r.method = sdk::borrow(method);
    r.path = sdk::borrow(path);
    r.query = sdk::borrow(query);
    r.headers = headers.empty() ? nullptr : headers.data();
    r.header_count = headers.size();
    r.body = sdk::borrow(body);
    return r;
}

void fuzz_profile(const meta::channel_profile& profile, std::string_view input) {
    // The parser directly, in every ownership mode.
    for (std::string_view own : {std::string_view(), own_account}) {
        for (bool in_path : {true, false}) {
            meta::parse_options opts;
            opts.channel = profile.channel;
            opts.object = profile.object;
            opts.own_account_id = own;
            opts.tenant_in_path = in_path;
            auto events = meta::parse_webhook(input, opts);
            check_events(events, profile.channel);

            // The parser repairs damaged text first (a stray byte, a lone surrogate escape).
            boost::system::error_code ec;
            const auto repaired = text::repaired_json_text(input);
            json::value parsed = json::parse(repaired ? std::string_view(*repaired) : input, ec);
            const bool not_an_envelope = ec || !parsed.is_object() || !parsed.get_object().contains("entry") ||
                                         !parsed.get_object().at("entry").is_array();
            if (not_an_envelope) {
                FUZZ_CHECK(events.size() == 1);
                FUZZ_CHECK(events.front().at("type").as_string() == sdk::events::webhook_unhandled);
            }
        }
    }

    // The endpoint with a correctly signed body: always accepted, with parse_webhook's events.
    meta::channel_config config;
    config.app_secret = std::string(app_secret);
    config.verify_token = std::string(verify_token);
    const std::string signature = "sha256=" + meta::hmac_sha256_hex(app_secret, input);
    std::vector<sb_header> signed_headers{{sdk::borrow(meta::signature_header), sdk::borrow(signature)}};
    const std::string tenant_path = "/webhooks/" + std::string(profile.channel) + "/demo";
    const std::string plugin_path = "/webhooks/" + std::string(profile.channel);
    for (std::string_view own : {std::string_view(), own_account}) {
        config.account_id = std::string(own);
        for (const std::string& path : {tenant_path, plugin_path}) {
            sb_http_request r = make_request("POST", path, {}, signed_headers, input);
            auto outcome = meta::handle_webhook_request(sdk::request(r), config, profile);
            FUZZ_CHECK(outcome.status == 200);
            check_events(outcome.events, profile.channel);
        }
    }

    // The input as the signature header over a fixed body: parsed, never accepted.
    std::vector<sb_header> fuzzed_headers{{sdk::borrow("x-hub-signature-256"), sdk::borrow(input)}};
    sb_http_request forged = make_request("POST", tenant_path, {}, fuzzed_headers, fixed_body);
    auto refused = meta::handle_webhook_request(sdk::request(forged), config, profile);
    FUZZ_CHECK(refused.status == 401);
    FUZZ_CHECK(refused.events.empty());

    // The input as the query string of the subscription handshake.
    sb_http_request handshake = make_request("GET", tenant_path, input, {}, {});
    auto answered = meta::handle_webhook_request(sdk::request(handshake), config, profile);
    FUZZ_CHECK(answered.status == 200 || answered.status == 400 || answered.status == 403);
    FUZZ_CHECK(answered.events.empty());
    if (answered.status == 200) {
        auto token = sdk::request(handshake).query_param("hub.verify_token");
        FUZZ_CHECK(token && *token == verify_token);
    }

    // Routing by unverified bodies.
    sb_http_request post = make_request("POST", plugin_path, {}, {}, input);
    sb_http_request get = make_request("GET", plugin_path, {}, {}, input);
    auto ids = meta::entry_ids(input);
    FUZZ_CHECK(meta::route_keys(sdk::request(post)) == ids);
    FUZZ_CHECK(meta::route_keys(sdk::request(get)).empty());
    for (const auto& id : ids) FUZZ_CHECK(!id.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    fuzz_profile(meta::messenger_profile, input);
    fuzz_profile(meta::instagram_profile, input);

    // The signature header parser on its own, plus the promises around it.
    auto status = meta::verify_signature(input, app_secret, fixed_body);
    FUZZ_CHECK(status != meta::signature_status::valid);
    FUZZ_CHECK(!meta::to_string(status).empty());
    const std::string hex = meta::hmac_sha256_hex(app_secret, input);
    FUZZ_CHECK(hex.size() == 64);
    FUZZ_CHECK(meta::verify_signature("sha256=" + hex, app_secret, input) == meta::signature_status::valid);
    std::string upper = hex;
    for (char& c : upper)
        if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    FUZZ_CHECK(meta::verify_signature("sha256=" + upper, app_secret, input) == meta::signature_status::valid);
    FUZZ_CHECK(meta::verify_signature(std::nullopt, app_secret, input) == meta::signature_status::missing);
    FUZZ_CHECK(meta::secrets_equal(input, input));
    FUZZ_CHECK(meta::secrets_equal(input, verify_token) == (input == verify_token));

    (void)meta::path_names_tenant(input, meta::messenger_profile.channel);
    return 0;
}
