// switchboard/sdk/plugin.hpp — the header-only C++ layer a plugin author writes against.
//
// It compiles into the plugin and turns the C ABI of <switchboard/abi.h> into classes,
// std::string, Boost.JSON and exceptions on the plugin's side of the boundary. Every thunk the
// descriptor exports catches everything and reports it as an sb_status plus message, so no
// exception ever reaches the host.
//
// A plugin is:
//   class my_instance : public switchboard::sdk::instance { ... };      // one per tenant
//   const switchboard::sdk::plugin_info my_info{.name = "my", ...};
//   SWITCHBOARD_PLUGIN(my_instance, my_info)
#pragma once

#include <switchboard/abi.h>
#include <switchboard/sdk/compat.hpp>
#include <switchboard/sdk/events.hpp>

#include <boost/dll/alias.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::sdk {

/// How the host should treat a failure. Thrown as plugin_error from any instance method.
enum class error_kind {
    retryable,  ///< try again later with backoff (timeouts, 429, 5xx)
    final,      ///< do not retry; the job becomes a dead letter with this message
    invalid     ///< bad input or settings; final
};

/// The exception a plugin throws to report a classified failure. Any other exception is
/// reported as error_kind::final with its what().
class plugin_error : public std::runtime_error {
public:
    /// @param kind  retry classification
    /// @param message  human-readable reason (no secrets, no message text)
    /// @param code  provider error code when there is one (e.g. Graph error code "100"), else ""
    plugin_error(error_kind kind, const std::string& message, std::string code = {})
        : std::runtime_error(message), kind_(kind), code_(std::move(code)) {}
    error_kind kind() const noexcept { return kind_; }
    const std::string& code() const noexcept { return code_; }

private:
    error_kind kind_;
    std::string code_;
};

/// Case-insensitive ASCII comparison, for header names.
inline bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x | 0x20) == (y | 0x20) || x == y;
           });
}

/// Percent-decodes a query component ('+' becomes a space, as in HTML forms).
inline std::string url_decode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%' && i + 2 < in.size()) {
            auto hex = [](char h) -> int {
                if (h >= '0' && h <= '9') return h - '0';
                if (h >= 'a' && h <= 'f') return h - 'a' + 10;
                if (h >= 'A' && h <= 'F') return h - 'A' + 10;
                return -1;
            };
            int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
            if (hi < 0 || lo < 0) {
                out.push_back(c);
            } else {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
            }
        } else {
            out.push_back(c);
        }
    }
    return out;
}

/// A read-only view of an inbound webhook request. Valid only during the call that received it.
class request {
public:
    explicit request(const sb_http_request& r) : r_(r) {}
    std::string_view method() const { return view(r_.method); }
    std::string_view path() const { return view(r_.path); }
    std::string_view raw_query() const { return view(r_.query); }
    /// The raw body bytes exactly as received.
    std::string_view body() const { return view(r_.body); }
    /// First header with this name (case-insensitive), or nullopt.
    std::optional<std::string_view> header(std::string_view name) const {
        for (size_t i = 0; i < r_.header_count; ++i)
            if (iequals(view(r_.headers[i].name), name)) return view(r_.headers[i].value);
        return std::nullopt;
    }
    /// First query parameter with this (decoded) name, decoded; nullopt when absent.
    std::optional<std::string> query_param(std::string_view name) const {
        std::string_view q = raw_query();
        while (!q.empty()) {
            auto amp = q.find('&');
            std::string_view pair = q.substr(0, amp);
            q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
            auto eq = pair.find('=');
            if (url_decode(pair.substr(0, eq)) == name)
                return eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1));
        }
        return std::nullopt;
    }
    const sb_http_request& c_struct() const { return r_; }

private:
    const sb_http_request& r_;
};

/// Response of an outbound HTTP call made through host::http().
struct http_response {
    int status = 0;                                          ///< HTTP status code
    std::vector<std::pair<std::string, std::string>> headers; ///< as received
    std::string body;                                        ///< raw body
};

/// An outbound HTTP request for host::http().
struct http_call {
    std::string method = "POST";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    unsigned timeout_ms = 0; ///< 0 = the host default (delivery.http_timeout in config)
};

/// The services of the host, for one plugin instance. Cheap to copy; valid until the instance dies.
class host {
public:
    host() = default;
    explicit host(const sb_host_api* api) : api_(api) {}

