// switchboard/sdk/testing.hpp — a fake host for unit-testing a plugin without a running service.
//
// Header-only and framework-free: use it from Catch2, GoogleTest or plain asserts. It talks to
// the plugin through the C ABI exactly as the host does, so a test exercises the built .so:
//
//   namespace sbt = switchboard::sdk::testing;
//   sbt::fake_host host = sbt::fake_host::load("build/plugins/switchboard-echo.so");
//   sbt::tenant_instance echo = host.create("demo", {{"shared_secret", "s3cret-value"},
//                                                    {"reply_url", "https://example.test/reply"}});
//   sbt::webhook_response r = echo.webhook({.method = "POST", .path = "/webhooks/echo/demo",
//                                           .headers = {{"X-Echo-Secret", "s3cret-value"}},
//                                           .body = R"({"id":"1","from":"u","text":"hi"})"});
//   assert(r.status == 200 && r.events.size() == 1);
//   sbt::call_result staged = echo.run_stage("reply", r.events[0]);   // a route's "echo.reply"
//   boost::json::object command = staged.output();                    // message.send
//   command["idempotency_key"] = "job-1";                             // the host sets the job id
//   host.push_http_reply({.status = 200, .body = R"({"id":"out-1"})"});
//   sbt::call_result sent = echo.execute(command);   // the POST is in host.http_requests()
//
// What the fake host does like the real one: the ABI check and its refusal messages, settings
// validation with declared defaults and durations converted to ms, "tenant" and "channel" filled
// into emitted events, 200 with an empty body when a webhook handler never responds, per-tenant
// key/value state whose TTL runs on the host clock.
// What it does differently, on purpose: it keeps everything a plugin hands it (logs, requests,
// error messages) verbatim, without the host's redaction of secret setting values, so a test can
// assert that a secret never reaches a log line; `<name>_file` settings are not resolved (pass
// the value itself); and a webhook handler's failure is thrown (plugin_call_error) instead of
// answered 500, so the plugin's message shows up in the test report.
//
// Linux only (dlopen). Plugin code loaded by load() stays resident until the process exits, as
// in the host: unloading it could leave static destructors or pending callbacks pointing nowhere.
#pragma once

#include <switchboard/abi.h>
#include <switchboard/sdk/compat.hpp>
#include <switchboard/sdk/host_rules.hpp>

#include <boost/json.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::sdk::testing {

/// HTTP headers as (name, value) pairs, in order. Look names up case-insensitively (header()).
using header_list = std::vector<std::pair<std::string, std::string>>;

/// A failed plugin call, as the plugin reported it through the ABI.
struct call_error {
    sb_status status = SB_ERR_FINAL; ///< SB_ERR_RETRYABLE, SB_ERR_FINAL, SB_ERR_INVALID or SB_ERR_UNSUPPORTED
    std::string code{};              ///< the provider's error code (plugin_error::code()), often ""
    std::string message{};           ///< the plugin's message (not redacted)
};

/// "SB_ERR_RETRYABLE" etc. for a status, for messages and test reports.
inline const char* status_name(sb_status status) noexcept {
    switch (status) {
    case SB_OK: return "SB_OK";
    case SB_ERR_RETRYABLE: return "SB_ERR_RETRYABLE";
    case SB_ERR_FINAL: return "SB_ERR_FINAL";
    case SB_ERR_INVALID: return "SB_ERR_INVALID";
    case SB_ERR_UNSUPPORTED: return "SB_ERR_UNSUPPORTED";
    }
    return "unknown sb_status";
}

/// Thrown when a plugin call that has no error result fails: tenant_instance::webhook() (the real
/// host would answer 500 and store nothing), account_ids() and fake_host::route_keys().
/// what() is "<operation> failed (<status name>): <message>"; error() holds the details.
class plugin_call_error : public std::runtime_error {
public:
    plugin_call_error(std::string_view operation, call_error error)
        : std::runtime_error(std::string(operation) + " failed (" + status_name(error.status) + "): " + error.message),
          error_(std::move(error)) {}
    const call_error& error() const noexcept { return error_; }

private:
    call_error error_;
};

