// Plugin instances: the C host-services thunks and the guarded calls into a plugin.
#include <switchboard/core/plugins/instance.hpp>

#include <switchboard/core/store/store.hpp>

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
using switchboard::sdk::header_array;
using switchboard::sdk::request_view;
using switchboard::sdk::view;

struct host_ctx {
    plugin_instance* self;
    host_services* services;
    std::string tenant;
    std::string instance;
};

/// The history as the ABI hands it over: a JSON array, trimmed to `max_chars` (sdk::trim_history).
std::string history_json(const std::vector<history_message>& messages, uint32_t max_chars) {
    boost::json::array out;
    for (auto& m : messages)
        out.push_back(boost::json::object{{"direction", m.direction}, {"text", m.text}, {"at_ms", m.at_ms}, {"status", m.status}});
    switchboard::sdk::trim_history(out, max_chars);
    return boost::json::serialize(out);
}

boost::json::object contact_object(const contact_record& c) {
    auto parsed = [](const std::string& text, boost::json::value fallback) {
        boost::system::error_code ec;
        auto v = boost::json::parse(text, ec);
        return ec ? fallback : v;
    };
    boost::json::object o{{"name", c.name}, {"phone", c.phone}, {"email", c.email},
                          {"tags", parsed(c.tags, boost::json::array{})},
                          {"attributes", parsed(c.attributes, boost::json::object{})}};
    o["score"] = c.score ? boost::json::value(*c.score) : boost::json::value(nullptr);
    if (c.id) o["id"] = c.id;
    return o;
}

std::string contact_json(const contact_record& c) { return boost::json::serialize(contact_object(c)); }

/// Applies a contact patch (sdk::merge_contact_patch) to a stored contact. @returns why it was refused.
std::optional<std::string> apply_contact_patch(contact_record& c, std::string_view patch) {
    auto o = contact_object(c);
    if (auto problem = switchboard::sdk::merge_contact_patch(o, patch)) return problem;
    c.name = std::string(o.at("name").as_string());
    c.phone = std::string(o.at("phone").as_string());
    c.email = std::string(o.at("email").as_string());
    c.tags = boost::json::serialize(o.at("tags"));
    c.attributes = boost::json::serialize(o.at("attributes"));
    c.score = o.at("score").is_null() ? std::nullopt : std::optional<double>(o.at("score").to_number<double>());
    return std::nullopt;
}

/// The kv namespace of a scope (sdk::kv_namespace: the instance's own, or the tenant's shared one).
std::string kv_namespace(const host_ctx& c, uint32_t scope) { return switchboard::sdk::kv_namespace(scope, c.instance); }

/// Runs a storage-backed host service: no storage or an exception becomes SB_ERR_RETRYABLE.
template <class F>
sb_status with_storage(host_ctx* c, sb_error* e, F&& f) {
    try {
        store* db = c->services->storage();
        if (!db) {
            fill_error(e, "", "storage is not open");
            return SB_ERR_RETRYABLE;
        }
        return f(*db);
    } catch (const std::exception& ex) {
        fill_error(e, "", storage_error_message(ex));
        return SB_ERR_RETRYABLE;
    }
}

sb_status put_text(const sb_sink* sink, const std::string& text) { return sink->put(sink->ctx, borrow(text)); }

