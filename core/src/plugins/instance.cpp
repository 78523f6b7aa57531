// Plugin instances: the C host-services thunks and the guarded calls into a plugin.
#include <switchboard/core/plugins/instance.hpp>

#include <switchboard/sdk/compat.hpp>
#include <switchboard/sdk/host_rules.hpp>
#include <switchboard/sdk/events.hpp>

#include <boost/dll/shared_library.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>

#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace switchboard::core {

namespace fs = std::filesystem;
namespace sdk_events = switchboard::sdk::events;

// ---------------------------------------------------------------------------------------------
// Host services table handed to instances: C thunks over host_services.

namespace {
using switchboard::sdk::borrow;
using switchboard::sdk::fill_error;
using switchboard::sdk::guarded_call;
using switchboard::sdk::view;

struct host_ctx {
    plugin_instance* self;
    host_services* services;
    std::string tenant;
    std::string plugin;
};

void thunk_log(void* ctx, int32_t level, sb_str message) {
    auto* c = static_cast<host_ctx*>(ctx);
    c->self->log(level, std::string(view(message)));
}
int64_t thunk_now(void* ctx) { return static_cast<host_ctx*>(ctx)->services->now_ms(); }
sb_status thunk_http(void* ctx, const sb_http_client_request* r, const sb_http_client_response_sink* sink, sb_error* e) {
    auto* c = static_cast<host_ctx*>(ctx);
    try {
        std::vector<std::pair<std::string, std::string>> headers;
        for (size_t i = 0; i < r->header_count; ++i)
            headers.emplace_back(std::string(view(r->headers[i].name)), std::string(view(r->headers[i].value)));
        auto res = c->services->http(std::string(view(r->method)), std::string(view(r->url)), headers,
                                     std::string(view(r->body)), r->timeout_ms);
        if (res.status != SB_OK) {
            fill_error(e, "", res.error);
            return res.status;
        }
        std::vector<sb_header> hs;
        for (auto& [k, v] : res.headers) hs.push_back({borrow(k), borrow(v)});
        sink->on_response(sink->ctx, res.http_status, hs.data(), hs.size(), borrow(res.body));
        return SB_OK;
    } catch (const std::exception& ex) {
        fill_error(e, "", ex.what());
        return SB_ERR_RETRYABLE;
    }
}
sb_status thunk_kv_get(void* ctx, sb_str key, const sb_sink* sink, sb_error* e) {
    auto* c = static_cast<host_ctx*>(ctx);
    try {
        if (auto v = c->services->kv_get(c->tenant, c->plugin, std::string(view(key)))) sink->put(sink->ctx, borrow(*v));
        return SB_OK;
    } catch (const std::exception& ex) {
        fill_error(e, "", ex.what());
        return SB_ERR_RETRYABLE;
    }
}
sb_status thunk_kv_put(void* ctx, sb_str key, sb_str value, int64_t ttl_ms, sb_error* e) {
    auto* c = static_cast<host_ctx*>(ctx);
    try {
        c->services->kv_put(c->tenant, c->plugin, std::string(view(key)), std::string(view(value)), ttl_ms);
        return SB_OK;
    } catch (const std::exception& ex) {
        fill_error(e, "", ex.what());
        return SB_ERR_RETRYABLE;
    }
}
/// While a webhook is being handled on this thread: where its plugin metrics wait until the
/// webhook is stored (a webhook answered 500 or 503 must not count as handled).
thread_local std::vector<std::pair<std::string, double>>* webhook_metrics = nullptr;

void thunk_metric(void* ctx, sb_str name, double value) {
    auto* c = static_cast<host_ctx*>(ctx);
    if (webhook_metrics) {
        webhook_metrics->emplace_back(std::string(view(name)), value);
        return;
    }
    try {
        c->services->metric_add(c->tenant, c->plugin, std::string(view(name)), value);
    } catch (...) {
    }
}

/// The emitted event with tenant and channel filled in, as JSON text (sdk::complete_event).
std::string complete_event(sb_str json, const std::string& tenant, const std::string& plugin) {
    return boost::json::serialize(switchboard::sdk::complete_event(json, tenant, plugin));
}
}  // namespace