    void log(sb_log_level level, std::string_view message) const {
        if (api_ && api_->log) api_->log(api_->ctx, level, borrow(message));
    }
    void debug(std::string_view m) const { log(SB_LOG_DEBUG, m); }
    void info(std::string_view m) const { log(SB_LOG_INFO, m); }
    void warn(std::string_view m) const { log(SB_LOG_WARN, m); }
    void error(std::string_view m) const { log(SB_LOG_ERROR, m); }

    /// UTC milliseconds since the Unix epoch, from the host's (injectable) clock.
    int64_t now_ms() const { return api_ && api_->now_ms ? api_->now_ms(api_->ctx) : 0; }

    /// Performs an HTTP request through the host's client.
    /// @returns the response, whatever its status.
    /// @throws plugin_error(retryable) on timeout or connection failure, (invalid) on a bad URL.
    http_response http(const http_call& call) const {
        if (!api_ || !api_->http_request) throw plugin_error(error_kind::final, "host offers no HTTP client");
        std::vector<sb_header> hs;
        hs.reserve(call.headers.size());
        for (auto& [k, v] : call.headers) hs.push_back({borrow(k), borrow(v)});
        sb_http_client_request req{borrow(call.method), borrow(call.url), hs.data(), hs.size(), borrow(call.body),
                                   call.timeout_ms};
        http_response out;
        sb_http_client_response_sink sink{&out, [](void* ctx, int32_t status, const sb_header* h, size_t n, sb_str body) {
                                              auto* r = static_cast<http_response*>(ctx);
                                              r->status = status;
                                              for (size_t i = 0; i < n; ++i)
                                                  r->headers.emplace_back(std::string(view(h[i].name)),
                                                                          std::string(view(h[i].value)));
                                              r->body.assign(view(body));
                                          }};
        sb_error err{};
        sb_status st = api_->http_request(api_->ctx, &req, &sink, &err);
        if (st != SB_OK)
            throw plugin_error(st == SB_ERR_RETRYABLE ? error_kind::retryable : error_kind::invalid, err.message,
                               err.code);
        return out;
    }

    /// Reads per-tenant state; nullopt when absent or expired.
    std::optional<std::string> kv_get(std::string_view key) const {
        if (!api_ || !api_->kv_get) return std::nullopt;
        std::optional<std::string> out;
        sb_sink sink{&out, [](void* ctx, sb_str v) { *static_cast<std::optional<std::string>*>(ctx) = std::string(view(v)); }};
        sb_error err{};
        if (api_->kv_get(api_->ctx, borrow(key), &sink, &err) != SB_OK)
            throw plugin_error(error_kind::retryable, err.message);
        return out;
    }
    /// Writes per-tenant state; ttl_ms <= 0 keeps it forever. @throws plugin_error(retryable) on storage failure.
    void kv_put(std::string_view key, std::string_view value, int64_t ttl_ms = 0) const {
        if (!api_ || !api_->kv_put) return;
        sb_error err{};
        if (api_->kv_put(api_->ctx, borrow(key), borrow(value), ttl_ms, &err) != SB_OK)
            throw plugin_error(error_kind::retryable, err.message);
    }
    /// Adds to a plugin counter shown in /metrics.
    void metric(std::string_view name, double value = 1) const {
        if (api_ && api_->metric_add) api_->metric_add(api_->ctx, borrow(name), value);
    }

private:
    const sb_host_api* api_ = nullptr;
};

/// A tenant's validated settings for this plugin (defaults applied by the host).
class settings {
public:
    settings() = default;
    explicit settings(const sb_instance_config& c) : tenant_(view(c.tenant)) {
        for (size_t i = 0; i < c.settings_count; ++i)
            values_.emplace_back(std::string(view(c.settings[i].name)), std::string(view(c.settings[i].value)));
    }
    /// Adds or replaces a value (for tests and fake hosts).
    void set(std::string name, std::string value) {
        for (auto& [k, v] : values_)
            if (k == name) { v = std::move(value); return; }
        values_.emplace_back(std::move(name), std::move(value));
    }
    const std::string& tenant() const { return tenant_; }
    bool has(std::string_view name) const { return find(name) != nullptr; }
    /// The value, or `fallback` when unset.
    std::string string(std::string_view name, std::string fallback = {}) const {
        auto* v = find(name);
        return v ? *v : std::move(fallback);
    }
    /// Integer (also durations, in ms). @throws plugin_error(invalid) when not a number.
    int64_t integer(std::string_view name, int64_t fallback = 0) const {
        auto* v = find(name);
        if (!v || v->empty()) return fallback;
        try {
            size_t pos = 0;
            long long r = std::stoll(*v, &pos);
            if (pos == v->size()) return r;
        } catch (...) {
        }
        throw plugin_error(error_kind::invalid, "setting '" + std::string(name) + "' is not an integer");
    }
    bool boolean(std::string_view name, bool fallback = false) const {
        auto* v = find(name);
        if (!v || v->empty()) return fallback;
        return *v == "true";
    }

private:
    const std::string* find(std::string_view name) const {
        for (auto& [k, v] : values_)
            if (k == name) return &v;
        return nullptr;
    }
    std::string tenant_;
    std::vector<std::pair<std::string, std::string>> values_;
};