void thunk_log(void* ctx, int32_t level, sb_str message) {
    auto* c = static_cast<host_ctx*>(ctx);
    c->self->log(level, std::string(view(message)));
}
int64_t thunk_now(void* ctx) { return static_cast<host_ctx*>(ctx)->services->now_ms(); }
sb_status thunk_http(void* ctx, const sb_http_client_request* r, const sb_http_client_response_sink* sink, sb_error* e) {
    auto* c = static_cast<host_ctx*>(ctx);
    try {
        outbound_http req;
        req.method = std::string(view(r->method));
        req.url = std::string(view(r->url));
        for (size_t i = 0; i < r->header_count; ++i)
            req.headers.emplace_back(std::string(view(r->headers[i].name)), std::string(view(r->headers[i].value)));
        req.body = std::string(view(r->body));
        req.timeout_ms = r->timeout_ms;
        if (SB_HAS_FIELD(sb_http_client_request, r, connect_timeout_ms)) req.connect_timeout_ms = r->connect_timeout_ms;
        if (SB_HAS_FIELD(sb_http_client_request, r, max_response_bytes)) req.max_response_bytes = r->max_response_bytes;
        if (SB_HAS_FIELD(sb_http_client_request, r, flags))
            req.refuse_private_addresses = (r->flags & SB_HTTP_REFUSE_PRIVATE_ADDRESSES) != 0;
        auto res = c->services->http(req);
        if (res.status != SB_OK) {
            fill_error(e, "", res.error);
            return res.status;
        }
        std::vector<sb_header> hs;
        for (auto& [k, v] : res.headers) hs.push_back({borrow(k), borrow(v)});
        sb_http_client_response response{sizeof(sb_http_client_response), res.http_status, hs.data(), hs.size(),
                                         borrow(res.body)};
        sink->on_response(sink->ctx, &response);
        return SB_OK;
    } catch (const std::exception& ex) {
        fill_error(e, "", ex.what());
        return SB_ERR_RETRYABLE;
    }
}
sb_status thunk_kv_get(void* ctx, uint32_t scope, sb_str key, const sb_sink* sink, sb_error* e) {
    auto* c = static_cast<host_ctx*>(ctx);
    return with_storage(c, e, [&](store& db) {
        if (auto v = db.kv_get(c->tenant, kv_namespace(*c, scope), std::string(view(key)), c->services->now_ms()))
            put_text(sink, *v);
        return SB_OK;
    });
}
sb_status thunk_kv_put(void* ctx, uint32_t scope, sb_str key, sb_str value, int64_t ttl_ms, sb_error* e) {
    auto* c = static_cast<host_ctx*>(ctx);
    return with_storage(c, e, [&](store& db) {
        std::optional<int64_t> exp;
        if (ttl_ms > 0) exp = c->services->now_ms() + ttl_ms;
        db.kv_put(c->tenant, kv_namespace(*c, scope), std::string(view(key)), std::string(view(value)), exp);
        return SB_OK;
    });
}
sb_status thunk_kv_delete(void* ctx, uint32_t scope, sb_str key, sb_error* e) {
    auto* c = static_cast<host_ctx*>(ctx);
    return with_storage(c, e, [&](store& db) {
        db.kv_delete(c->tenant, kv_namespace(*c, scope), std::string(view(key)));
        return SB_OK;
    });
}
sb_status thunk_kv_increment(void* ctx, uint32_t scope, sb_str key, int64_t delta, int64_t ttl_ms, int64_t* result,
                             sb_error* e) {
    auto* c = static_cast<host_ctx*>(ctx);
    return with_storage(c, e, [&](store& db) {
        int64_t now = c->services->now_ms();
        std::optional<int64_t> exp;
        if (ttl_ms > 0) exp = now + ttl_ms;
        int64_t v = db.kv_increment(c->tenant, kv_namespace(*c, scope), std::string(view(key)), delta, exp, now);
        if (result) *result = v;
        return SB_OK;
    });
}
sb_status thunk_kv_increment_once(void* ctx, uint32_t scope, sb_str key, int64_t delta, int64_t ttl_ms, sb_str once_key,
                                  int64_t once_ttl_ms, int64_t* result, uint32_t* applied, sb_error* e) {
    auto* c = static_cast<host_ctx*>(ctx);
    return with_storage(c, e, [&](store& db) {
        if (view(once_key).empty() || once_ttl_ms <= 0) {
            fill_error(e, "", "kv_increment_once needs a once_key and a once_ttl_ms > 0");
            return SB_ERR_INVALID;
        }
        int64_t now = c->services->now_ms();
        std::optional<int64_t> exp;
        if (ttl_ms > 0) exp = now + ttl_ms;
        auto [v, done] = db.kv_increment_once(c->tenant, kv_namespace(*c, scope), std::string(view(key)), delta, exp,
                                              std::string(view(once_key)), now + once_ttl_ms, now);
        if (result) *result = v;
        if (applied) *applied = done ? 1 : 0;
        return SB_OK;
    });
}
sb_status thunk_history(void* ctx, int64_t conversation_id, uint32_t max_messages, uint32_t max_chars,
                        const sb_sink* sink, sb_error* e) {
    auto* c = static_cast<host_ctx*>(ctx);
    return with_storage(c, e, [&](store& db) {
        int limit = max_messages == 0 || max_messages > 500 ? 500 : static_cast<int>(max_messages);
        return put_text(sink, history_json(db.conversation_history(c->tenant, conversation_id, limit), max_chars));
    });
}
sb_status thunk_contact_get(void* ctx, sb_str channel, sb_str provider_id, const sb_sink* sink, sb_error* e) {
    auto* c = static_cast<host_ctx*>(ctx);
    return with_storage(c, e, [&](store& db) {
        if (auto found = db.contact(c->tenant, std::string(view(channel)), std::string(view(provider_id))))
            put_text(sink, contact_json(*found));
        return SB_OK;
    });
}
sb_status thunk_contact_update(void* ctx, sb_str channel, sb_str provider_id, sb_str patch, sb_error* e) {
    auto* c = static_cast<host_ctx*>(ctx);
    return with_storage(c, e, [&](store& db) {
        const std::string ch(view(channel)), id(view(provider_id));
        if (ch.empty() || id.empty()) {
            fill_error(e, "", "contact_update needs a channel and a provider id");
            return SB_ERR_INVALID;
        }
        auto record = db.contact(c->tenant, ch, id).value_or(contact_record{});
        if (auto problem = apply_contact_patch(record, view(patch))) {
            fill_error(e, "", *problem);
            return SB_ERR_INVALID;
        }
        db.save_contact(c->tenant, ch, id, record, c->services->now_ms());
        return SB_OK;
    });
}
void thunk_register_secret(void* ctx, sb_str secret) {
    static_cast<host_ctx*>(ctx)->self->add_secret(std::string(view(secret)));
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
        c->services->metric_add(c->tenant, c->instance, std::string(view(name)), value);
    } catch (...) {
    }
}

