// Test fixture shared by the Meta channel tests: an in-memory fake of the host services that
// records logs, metrics and outbound requests and answers HTTP from a script, plus signed requests,
// settings and commands as the channel receives them.
#pragma once

#include <switchboard/meta/channel.hpp>

#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace json = boost::json;
namespace sdk = switchboard::sdk;
using namespace switchboard::meta;
using sdk::error_kind;
using sdk::plugin_error;

namespace {

constexpr const char* app_secret_value = "app-secret-0123";
constexpr const char* verify_token_value = "verify me please";
constexpr const char* token_value = "EAAGpagetoken987";

/// In-memory host services: records logs, metrics and outbound requests; answers HTTP from a script.
struct fake_host {
    std::vector<std::pair<int, std::string>> logs;
    std::vector<std::pair<std::string, double>> metrics;
    int64_t now = 1700000000000;

    struct recorded_call {
        std::string method, url, body;
        std::vector<std::pair<std::string, std::string>> headers;
        uint32_t timeout_ms = 0;
    };
    std::vector<recorded_call> calls;
    sb_status transport = SB_OK;
    std::string transport_message;
    int reply_status = 200;
    std::string reply_body;
    /// When set, answers every request instead of reply_status / reply_body; a status of 0
    /// makes the transport fail (retryable) with the body as its message.
    std::function<std::pair<int, std::string>(const recorded_call&)> responder;

    sb_host_api api{};

    fake_host() {
        api.struct_size = sizeof(sb_host_api);
        api.ctx = this;
        api.log = [](void* c, int32_t level, sb_str m) {
            static_cast<fake_host*>(c)->logs.emplace_back(level, std::string(sdk::view(m)));
        };
        api.now_ms = [](void* c) { return static_cast<fake_host*>(c)->now; };
        api.http_request = [](void* c, const sb_http_client_request* r, const sb_http_client_response_sink* sink,
                              sb_error* err) -> sb_status {
            auto* self = static_cast<fake_host*>(c);
            recorded_call call{std::string(sdk::view(r->method)), std::string(sdk::view(r->url)),
                               std::string(sdk::view(r->body)), {}, r->timeout_ms};
            for (size_t i = 0; i < r->header_count; ++i)
                call.headers.emplace_back(std::string(sdk::view(r->headers[i].name)),
                                          std::string(sdk::view(r->headers[i].value)));
            self->calls.push_back(std::move(call));
            if (self->transport != SB_OK) {
                sdk::fill_error(err, "", self->transport_message);
                return self->transport;
            }
            if (self->responder) {
                auto [status, body] = self->responder(self->calls.back());
                if (status == 0) {
                    sdk::fill_error(err, "", body);
                    return SB_ERR_RETRYABLE;
                }
                sb_http_client_response response{sizeof(sb_http_client_response), status, nullptr, 0, sdk::borrow(body)};
                sink->on_response(sink->ctx, &response);
                return SB_OK;
            }
            sb_http_client_response response{sizeof(sb_http_client_response), self->reply_status, nullptr, 0,
                                             sdk::borrow(self->reply_body)};
            sink->on_response(sink->ctx, &response);
            return SB_OK;
        };
        api.metric_add = [](void* c, sb_str name, double v) {
            static_cast<fake_host*>(c)->metrics.emplace_back(std::string(sdk::view(name)), v);
        };
    }
    sdk::host services() const { return sdk::host(&api); }

    bool logged(int level, std::string_view fragment) const {
        for (auto& [l, m] : logs)
            if (l == level && m.find(fragment) != std::string::npos) return true;
        return false;
    }
    /// No log line may ever carry a secret.
    void check_no_secret_logged() const {
        for (auto& [l, m] : logs) {
            INFO(m);
            CHECK(m.find(app_secret_value) == std::string::npos);
            CHECK(m.find(verify_token_value) == std::string::npos);
            CHECK(m.find(token_value) == std::string::npos);
        }
    }
};

/// An inbound request whose storage outlives the sb_http_request pointing into it.
struct fake_request {
    std::string method, path, query, body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::vector<sb_header> c_headers;
    sb_http_request c{};

    const sb_http_request& get() {
        c_headers.clear();
        c.struct_size = sizeof c;
        for (auto& [k, v] : headers) c_headers.push_back({sdk::borrow(k), sdk::borrow(v)});
        c.method = sdk::borrow(method);
        c.path = sdk::borrow(path);
        c.query = sdk::borrow(query);
        c.headers = c_headers.data();
        c.header_count = c_headers.size();
        c.body = sdk::borrow(body);
        return c;
    }
};

[[maybe_unused]] fake_request signed_post(std::string path, std::string body, std::string_view secret = app_secret_value) {
    fake_request r;
    r.method = "POST";
    r.path = std::move(path);
    r.headers = {{"Content-Type", "application/json"},
                 {"x-hub-signature-256", "sha256=" + hmac_sha256_hex(secret, body)}};
    r.body = std::move(body);
    return r;
}

/// What the plugin answered through the webhook sink.
struct captured {
    int responds = 0;
    int status = -1;
    std::string content_type, body;
    std::vector<json::object> events;
    sb_webhook_sink sink{sizeof(sb_webhook_sink), this,
                         [](void* c, int32_t status, sb_str ct, sb_str body) {
                             auto* self = static_cast<captured*>(c);
                             ++self->responds;
                             self->status = status;
                             self->content_type = std::string(sdk::view(ct));
                             self->body = std::string(sdk::view(body));
                         },
                         [](void* c, sb_str ev) {
                             static_cast<captured*>(c)->events.push_back(json::parse(sdk::view(ev)).as_object());
                             return SB_OK;
                         },
                         nullptr};
};

[[maybe_unused]] captured deliver(meta_channel& channel, fake_request& request) {
    captured out;
    sdk::webhook_result result(&out.sink);
    channel.handle_webhook(sdk::request(request.get()), result);
    return out;
}

sdk::settings full_settings(std::string_view account_setting = "page_id", std::string account = "100200300400") {
    sdk::settings s;
    s.set("app_secret", app_secret_value);
    s.set("verify_token", verify_token_value);
    s.set("page_access_token", token_value);
    s.set(std::string(account_setting), std::move(account));
    s.set("graph_api_base", "https://graph.facebook.com/v21.0");
    s.set("messaging_window", "86400000");
    s.set("send_timeout", "8000");
    return s;
}

const std::string text_body =
    R"({"object":"page","entry":[{"id":"100200300400","time":1700000000500,"messaging":[)"
    R"({"sender":{"id":"24000000000000001"},"recipient":{"id":"100200300400"},"timestamp":1700000000100,)"
    R"("message":{"mid":"m_1","text":"hello"}}]},)"
    R"({"id":"999888777666","time":1700000000600,"messaging":[)"
    R"({"sender":{"id":"24000000000000009"},"recipient":{"id":"999888777666"},"timestamp":1700000000200,)"
    R"("message":{"mid":"m_2","text":"other page"}}]}]})";

json::object send_command(int64_t last_inbound_ms) {
    json::object c;
    c["type"] = "message.send";
    c["channel"] = "messenger";
    c["recipient"] = json::object{{"provider_id", "24000000000000001"}};
    c["text"] = "Thanks for writing";
    c["last_inbound_ms"] = last_inbound_ms;
    c["job_id"] = "7";
    return c;
}

}  // namespace