/// Outcome of tenant_instance::execute() and run_stage(): outputs, or the plugin's error.
struct call_result {
    /// execute(): the one result object (e.g. {"provider_message_id": ...}); run_stage(): every
    /// event and command emitted, in order, with "tenant" and "channel" filled in as the host does.
    /// Empty when the call failed.
    std::vector<boost::json::object> outputs{};
    /// Set when the plugin returned anything but SB_OK.
    std::optional<call_error> error{};

    bool ok() const noexcept { return !error; }
    /// SB_OK, or error->status.
    sb_status status() const noexcept { return error ? error->status : SB_OK; }
    /// The single output of a successful call.
    /// @throws std::logic_error when the call failed or produced other than exactly one output.
    const boost::json::object& output() const {
        if (error)
            throw std::logic_error(std::string("the call failed (") + status_name(error->status) + "): " + error->message);
        if (outputs.size() != 1)
            throw std::logic_error("expected exactly one output, got " + std::to_string(outputs.size()));
        return outputs.front();
    }
};

/// Prints "ok [outputs...]" or "SB_ERR_...(code): message", so test frameworks can show a result.
inline std::ostream& operator<<(std::ostream& os, const call_result& r) {
    if (r.error)
        return os << status_name(r.error->status) << '(' << r.error->code << "): " << r.error->message;
    os << "ok [";
    for (size_t i = 0; i < r.outputs.size(); ++i) os << (i ? ", " : "") << boost::json::serialize(r.outputs[i]);
    return os << ']';
}

/// First header named `name` (ASCII case-insensitive), or nullopt.
inline std::optional<std::string> find_header(const header_list& headers, std::string_view name) {
    for (auto& [k, v] : headers)
        if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            }))
            return v;
    return std::nullopt;
}

/// An inbound webhook request, as the host's ingress would hand it to the plugin.
struct inbound_request {
    std::string method = "POST"; ///< "GET", "POST", ...
    std::string path{};          ///< decoded path, e.g. "/webhooks/echo/demo"
    std::string query{};         ///< raw query string without '?', percent-encoded, e.g. "hub.mode=subscribe"
    header_list headers{};       ///< request headers
    std::string body{};          ///< raw body bytes (signatures are computed over exactly these)
};

/// What the plugin made of a webhook.
struct webhook_response {
    int status = 200;                         ///< HTTP status (200 when the plugin never responded)
    std::string content_type = "text/plain";  ///< of body
    std::string body{};                       ///< response body ("" when the plugin never responded)
    /// Normalized events emitted, in order, with "tenant" set and "channel" filled in when absent,
    /// as the host stores them.
    std::vector<boost::json::object> events{};
};

/// An outbound HTTP request the plugin made through the host (sdk::host::http()).
struct outbound_request {
    std::string tenant{};    ///< tenant of the instance that made it
    std::string method{};    ///< e.g. "POST"
    std::string url{};       ///< full URL
    header_list headers{};   ///< as the plugin set them
    std::string body{};      ///< raw body
    uint32_t timeout_ms = 0; ///< requested whole-request timeout in ms; 0 = host default

    /// First header named `name` (case-insensitive), or nullopt.
    std::optional<std::string> header(std::string_view name) const { return find_header(headers, name); }
    /// The body parsed as JSON. @throws boost::system::system_error when it is not JSON.
    boost::json::value json() const { return boost::json::parse(body); }
};

/// The fake host's answer to one outbound request: an HTTP response, or a transport failure.
struct http_reply {
    int status = 200;      ///< HTTP status of the response
    header_list headers{}; ///< response headers
    std::string body{};    ///< response body
    /// When set, no response arrives: the plugin's host::http() throws plugin_error with this
    /// message, retryable unless transport_status says SB_ERR_INVALID (a malformed URL).
    std::optional<std::string> transport_error{};
    sb_status transport_status = SB_ERR_RETRYABLE;

    /// A response with a JSON body and Content-Type: application/json.
    static http_reply json(int status, const boost::json::value& body) {
        return {status, {{"Content-Type", "application/json"}}, boost::json::serialize(body), std::nullopt, SB_ERR_RETRYABLE};
    }
    /// A transport failure (timeout, connection refused); SB_ERR_RETRYABLE as the host reports them.
    static http_reply failure(std::string message, sb_status status = SB_ERR_RETRYABLE) {
        return {0, {}, {}, std::move(message), status};
    }
};