void thunk_metric_set(void* ctx, sb_str name, double value) {
    auto* c = static_cast<host_ctx*>(ctx);
    try {
        c->services->metric_set(c->tenant, c->instance, std::string(view(name)), value);
    } catch (...) {
    }
}

/// The emitted event with tenant, channel and instance filled in, as JSON text (sdk::complete_event).
/// The events of a named instance (`staff-bot: {use: telegram}`) are on the channel of that name,
/// so its conversations, routes and replies stay apart from the plugin's other instance.
std::string complete_event(sb_str json, const plugin_instance& self) {
    return boost::json::serialize(
        switchboard::sdk::complete_instance_event(json, self.tenant(), self.name(), self.plugin().name()));
}

sb_sink string_list_sink(std::vector<std::string>* out) {
    return sb_sink{sizeof(sb_sink), out, [](void* c, sb_str s) {
                       static_cast<std::vector<std::string>*>(c)->emplace_back(view(s));
                       return SB_OK;
                   }};
}

/// The C view of a call context (borrowing from `c` and the strings passed).
sb_call_context context_view(const call_context& c, const std::string& tenant, const std::string& instance) {
    sb_call_context out{};
    out.struct_size = sizeof out;
    out.tenant = borrow(tenant);
    out.instance = borrow(instance);
    out.deadline_ms = c.deadline_ms;
    out.attempt = static_cast<uint32_t>(c.attempt < 1 ? 1 : c.attempt);
    out.idempotency_key = borrow(c.idempotency_key);
    out.params_json = borrow(c.params_json);
    out.earlier_outputs_json = borrow(c.earlier_outputs_json);
    return out;
}
}  // namespace

std::optional<std::string> plugin_instance::setting_value(std::string_view name) const {
    for (auto& [k, v] : settings_)
        if (k == name) return v;
    if (auto spec = plugin_->setting(std::string(name)); spec && spec->default_value) return std::string(spec->default_value);
    return std::nullopt;
}