plugin_instance::plugin_instance(std::shared_ptr<loaded_plugin> plugin, std::string tenant,
                                 std::vector<std::pair<std::string, std::string>> settings, host_services& services)
    : plugin_(std::move(plugin)), tenant_(std::move(tenant)), services_(services) {
    for (auto& [k, v] : settings) {
        auto spec = plugin_->setting(k);
        // Values under 6 characters would redact ordinary words; real tokens and app secrets are
        // far longer (abi.h documents the limit).
        if (spec && (spec->flags & SB_SETTING_SECRET) && v.size() >= 6) secrets_.push_back(v);
    }
    auto* ctx = new host_ctx{this, &services_, tenant_, plugin_->name()};
    api_.struct_size = sizeof(sb_host_api);
    api_.ctx = ctx;
    api_.log = thunk_log;
    api_.now_ms = thunk_now;
    api_.http_request = thunk_http;
    api_.kv_get = thunk_kv_get;
    api_.kv_put = thunk_kv_put;
    api_.metric_add = thunk_metric;

    std::vector<sb_setting_value> values;
    for (auto& [k, v] : settings) values.push_back({borrow(k), borrow(v)});
    sb_instance_config cfg{borrow(tenant_), values.data(), values.size()};
    sb_error err{};
    sb_status st = guarded_call(&err, [&] { return plugin_->descriptor().create(&api_, &cfg, &handle_, &err); });
    if (st != SB_OK) {
        delete ctx;
        api_.ctx = nullptr;
        throw std::runtime_error("plugin '" + plugin_->name() + "' refused the settings of tenant '" + tenant_ +
                                 "': " + redact(err.message));
    }
}

plugin_instance::~plugin_instance() {
    if (handle_) plugin_->descriptor().destroy(handle_);
    delete static_cast<host_ctx*>(api_.ctx);
}

std::string plugin_instance::redact(std::string text) const {
    for (auto& s : secrets_) {
        for (size_t pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos + 3)) text.replace(pos, s.size(), "***");
    }
    return text;
}

void plugin_instance::log(int level, const std::string& message) const {
    auto line = redact(message);
    auto lvl = level <= SB_LOG_DEBUG ? spdlog::level::debug
               : level == SB_LOG_INFO ? spdlog::level::info
               : level == SB_LOG_WARN ? spdlog::level::warn
                                      : spdlog::level::err;
    spdlog::log(lvl, "[tenant={} plugin={}] {}", tenant_, plugin_->name(), line);
}

std::vector<std::string> plugin_instance::account_ids() {
    std::vector<std::string> out;
    if (!plugin_->descriptor().account_ids) return out;
    sb_sink sink{&out, [](void* c, sb_str s) { static_cast<std::vector<std::string>*>(c)->emplace_back(view(s)); }};
    sb_error err{};
    if (plugin_->descriptor().account_ids(handle_, &sink, &err) != SB_OK)
        log(SB_LOG_ERROR, std::string("account_ids failed: ") + err.message);
    return out;
}