/// One line the plugin logged.
struct log_entry {
    std::string tenant{}; ///< tenant of the instance that logged it
    sb_log_level level{}; ///< SB_LOG_DEBUG .. SB_LOG_ERROR
    std::string text{};   ///< verbatim (not redacted)
};

/// One metric_add call.
struct metric_entry {
    std::string tenant{}; ///< tenant of the instance
    std::string name{};   ///< counter name as the plugin gave it (the host exports switchboard_plugin_<name>_total)
    double value = 0;     ///< amount added
};

/// Parses a duration the way the host's config does (see switchboard/sdk/compat.hpp).
using switchboard::sdk::parse_duration_ms;

namespace detail {


/// The host's descriptor checks, with its wording (switchboard/sdk/compat.hpp, shared with the host).
inline const sb_plugin_descriptor& check_descriptor(const sb_plugin_descriptor* d) {
    if (auto problem = descriptor_problem(d)) throw std::runtime_error(*problem);
    return *d;
}

/// Everything the plugin can observe or leave behind, shared by the host and its instances so an
/// instance stays usable whatever happens to the fake_host object it came from.
struct host_state {
    std::mutex mu;
    int64_t now_ms = 0;
    std::deque<http_reply> replies;
    std::function<http_reply(const outbound_request&)> responder;
    std::vector<outbound_request> requests;
    std::vector<log_entry> logs;
    std::vector<metric_entry> metrics;
    struct kv_value {
        std::string value;
        std::optional<int64_t> expires_at_ms;
    };
    std::map<std::pair<std::string, std::string>, kv_value> kv; // (tenant, key)
};

/// The sb_host_api of one instance and what its thunks need.
struct instance_context {
    sb_host_api api{};
    std::shared_ptr<host_state> state;
    std::string tenant;
};

inline instance_context& ctx_of(void* c) { return *static_cast<instance_context*>(c); }

inline void host_log(void* c, int32_t level, sb_str message) {
    auto& x = ctx_of(c);
    std::lock_guard lock(x.state->mu);
    x.state->logs.push_back({x.tenant, static_cast<sb_log_level>(std::clamp<int32_t>(level, SB_LOG_DEBUG, SB_LOG_ERROR)),
                             std::string(view(message))});
}

inline int64_t host_now(void* c) {
    auto& x = ctx_of(c);
    std::lock_guard lock(x.state->mu);
    return x.state->now_ms;
}

inline sb_status host_http(void* c, const sb_http_client_request* r, const sb_http_client_response_sink* sink,
                           sb_error* error) {
    auto& x = ctx_of(c);
    try {
        outbound_request req{x.tenant, std::string(view(r->method)), std::string(view(r->url)), {}, std::string(view(r->body)),
                             r->timeout_ms};
        for (size_t i = 0; i < r->header_count; ++i)
            req.headers.emplace_back(std::string(view(r->headers[i].name)), std::string(view(r->headers[i].value)));
        std::optional<http_reply> reply;
        std::function<http_reply(const outbound_request&)> responder;
        {
            std::lock_guard lock(x.state->mu);
            x.state->requests.push_back(req);
            if (!x.state->replies.empty()) {
                reply = std::move(x.state->replies.front());
                x.state->replies.pop_front();
            } else {
                responder = x.state->responder;
            }
        }
        if (!reply && responder) reply = responder(req); // outside the lock: it may inspect the host
        if (!reply)
            reply = http_reply::failure("fake host: no reply scripted for " + req.method + " " + req.url +
                                        " (queue one with push_http_reply() or set_http_responder())");
        if (reply->transport_error) {
            fill_error(error, "", *reply->transport_error);
            return reply->transport_status == SB_OK ? SB_ERR_RETRYABLE : reply->transport_status;
        }
        std::vector<sb_header> hs;
        for (auto& [k, v] : reply->headers) hs.push_back({borrow(k), borrow(v)});
        sink->on_response(sink->ctx, reply->status, hs.data(), hs.size(), borrow(reply->body));
        return SB_OK;
    } catch (const std::exception& e) {
        fill_error(error, "", std::string("fake host: HTTP responder threw: ") + e.what());
        return SB_ERR_RETRYABLE;
    }
}

inline sb_status host_kv_get(void* c, sb_str key, const sb_sink* sink, sb_error*) {
    auto& x = ctx_of(c);
    std::optional<std::string> value;
    {
        std::lock_guard lock(x.state->mu);
        auto it = x.state->kv.find({x.tenant, std::string(view(key))});
        if (it != x.state->kv.end() && (!it->second.expires_at_ms || *it->second.expires_at_ms > x.state->now_ms))
            value = it->second.value;
    }
    if (value) sink->put(sink->ctx, borrow(*value));
    return SB_OK;
}

inline sb_status host_kv_put(void* c, sb_str key, sb_str value, int64_t ttl_ms, sb_error*) {
    auto& x = ctx_of(c);
    std::lock_guard lock(x.state->mu);
    std::optional<int64_t> expires;
    if (ttl_ms > 0) expires = x.state->now_ms + ttl_ms;
    x.state->kv[{x.tenant, std::string(view(key))}] = {std::string(view(value)), expires};
    return SB_OK;
}

inline void host_metric(void* c, sb_str name, double value) {
    auto& x = ctx_of(c);
    std::lock_guard lock(x.state->mu);
    x.state->metrics.push_back({x.tenant, std::string(view(name)), value});
}

using switchboard::sdk::complete_event;

inline void collect_string(void* c, sb_str s) { static_cast<std::vector<std::string>*>(c)->emplace_back(view(s)); }

} // namespace detail