plugin_instance::plugin_instance(std::shared_ptr<loaded_plugin> plugin, std::string tenant, std::string instance_name,
                                 std::vector<std::pair<std::string, std::string>> settings, host_services& services,
                                 std::string webhook_url)
    : plugin_(std::move(plugin)), tenant_(std::move(tenant)), name_(std::move(instance_name)), services_(services) {
    if (name_.empty()) name_ = plugin_->name();
    settings_ = settings;
    for (auto& [k, v] : settings) {
        auto spec = plugin_->setting(k);
        // Values under 6 characters would redact ordinary words; real tokens and app secrets are
        // far longer (abi.h documents the limit).
        if (spec && (spec->flags & SB_SETTING_SECRET) && v.size() >= 6) secrets_.push_back(v);
    }
    auto* ctx = new host_ctx{this, &services_, tenant_, name_};
    api_.struct_size = sizeof(sb_host_api);
    api_.ctx = ctx;
    api_.log = thunk_log;
    api_.now_ms = thunk_now;
    api_.http_request = thunk_http;
    api_.kv_get = thunk_kv_get;
    api_.kv_put = thunk_kv_put;
    api_.kv_delete = thunk_kv_delete;
    api_.kv_increment = thunk_kv_increment;
    api_.metric_add = thunk_metric;
    api_.metric_set = thunk_metric_set;
    api_.kv_increment_once = thunk_kv_increment_once;
    api_.conversation_history = thunk_history;
    api_.contact_get = thunk_contact_get;
    api_.contact_update = thunk_contact_update;
    api_.register_secret = thunk_register_secret;

    std::vector<sb_setting_value> values;
    for (auto& [k, v] : settings) values.push_back({borrow(k), borrow(v)});
    sb_instance_config cfg{};
    cfg.struct_size = sizeof cfg;
    cfg.tenant = borrow(tenant_);
    cfg.instance = borrow(name_);
    cfg.settings = values.data();
    cfg.settings_count = values.size();
    cfg.webhook_url = borrow(webhook_url);
    sb_error err = switchboard::sdk::make_error();
    sb_status st = guarded_call(&err, [&] { return plugin_->descriptor().create(&api_, &cfg, &handle_, &err); });
    if (st != SB_OK) {
        delete ctx;
        api_.ctx = nullptr;
        std::string who = name_ == plugin_->name() ? "plugin '" + name_ + "'" : "instance '" + name_ + "' (plugin '" + plugin_->name() + "')";
        throw std::runtime_error(who + " refused the settings of tenant '" + tenant_ + "': " + redact(err.message));
    }
}

plugin_instance::~plugin_instance() {
    if (handle_) plugin_->descriptor().destroy(handle_);
    delete static_cast<host_ctx*>(api_.ctx);
}

void plugin_instance::add_secret(std::string secret) {
    if (secret.size() < 6) return;
    std::lock_guard lock(secrets_mu_);
    if (std::find(secrets_.begin(), secrets_.end(), secret) == secrets_.end()) secrets_.push_back(std::move(secret));
}

std::string plugin_instance::redact(std::string text) const {
    std::lock_guard lock(secrets_mu_);
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
    spdlog::log(lvl, "[tenant={} plugin={}] {}", tenant_, name_, line);
}

std::vector<std::string> plugin_instance::account_ids() {
    std::vector<std::string> out;
    if (!plugin_->descriptor().account_ids) return out;
    sb_sink sink = string_list_sink(&out);
    sb_error err = switchboard::sdk::make_error();
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
    auto hs = header_array(request.headers);
    sb_http_request req = request_view(request, hs, request.instance);
    struct sink_state {
        webhook_outcome* out;
        plugin_instance* self;
        bool responded = false;
        std::string emit_error;
    } st{&out, this, false, {}};
    sb_webhook_sink sink{};
    sink.struct_size = sizeof sink;
    sink.ctx = &st;
    sink.respond = [](void* c, int32_t status, sb_str ct, sb_str body) {
        auto* s = static_cast<sink_state*>(c);
        if (s->responded) return;
        s->responded = true;
        s->out->status = status;
        s->out->content_type = std::string(view(ct));
        s->out->body = std::string(view(body));
    };
    sink.emit = [](void* c, sb_str event) -> sb_status {
        auto* s = static_cast<sink_state*>(c);
        try {
            s->out->events.push_back(complete_event(event, *s->self));
            return SB_OK;
        } catch (const std::exception& e) {
            if (s->emit_error.empty()) s->emit_error = e.what();
            return SB_ERR_INVALID;
        }
    };
    sink.header = [](void* c, sb_str name, sb_str value) {
        auto* s = static_cast<sink_state*>(c);
        std::string n(view(name)), v(view(value));
        for (const char* hop : {"connection", "content-length", "transfer-encoding", "content-type"})
            if (switchboard::sdk::iequals(n, hop)) return;
        if (n.empty() || n.find_first_of(":\r\n") != std::string::npos || v.find_first_of("\r\n") != std::string::npos)
            return;
        s->out->headers.emplace_back(std::move(n), std::move(v));
    };
    sb_error err = switchboard::sdk::make_error();
    webhook_metrics = &out.metrics;
    sb_status status = guarded_call(&err, [&] { return plugin_->descriptor().handle_webhook(handle_, &req, &sink, &err); });
    webhook_metrics = nullptr;
    if (status != SB_OK || !st.emit_error.empty()) {
        out.handling = webhook_handling::plugin_failed;
        out.status = 500;
        out.events.clear();
        out.headers.clear();
        out.error = redact(st.emit_error.empty() ? err.message : "invalid event: " + st.emit_error);
    }
    return out;
}