webhook_outcome plugin_instance::handle_webhook(const inbound_request& request) {
    webhook_outcome out;
    if (!plugin_->descriptor().handle_webhook) {
        out.status = 404;
        out.body = "this plugin receives no webhooks";
        return out;
    }
    std::vector<sb_header> hs;
    for (auto& [k, v] : request.headers) hs.push_back({borrow(k), borrow(v)});
    sb_http_request req{borrow(request.method), borrow(request.path), borrow(request.query), hs.data(), hs.size(),
                        borrow(request.body)};
    struct sink_state {
        webhook_outcome* out;
        plugin_instance* self;
        bool responded = false;
        std::string emit_error;
    } st{&out, this, false, {}};
    sb_webhook_sink sink{&st,
                         [](void* c, int32_t status, sb_str ct, sb_str body) {
                             auto* s = static_cast<sink_state*>(c);
                             if (s->responded) return;
                             s->responded = true;
                             s->out->status = status;
                             s->out->content_type = std::string(view(ct));
                             s->out->body = std::string(view(body));
                         },
                         [](void* c, sb_str event) {
                             auto* s = static_cast<sink_state*>(c);
                             try {
                                 s->out->events.push_back(complete_event(event, s->self->tenant(), s->self->name()));
                             } catch (const std::exception& e) {
                                 s->emit_error = e.what();
                             }
                         }};
    sb_error err{};
    webhook_metrics = &out.metrics;
    sb_status status = guarded_call(&err, [&] { return plugin_->descriptor().handle_webhook(handle_, &req, &sink, &err); });
    webhook_metrics = nullptr;
    if (status != SB_OK || !st.emit_error.empty()) {
        out.handling = webhook_handling::plugin_failed;
        out.status = 500;
        out.events.clear();
        out.error = redact(status != SB_OK ? err.message : "invalid event: " + st.emit_error);
    }
    return out;
}

call_outcome plugin_instance::execute(const std::string& command_json) {
    call_outcome out;
    if (!plugin_->descriptor().execute) {
        out.status = SB_ERR_UNSUPPORTED;
        out.message = "plugin '" + name() + "' executes no commands";
        return out;
    }
    sb_sink sink{&out.outputs, [](void* c, sb_str s) { static_cast<std::vector<std::string>*>(c)->emplace_back(view(s)); }};
    sb_error err{};
    out.status = guarded_call(&err, [&] { return plugin_->descriptor().execute(handle_, borrow(command_json), &sink, &err); });
    if (out.status != SB_OK) {
        out.code = redact(err.code);
        out.message = redact(err.message);
        out.outputs.clear();
    }
    return out;
}

call_outcome plugin_instance::run_stage(const std::string& stage, const std::string& event_json) {
    call_outcome out;
    if (!plugin_->descriptor().run_stage) {
        out.status = SB_ERR_UNSUPPORTED;
        out.message = "plugin '" + name() + "' provides no stages";
        return out;
    }
    struct state {
        call_outcome* out;
        plugin_instance* self;
        std::string error;
    } st{&out, this, {}};
    sb_sink sink{&st, [](void* c, sb_str s) {
                     auto* x = static_cast<state*>(c);
                     try {
                         x->out->outputs.push_back(complete_event(s, x->self->tenant(), x->self->name()));
                     } catch (const std::exception& e) {
                         x->error = e.what();
                     }
                 }};
    sb_error err{};
    out.status = guarded_call(
        &err, [&] { return plugin_->descriptor().run_stage(handle_, borrow(stage), borrow(event_json), &sink, &err); });
    if (out.status == SB_OK && !st.error.empty()) {
        out.status = SB_ERR_FINAL;
        fill_error(&err, "", "invalid output: " + st.error);
    }
    if (out.status != SB_OK) {
        out.code = redact(err.code);
        out.message = redact(err.message);
        out.outputs.clear();
    }
    return out;
}

std::vector<std::string> plugin_route_keys(const loaded_plugin& plugin, const inbound_request& request) {
    std::vector<std::string> out;
    if (!plugin.descriptor().route_keys) return out;
    std::vector<sb_header> hs;
    for (auto& [k, v] : request.headers) hs.push_back({borrow(k), borrow(v)});
    sb_http_request req{borrow(request.method), borrow(request.path), borrow(request.query), hs.data(), hs.size(),
                        borrow(request.body)};
    sb_sink sink{&out, [](void* c, sb_str s) { static_cast<std::vector<std::string>*>(c)->emplace_back(view(s)); }};
    sb_error err{};
    try {
        plugin.descriptor().route_keys(&req, &sink, &err);
    } catch (...) {
    }
    return out;
}

}  // namespace switchboard::core