/// What a webhook handler reports back: a response and normalized events.
class webhook_result {
public:
    explicit webhook_result(const sb_webhook_sink* sink) : sink_(sink) {}
    /// Sets the HTTP response (status, body). Call at most once; without it the host answers 200.
    void respond(int status, std::string_view body = {}, std::string_view content_type = "text/plain") {
        sink_->respond(sink_->ctx, status, borrow(content_type), borrow(body));
    }
    /// Emits one normalized event (see events.hpp). Events are committed before the host acknowledges.
    void emit(const boost::json::object& event) {
        std::string s = boost::json::serialize(event);
        sink_->emit(sink_->ctx, borrow(s));
    }

private:
    const sb_webhook_sink* sink_;
};

/// Receives events and commands emitted by a stage.
class emitter {
public:
    explicit emitter(const sb_sink* sink) : sink_(sink) {}
    void emit(const boost::json::object& event_or_command) {
        std::string s = boost::json::serialize(event_or_command);
        sink_->put(sink_->ctx, borrow(s));
    }

private:
    const sb_sink* sink_;
};

/// Base class of a plugin instance: one per tenant that enables the plugin. Methods run on host
/// worker threads, possibly concurrently; never start threads of your own.
class instance {
public:
    virtual ~instance() = default;
    /// Provider account ids this tenant owns (page id...), for routing `POST /webhooks/{plugin}`.
    virtual std::vector<std::string> account_ids() const { return {}; }
    /// Verifies and normalizes a webhook. Throwing answers 500 and stores nothing.
    virtual void handle_webhook(const request&, webhook_result&) {
        throw plugin_error(error_kind::final, "this plugin does not receive webhooks");
    }
    /// Executes a command (message.send, ...). @returns a JSON result, e.g. {"provider_message_id": ...}.
    virtual boost::json::object execute(const boost::json::object& command) {
        throw plugin_error(error_kind::final, "this plugin executes no command '" +
                                                  std::string(command.contains("type") ? command.at("type").as_string().c_str() : "") + "'");
    }
    /// Runs a stage (named without the plugin prefix) on an event; emits events and commands.
    virtual void run_stage(std::string_view stage, const boost::json::object&, emitter&) {
        throw plugin_error(error_kind::final, "unknown stage '" + std::string(stage) + "'");
    }
};

/// Static metadata of a plugin, turned into the C descriptor by SWITCHBOARD_PLUGIN.
struct plugin_info {
    const char* name = "";
    const char* version = "0.0.0";
    const char* license = "Apache-2.0";
    const char* description = "";
    uint32_t capabilities = 0;
    const sb_setting_spec* settings = nullptr;
    size_t settings_count = 0;
    const char* const* stages = nullptr;
    size_t stages_count = 0;
    /// Optional: provider account ids in an unverified inbound request (see sb_plugin_descriptor.route_keys).
    std::vector<std::string> (*route_keys)(const request&) = nullptr;
};

namespace detail {

inline sb_status status_of(error_kind k) {
    switch (k) {
    case error_kind::retryable: return SB_ERR_RETRYABLE;
    case error_kind::invalid: return SB_ERR_INVALID;
    default: return SB_ERR_FINAL;
    }
}

/// Runs `f` and converts any exception into an sb_status and message.
template <class F>
sb_status guarded(sb_error* err, F&& f) noexcept {
    try {
        f();
        return SB_OK;
    } catch (const plugin_error& e) {
        fill_error(err, e.code(), e.what());
        return status_of(e.kind());
    } catch (const std::exception& e) {
        fill_error(err, "", e.what());
        return SB_ERR_FINAL;
    } catch (...) {
        fill_error(err, "", "unknown exception");
        return SB_ERR_FINAL;
    }
}

/// Holds the host services next to the user's instance so they outlive it.
template <class Instance>
struct holder {
    host services;
    std::unique_ptr<Instance> impl;
};

/// Parses a JSON object handed over by the host. @throws plugin_error(invalid) when it is not one.
inline boost::json::object parse_object(sb_str s) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(view(s), ec);
    if (ec) throw plugin_error(error_kind::invalid, "expected a JSON object: " + ec.message());
    if (!v.is_object()) throw plugin_error(error_kind::invalid, "expected a JSON object");
    return std::move(v.as_object());
}