namespace {
/// Collects a call's outputs, completing each as an event (tenant, channel, instance); the first
/// refusal is kept. With `first_is_result`, the first output is a command's result: kept as it is
/// unless it names a "type".
struct output_collector {
    call_outcome* out;
    const plugin_instance* self;
    bool first_is_result = false;
    std::string error;

    static sb_status put(void* c, sb_str s) {
        auto* x = static_cast<output_collector*>(c);
        try {
            if (x->first_is_result && x->out->outputs.empty()) {
                x->out->outputs.push_back(boost::json::serialize(switchboard::sdk::complete_result(
                    s, x->self->tenant(), x->self->name(), x->self->plugin().name())));
            } else if (x->first_is_result) {
                x->out->outputs.push_back(complete_event(s, *x->self));
            } else { // a stage's event or command
                x->out->outputs.push_back(
                    boost::json::serialize(switchboard::sdk::complete_event(s, x->self->tenant(), x->self->name())));
            }
            return SB_OK;
        } catch (const std::exception& e) {
            if (x->error.empty()) x->error = e.what();
            return SB_ERR_INVALID;
        }
    }
};
}  // namespace

/// Finishes an outcome: an invalid output fails the call; errors are redacted and clear outputs.
static void finish_outcome(const plugin_instance& self, call_outcome& out, sb_error& err, const std::string& output_error) {
    if (out.status == SB_OK && !output_error.empty()) {
        out.status = SB_ERR_FINAL;
        fill_error(&err, "", "invalid output: " + output_error);
    }
    if (out.status != SB_OK) {
        out.code = self.redact(err.code);
        out.message = self.redact(err.message);
        if (out.status == SB_ERR_RETRY_AFTER) out.retry_after_ms = switchboard::sdk::retry_after_of(err);
        out.outputs.clear();
    }
}

call_outcome plugin_instance::execute(const std::string& command_json, const call_context& context) {
    call_outcome out;
    if (!plugin_->descriptor().execute) {
        out.status = SB_ERR_UNSUPPORTED;
        out.message = "plugin '" + plugin_->name() + "' executes no commands";
        return out;
    }
    output_collector collect{&out, this, true, {}};
    sb_sink sink{sizeof(sb_sink), &collect, output_collector::put};
    sb_call_context ctx = context_view(context, tenant_, name_);
    sb_error err = switchboard::sdk::make_error();
    out.status = guarded_call(
        &err, [&] { return plugin_->descriptor().execute(handle_, &ctx, borrow(command_json), &sink, &err); });
    finish_outcome(*this, out, err, collect.error);
    return out;
}

call_outcome plugin_instance::run_stage(const std::string& stage, const std::string& event_json,
                                       const call_context& context) {
    call_outcome out;
    if (!plugin_->descriptor().run_stage) {
        out.status = SB_ERR_UNSUPPORTED;
        out.message = "plugin '" + plugin_->name() + "' provides no stages";
        return out;
    }
    output_collector collect{&out, this, false, {}};
    sb_sink sink{sizeof(sb_sink), &collect, output_collector::put};
    sb_call_context ctx = context_view(context, tenant_, name_);
    sb_error err = switchboard::sdk::make_error();
    out.status = guarded_call(&err, [&] {
        return plugin_->descriptor().run_stage(handle_, &ctx, borrow(stage), borrow(event_json), &sink, &err);
    });
    finish_outcome(*this, out, err, collect.error);
    return out;
}

std::vector<std::string> plugin_route_keys(const loaded_plugin& plugin, const inbound_request& request) {
    std::vector<std::string> out;
    if (!plugin.descriptor().route_keys) return out;
    auto hs = header_array(request.headers);
    sb_http_request req = request_view(request, hs, request.instance);
    sb_sink sink = string_list_sink(&out);
    sb_error err = switchboard::sdk::make_error();
    try {
        plugin.descriptor().route_keys(&req, &sink, &err);
    } catch (...) {
    }
    return out;
}

}  // namespace switchboard::core