/// One tenant's instance of the plugin, created by fake_host::create(). Destroys the plugin
/// instance when it goes out of scope. Movable, not copyable. Calls may come from several threads,
/// as in the host, if the plugin is written for that.
class tenant_instance {
public:
    tenant_instance(tenant_instance&& other) noexcept
        : descriptor_(other.descriptor_), ctx_(std::move(other.ctx_)), handle_(std::exchange(other.handle_, nullptr)) {}
    tenant_instance& operator=(tenant_instance&& other) noexcept {
        if (this != &other) {
            reset();
            descriptor_ = other.descriptor_;
            ctx_ = std::move(other.ctx_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    tenant_instance(const tenant_instance&) = delete;
    tenant_instance& operator=(const tenant_instance&) = delete;
    ~tenant_instance() { reset(); }

    /// Tenant id given to create().
    const std::string& tenant() const { return ctx_->tenant; }

    /// Feeds one inbound request to the plugin's handle_webhook.
    /// @returns status, content type, body and the emitted events (see webhook_response); 404
    ///          "this plugin receives no webhooks" when the plugin has no handle_webhook, as the host.
    /// @throws plugin_call_error when the handler failed (the host would answer 500 and store nothing)
    ///         or emitted something that is not a JSON object with a "type".
    webhook_response webhook(const inbound_request& request) {
        webhook_response out;
        if (!descriptor_->handle_webhook) {
            out.status = 404;
            out.body = "this plugin receives no webhooks";
            return out;
        }
        std::vector<sb_header> hs;
        for (auto& [k, v] : request.headers) hs.push_back({borrow(k), borrow(v)});
        sb_http_request req{borrow(request.method), borrow(request.path), borrow(request.query),
                            hs.data(), hs.size(), borrow(request.body)};
        struct sink_state {
            webhook_response* out;
            tenant_instance* self;
            bool responded = false;
            std::string emit_error{};
        } st{&out, this, false, {}};
        sb_webhook_sink sink{&st,
                             [](void* c, int32_t status, sb_str content_type, sb_str body) {
                                 auto* s = static_cast<sink_state*>(c);
                                 if (s->responded) return; // the host keeps the first response
                                 s->responded = true;
                                 s->out->status = status;
                                 s->out->content_type = std::string(view(content_type));
                                 s->out->body = std::string(view(body));
                             },
                             [](void* c, sb_str event) {
                                 auto* s = static_cast<sink_state*>(c);
                                 try {
                                     s->out->events.push_back(detail::complete_event(event, s->self->tenant(),
                                                                                     s->self->descriptor_->name));
                                 } catch (const std::exception& e) {
                                     if (s->emit_error.empty()) s->emit_error = e.what();
                                 }
                             }};
        sb_error err{};
        sb_status status = descriptor_->handle_webhook(handle_, &req, &sink, &err);
        if (status != SB_OK) throw plugin_call_error("handle_webhook", {status, err.code, err.message});
        if (!st.emit_error.empty())
            throw plugin_call_error("handle_webhook", {SB_ERR_FINAL, "", "invalid event: " + st.emit_error});
        return out;
    }

    /// Executes a command (e.g. message.send) as a delivery worker does. The host fills
    /// "idempotency_key" with the job id; set it in `command` yourself to test repeat-safety.
    /// @returns the plugin's result object in outputs[0], or its error; SB_ERR_UNSUPPORTED when the
    ///          plugin has no execute.
    call_result execute(const boost::json::object& command) { return execute(boost::json::serialize(command)); }

    /// Same, with the command as JSON text (to test how the plugin treats malformed commands).
    call_result execute(std::string_view command_json) {
        call_result out;
        if (!descriptor_->execute) {
            out.error = call_error{SB_ERR_UNSUPPORTED, "", "plugin '" + std::string(descriptor_->name) + "' executes no commands"};
            return out;
        }
        std::vector<std::string> raw;
        sb_sink sink{&raw, detail::collect_string};
        sb_error err{};
        sb_status status = descriptor_->execute(handle_, borrow(command_json), &sink, &err);
        if (status != SB_OK) {
            out.error = call_error{status, err.code, err.message};
            return out;
        }
        for (auto& r : raw) {
            boost::system::error_code ec;
            boost::json::value v = boost::json::parse(r, ec);
            if (ec || !v.is_object()) {
                out.outputs.clear();
                out.error = call_error{SB_ERR_FINAL, "", "invalid output: execute result is not a JSON object"};
                return out;
            }
            out.outputs.push_back(std::move(v.as_object()));
        }
        return out;
    }

    /// Runs stage `stage` (without the plugin prefix: "reply" for a route's "echo.reply") on an event.
    /// @returns the emitted events and commands, "tenant"/"channel" filled in, or the plugin's error
    ///          (an emitted value that is not an object with a "type" fails the call, SB_ERR_FINAL,
    ///          as in the host); SB_ERR_UNSUPPORTED when the plugin has no run_stage.
    /// @throws std::invalid_argument when the descriptor does not declare `stage`: the host's config
    ///         check would refuse a route naming it, so the plugin would never be called with it.
    call_result run_stage(std::string_view stage, const boost::json::object& event) {
        return run_stage(stage, std::string_view(boost::json::serialize(event)));
    }

    /// Same, with the event as JSON text.
    call_result run_stage(std::string_view stage, std::string_view event_json) {
        call_result out;
        if (!descriptor_->run_stage) {
            out.error = call_error{SB_ERR_UNSUPPORTED, "", "plugin '" + std::string(descriptor_->name) + "' provides no stages"};
            return out;
        }
        std::string declared;
        bool found = false;
        for (size_t i = 0; i < descriptor_->stages_count; ++i) {
            if (!descriptor_->stages[i]) continue;
            found = found || stage == descriptor_->stages[i];
            declared += (declared.empty() ? "" : ", ") + std::string(descriptor_->stages[i]);
        }
        if (!found)
            throw std::invalid_argument("plugin '" + std::string(descriptor_->name) + "' declares no stage '" +
                                        std::string(stage) + "' (declared: " + (declared.empty() ? "none" : declared) + ")");
        std::vector<std::string> raw;
        sb_sink sink{&raw, detail::collect_string};
        sb_error err{};
        sb_status status =
            descriptor_->run_stage(handle_, borrow(stage), borrow(event_json), &sink, &err);
        if (status != SB_OK) {
            out.error = call_error{status, err.code, err.message};
            return out;
        }
        try {
            for (auto& r : raw)
                out.outputs.push_back(detail::complete_event(borrow(r), tenant(), descriptor_->name));
        } catch (const std::exception& e) {
            out.outputs.clear();
            out.error = call_error{SB_ERR_FINAL, "", std::string("invalid output: ") + e.what()};
        }
        return out;
    }

    /// The provider account ids this instance claims (routing of POST /webhooks/{plugin}).
    /// @throws plugin_call_error when the plugin reports an error (the host logs it and routes nothing).
    std::vector<std::string> account_ids() {
        std::vector<std::string> out;
        if (!descriptor_->account_ids) return out;
        sb_sink sink{&out, detail::collect_string};
        sb_error err{};
        sb_status status = descriptor_->account_ids(handle_, &sink, &err);
        if (status != SB_OK) throw plugin_call_error("account_ids", {status, err.code, err.message});
        return out;
    }

private:
    friend class fake_host;
    tenant_instance(const sb_plugin_descriptor* d, std::unique_ptr<detail::instance_context> ctx, void* handle)
        : descriptor_(d), ctx_(std::move(ctx)), handle_(handle) {}
    void reset() noexcept {
        if (handle_) descriptor_->destroy(handle_);
        handle_ = nullptr;
    }

    const sb_plugin_descriptor* descriptor_;
    std::unique_ptr<detail::instance_context> ctx_; // the sb_host_api must not move while the plugin holds it
    void* handle_;
};

/// The fake host: one plugin, any number of tenant instances, and everything they did.
/// Thread-safe for plugin calls; configure it (clock, replies, state) between calls.
class fake_host {
public:
    /// The clock's initial value: 2023-11-14T22:13:20Z in UTC ms.
    static constexpr int64_t default_now_ms = 1'700'000'000'000;

    /// Loads a built plugin the way the host does: dlopen(RTLD_LOCAL | RTLD_NOW), the
    /// SB_PLUGIN_EXPORT_NAME export, then the ABI checks of the descriptor() constructor.
    /// @param path  the .so file, e.g. "build/plugins/switchboard-echo.so"
    /// @throws std::runtime_error with the host's refusal messages: "not a loadable shared object: …",
    ///         "not a Switchboard plugin: it does not export 'switchboard_plugin_v1' …", or the
    ///         ABI messages ("built against SDK ABI 0.9 but this host implements ABI 1.0: rebuild it
    ///         against SDK 1.0").
    static fake_host load(const std::string& path) {
        // Resident until exit, like the host: never dlclose'd.
        void* handle = dlopen(path.c_str(), RTLD_LOCAL | RTLD_NOW);
        if (!handle) {
            const char* why = dlerror();
            throw std::runtime_error("not a loadable shared object: " + std::string(why ? why : path));
        }
        void* alias = dlsym(handle, SB_PLUGIN_EXPORT_NAME);
        if (!alias)
            throw std::runtime_error("not a Switchboard plugin: it does not export '" SB_PLUGIN_EXPORT_NAME
                                     "' (declare it with SWITCHBOARD_PLUGIN from <switchboard/sdk/plugin.hpp>)");
        // BOOST_DLL_ALIAS exports a variable (const void*) holding the entry function's address,
        // not the function itself.
        const void* entry_address = *static_cast<const void* const*>(alias);
        auto entry = reinterpret_cast<sb_plugin_entry_fn>(reinterpret_cast<std::intptr_t>(entry_address));
        if (!entry) throw std::runtime_error("the plugin's entry point returned no descriptor");
        return fake_host(entry());
    }

    /// Hosts a descriptor already in this process (e.g. one built in the test binary with
    /// sdk::detail::make_descriptor<my_instance>(info)), after the same checks as the host:
    /// struct_size, ABI major equal to SB_ABI_MAJOR, minor <= SB_ABI_MINOR, a valid name, create
    /// and destroy present. @throws std::runtime_error with the host's wording when refused.
    explicit fake_host(const sb_plugin_descriptor* descriptor)
        : descriptor_(&detail::check_descriptor(descriptor)), state_(std::make_shared<detail::host_state>()) {
        state_->now_ms = default_now_ms;
    }

    /// The plugin's descriptor (name, version, capabilities, settings schema, stages).
    const sb_plugin_descriptor& descriptor() const { return *descriptor_; }
    /// The plugin's name, e.g. "echo".
    std::string name() const { return descriptor_->name; }

    /// Creates the instance of `tenant` with `settings` (name → text value), as the host does
    /// after validating the config: declared defaults fill unset (or empty) values, durations
    /// ("30s", "500ms", "5m", "2h", or plain ms) reach the plugin as milliseconds, and settings go
    /// in declared order.
    /// @throws std::runtime_error listing every problem ("plugin 'echo' has no setting 'x' …",
    ///         "… must be a duration such as 500ms, 10s, 5m or 24h, got '…'", "plugin 'echo' of
    ///         tenant 'demo' requires setting 'reply_url' (…)"; secret values are not quoted), or
    ///         "plugin '<name>' refused the settings of tenant '<tenant>': <plugin's message>" when
    ///         the plugin's create() fails.
    tenant_instance create(const std::string& tenant, const std::map<std::string, std::string>& settings = {}) {
        auto values = effective_settings(tenant, settings);
        auto ctx = std::make_unique<detail::instance_context>();
        ctx->state = state_;
        ctx->tenant = tenant;
        ctx->api.struct_size = sizeof(sb_host_api);
        ctx->api.ctx = ctx.get();
        ctx->api.log = detail::host_log;
        ctx->api.now_ms = detail::host_now;
        ctx->api.http_request = detail::host_http;
        ctx->api.kv_get = detail::host_kv_get;
        ctx->api.kv_put = detail::host_kv_put;
        ctx->api.metric_add = detail::host_metric;

        std::vector<sb_setting_value> c_values;
        for (auto& [k, v] : values) c_values.push_back({borrow(k), borrow(v)});
        sb_instance_config config{borrow(tenant), c_values.data(), c_values.size()};
        void* handle = nullptr;
        sb_error err{};
        sb_status status = descriptor_->create(&ctx->api, &config, &handle, &err);
        if (status != SB_OK)
            throw std::runtime_error("plugin '" + name() + "' refused the settings of tenant '" + tenant + "': " +
                                     err.message);
        return tenant_instance(descriptor_, std::move(ctx), handle);
    }

    /// The provider account ids the plugin's static route_keys reads from an unverified request
    /// (empty when the plugin has none). @throws plugin_call_error when it reports an error.
    std::vector<std::string> route_keys(const inbound_request& request) const {
        std::vector<std::string> out;
        if (!descriptor_->route_keys) return out;
        std::vector<sb_header> hs;
        for (auto& [k, v] : request.headers) hs.push_back({borrow(k), borrow(v)});
        sb_http_request req{borrow(request.method), borrow(request.path), borrow(request.query),
                            hs.data(), hs.size(), borrow(request.body)};
        sb_sink sink{&out, detail::collect_string};
        sb_error err{};
        sb_status status = descriptor_->route_keys(&req, &sink, &err);
        if (status != SB_OK) throw plugin_call_error("route_keys", {status, err.code, err.message});
        return out;
    }

    // --- clock ---------------------------------------------------------------------------------

    /// What host::now_ms() returns to the plugin: UTC milliseconds since the Unix epoch.
    int64_t now_ms() const { return locked([&] { return state_->now_ms; }); }
    /// Sets the clock (UTC ms). It moves only when told to.
    void set_now_ms(int64_t utc_ms) { locked([&] { state_->now_ms = utc_ms; }); }
    /// Moves the clock forward by `ms` milliseconds (key/value TTLs expire against it).
    void advance_ms(int64_t ms) { locked([&] { state_->now_ms += ms; }); }

    // --- outbound HTTP -------------------------------------------------------------------------

    /// Queues the answer to the next outbound request; queued replies are used first, in order.
    void push_http_reply(http_reply reply) { locked([&] { state_->replies.push_back(std::move(reply)); }); }
    /// Answers every request that finds the queue empty. Called without the host's lock held, with
    /// the request already recorded. Without queue or responder, a request fails like a transport
    /// error (SB_ERR_RETRYABLE) whose message says no reply was scripted.
    void set_http_responder(std::function<http_reply(const outbound_request&)> responder) {
        locked([&] { state_->responder = std::move(responder); });
    }
    /// Every outbound request so far, in order (copied).
    std::vector<outbound_request> http_requests() const { return locked([&] { return state_->requests; }); }

    // --- logs and metrics ----------------------------------------------------------------------

    /// Every log line so far, in order (copied, verbatim).
    std::vector<log_entry> logs() const { return locked([&] { return state_->logs; }); }
    /// Whether some log line contains `fragment` (at `level`, when given). Use it both ways: that
    /// the plugin explains itself, and that a secret or message text never reached a log.
    bool logged(std::string_view fragment, std::optional<sb_log_level> level = std::nullopt) const {
        return locked([&] {
            return std::any_of(state_->logs.begin(), state_->logs.end(), [&](const log_entry& e) {
                return (!level || e.level == *level) && e.text.find(fragment) != std::string::npos;
            });
        });
    }
    /// Every metric_add call so far, in order (copied).
    std::vector<metric_entry> metrics() const { return locked([&] { return state_->metrics; }); }
    /// Sum of the values added to counter `name` (over all tenants, or one when given); 0 when never.
    double metric_total(std::string_view name, std::optional<std::string> tenant = std::nullopt) const {
        return locked([&] {
            double sum = 0;
            for (auto& m : state_->metrics)
                if (m.name == name && (!tenant || m.tenant == *tenant)) sum += m.value;
            return sum;
        });
    }

    /// Forgets recorded requests, logs and metrics (not replies, responder, clock or state).
    void clear_records() {
        locked([&] {
            state_->requests.clear();
            state_->logs.clear();
            state_->metrics.clear();
        });
    }

    // --- per-tenant key/value state ------------------------------------------------------------

    /// The value the plugin of `tenant` would read for `key` now: nullopt when absent or expired.
    std::optional<std::string> kv_get(const std::string& tenant, const std::string& key) const {
        return locked([&]() -> std::optional<std::string> {
            auto it = state_->kv.find({tenant, key});
            if (it == state_->kv.end() || (it->second.expires_at_ms && *it->second.expires_at_ms <= state_->now_ms))
                return std::nullopt;
            return it->second.value;
        });
    }
    /// Seeds state as if the plugin of `tenant` had stored it; ttl_ms <= 0 keeps it forever,
    /// otherwise it expires ttl_ms after the current fake time.
    void kv_put(const std::string& tenant, const std::string& key, std::string value, int64_t ttl_ms = 0) {
        locked([&] {
            std::optional<int64_t> expires;
            if (ttl_ms > 0) expires = state_->now_ms + ttl_ms;
            state_->kv[{tenant, key}] = {std::move(value), expires};
        });
    }

private:
    template <class F>
    auto locked(F&& f) const -> decltype(f()) {
        std::lock_guard lock(state_->mu);
        return f();
    }

    /// Validation and defaults of the host's config check and effective_settings().
    std::vector<std::pair<std::string, std::string>> effective_settings(
        const std::string& tenant, const std::map<std::string, std::string>& given) const {
        const sb_plugin_descriptor& d = *descriptor_;
        std::string declared, problems;
        auto problem = [&](const std::string& p) { problems += (problems.empty() ? "" : "; ") + p; };
        auto spec_of = [&](const std::string& n) -> const sb_setting_spec* {
            for (size_t i = 0; i < d.settings_count; ++i)
                if (d.settings[i].name && n == d.settings[i].name) return &d.settings[i];
            return nullptr;
        };
        for (size_t i = 0; i < d.settings_count; ++i) declared += (i ? ", " : "") + std::string(d.settings[i].name);
        for (auto& [k, v] : given)
            if (!spec_of(k))
                problem("plugin '" + name() + "' has no setting '" + k + "' (it declares: " +
                        (declared.empty() ? "none" : declared) + ")");

        std::vector<std::pair<std::string, std::string>> out;
        for (size_t i = 0; i < d.settings_count; ++i) {
            const sb_setting_spec& spec = d.settings[i];
            auto it = given.find(spec.name);
            std::optional<std::string> value;
            if (it != given.end() && !(it->second.empty() && spec.default_value)) value = it->second;
            else if (spec.default_value) value = spec.default_value;
            if ((spec.flags & SB_SETTING_REQUIRED) && (!value || value->empty())) {
                problem("plugin '" + name() + "' of tenant '" + tenant + "' requires setting '" + spec.name + "' (" +
                        (spec.description ? spec.description : "") + ")");
                continue;
            }
            if (!value) continue;
            std::string shown = (spec.flags & SB_SETTING_SECRET) ? "(secret value hidden)" : "'" + *value + "'";
            auto bad = [&](const char* hint) {
                problem("setting '" + std::string(spec.name) + "' of plugin '" + name() + "' must be " + hint + ", got " +
                        shown);
            };
            if (!value->empty()) {
                if (auto hint = setting_value_problem(spec.type, *value)) bad(hint->c_str());
                else if (spec.type == SB_SETTING_DURATION) value = std::to_string(*parse_duration_ms(*value));
            }
            out.emplace_back(spec.name, *value);
        }
        if (!problems.empty()) throw std::runtime_error(problems);
        return out;
    }

    const sb_plugin_descriptor* descriptor_;
    std::shared_ptr<detail::host_state> state_;
};

} // namespace switchboard::sdk::testing