template <class Instance>
sb_plugin_descriptor make_descriptor(const plugin_info& info) {
    using H = holder<Instance>;
    sb_plugin_descriptor d{};
    d.struct_size = sizeof(sb_plugin_descriptor);
    d.abi_major = SB_ABI_MAJOR;
    d.abi_minor = SB_ABI_MINOR;
    d.name = info.name;
    d.version = info.version;
    d.license = info.license;
    d.description = info.description;
    d.capabilities = info.capabilities;
    d.settings = info.settings;
    d.settings_count = info.settings_count;
    d.stages = info.stages;
    d.stages_count = info.stages_count;
    d.create = [](const sb_host_api* api, const sb_instance_config* cfg, void** out, sb_error* err) -> sb_status {
        return guarded(err, [&] {
            auto h = std::make_unique<H>();
            h->services = host(api);
            h->impl = std::make_unique<Instance>(h->services, settings(*cfg));
            *out = h.release();
        });
    };
    d.destroy = [](void* p) { delete static_cast<H*>(p); };
    d.account_ids = [](void* p, const sb_sink* sink, sb_error* err) -> sb_status {
        return guarded(err, [&] {
            for (auto& id : static_cast<H*>(p)->impl->account_ids()) sink->put(sink->ctx, borrow(id));
        });
    };
    if (info.route_keys) {
        // Plugin-static: stash the function in a function-local static keyed by Instance.
        static std::vector<std::string> (*keys_fn)(const request&) = nullptr;
        keys_fn = info.route_keys;
        d.route_keys = [](const sb_http_request* r, const sb_sink* sink, sb_error* err) -> sb_status {
            return guarded(err, [&] {
                for (auto& k : keys_fn(request(*r))) sink->put(sink->ctx, borrow(k));
            });
        };
    }
    d.handle_webhook = [](void* p, const sb_http_request* r, const sb_webhook_sink* sink, sb_error* err) -> sb_status {
        return guarded(err, [&] {
            webhook_result out(sink);
            static_cast<H*>(p)->impl->handle_webhook(request(*r), out);
        });
    };
    d.execute = [](void* p, sb_str command, const sb_sink* sink, sb_error* err) -> sb_status {
        return guarded(err, [&] {
            auto result = static_cast<H*>(p)->impl->execute(parse_object(command));
            std::string s = boost::json::serialize(result);
            sink->put(sink->ctx, borrow(s));
        });
    };
    d.run_stage = [](void* p, sb_str stage, sb_str event, const sb_sink* sink, sb_error* err) -> sb_status {
        return guarded(err, [&] {
            emitter out(sink);
            static_cast<H*>(p)->impl->run_stage(view(stage), parse_object(event), out);
        });
    };
    return d;
}

}  // namespace detail
}  // namespace switchboard::sdk

/// Declares the plugin: INSTANCE is a class derived from switchboard::sdk::instance with a
/// constructor INSTANCE(const switchboard::sdk::host&, const switchboard::sdk::settings&) that
/// throws plugin_error(invalid) on bad settings; INFO names a namespace-scope const plugin_info.
/// Exports the one symbol the host looks for (SB_PLUGIN_EXPORT_NAME) through Boost.DLL.
#define SWITCHBOARD_PLUGIN(INSTANCE, INFO)                                                                  \
    namespace {                                                                                             \
    const sb_plugin_descriptor* switchboard_plugin_entry() {                                                \
        static const sb_plugin_descriptor descriptor =                                                      \
            ::switchboard::sdk::detail::make_descriptor<INSTANCE>(INFO);                                    \
        return &descriptor;                                                                                 \
    }                                                                                                       \
    }                                                                                                       \
    BOOST_DLL_ALIAS(switchboard_plugin_entry, switchboard_plugin_v1)
