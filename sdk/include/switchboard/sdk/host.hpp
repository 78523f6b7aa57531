// switchboard/sdk/host.hpp — the C++ view of the host services a plugin instance gets
// (sb_host_api): logging, the clock, the HTTP client, key/value state, counters, conversation
// history, contacts and secret registration, plus the plugin_error every SDK call throws.
// Header-only; part of the C++ layer of <switchboard/sdk/plugin.hpp>.
#pragma once

#include <switchboard/abi.h>
#include <switchboard/sdk/compat.hpp>

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::sdk {

/// How the host should treat a failure. Thrown as plugin_error from any instance method.
enum class error_kind {
    retryable,   ///< try again later with backoff (timeouts, 429, 5xx)
    final,       ///< do not retry; the job becomes a dead letter with this message
    invalid,     ///< bad input or settings; final
    retry_after  ///< not a failure: run again after retry_after_ms() without counting an attempt
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
    /// A deferral (SB_ERR_RETRY_AFTER): the host runs the call again after `ms` milliseconds (0 = its
    /// backoff) and does not count an attempt. E.g. a 429 with "Retry-After: 30" → retry_after(30000, ...).
    static plugin_error retry_after(int64_t ms, const std::string& message, std::string code = {}) {
        plugin_error e(error_kind::retry_after, message, std::move(code));
        e.retry_after_ms_ = ms < 0 ? 0 : ms;
        return e;
    }
    error_kind kind() const noexcept { return kind_; }
    const std::string& code() const noexcept { return code_; }
    /// Milliseconds to wait before the next try, for error_kind::retry_after; 0 otherwise.
    int64_t retry_after_ms() const noexcept { return retry_after_ms_; }

private:
    error_kind kind_;
    std::string code_;
    int64_t retry_after_ms_ = 0;
};

/// Response of an outbound HTTP call made through host::http().
struct http_response {
    int status = 0;                                          ///< HTTP status code
    std::vector<std::pair<std::string, std::string>> headers; ///< as received
    std::string body;                                        ///< raw body

    /// The first header named `name` (ASCII case-insensitive), or nullopt.
    std::optional<std::string_view> header(std::string_view name) const {
        for (auto& [k, v] : headers) {
            if (k.size() != name.size()) continue;
            bool same = true;
            for (size_t i = 0; i < k.size() && same; ++i)
                same = (k[i] | 0x20) == (name[i] | 0x20);
            if (same) return std::string_view(v);
        }
        return std::nullopt;
    }

    /// Retry-After given in seconds (RFC 9110 §10.2.3 delay-seconds), in milliseconds, capped at
    /// 24 h; 0 when absent, an HTTP-date, or not a number.
    int64_t retry_after_ms() const {
        auto v = header("Retry-After");
        if (!v || v->empty() || v->size() > 9) return 0;
        int64_t seconds = 0;
        for (char c : *v) {
            if (c < '0' || c > '9') return 0;
            seconds = seconds * 10 + (c - '0');
        }
        return seconds > 86'400 ? 86'400'000 : seconds * 1000;
    }
};

/// An outbound HTTP request for host::http().
struct http_call {
    std::string method = "POST";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    unsigned timeout_ms = 0;          ///< whole request, ms; 0 = the host default (delivery.http_timeout)
    unsigned connect_timeout_ms = 0;  ///< TCP+TLS connect, ms; 0 = the host default (5000)
    uint64_t max_response_bytes = 0;  ///< larger responses fail with plugin_error(final); 0 = 16 MiB
    bool refuse_private_addresses = false; ///< for customer-supplied URLs: no loopback/private/link-local targets
};

/// Namespaces of host::kv_*: the instance's own keys, or keys every plugin of the tenant shares.
enum class kv_scope : uint32_t { instance = SB_KV_INSTANCE, tenant = SB_KV_TENANT };

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
        sb_http_client_request req{};
        req.struct_size = sizeof req;
        req.method = borrow(call.method);
        req.url = borrow(call.url);
        req.headers = hs.data();
        req.header_count = hs.size();
        req.body = borrow(call.body);
        req.timeout_ms = call.timeout_ms;
        req.connect_timeout_ms = call.connect_timeout_ms;
        req.max_response_bytes = call.max_response_bytes;
        req.flags = call.refuse_private_addresses ? static_cast<uint32_t>(SB_HTTP_REFUSE_PRIVATE_ADDRESSES) : 0u;
        http_response out;
        sb_http_client_response_sink sink{sizeof(sb_http_client_response_sink), &out,
                                          [](void* ctx, const sb_http_client_response* r) {
                                              auto* o = static_cast<http_response*>(ctx);
                                              o->status = r->status;
                                              for (size_t i = 0; i < r->header_count; ++i)
                                                  o->headers.emplace_back(std::string(view(r->headers[i].name)),
                                                                          std::string(view(r->headers[i].value)));
                                              o->body.assign(view(r->body));
                                          }};
        sb_error err = make_error();
        sb_status st = api_->http_request(api_->ctx, &req, &sink, &err);
        if (st != SB_OK)
            throw plugin_error(st == SB_ERR_RETRYABLE ? error_kind::retryable
                               : st == SB_ERR_INVALID ? error_kind::invalid
                                                      : error_kind::final,
                               err.message, err.code);
        return out;
    }

    /// Reads durable state; nullopt when absent or expired. @throws plugin_error(retryable) on storage failure.
    std::optional<std::string> kv_get(std::string_view key, kv_scope scope = kv_scope::instance) const {
        if (!has(offsetof(sb_host_api, kv_get), api_ ? api_->kv_get : nullptr)) return std::nullopt;
        std::optional<std::string> out;
        sb_sink sink{sizeof(sb_sink), &out, [](void* ctx, sb_str v) {
                         *static_cast<std::optional<std::string>*>(ctx) = std::string(view(v));
                         return SB_OK;
                     }};
        sb_error err = make_error();
        check(err, api_->kv_get(api_->ctx, static_cast<uint32_t>(scope), borrow(key), &sink, &err));
        return out;
    }
    /// Writes durable state; ttl_ms <= 0 keeps it forever. @throws plugin_error(retryable) on storage failure.
    void kv_put(std::string_view key, std::string_view value, int64_t ttl_ms = 0, kv_scope scope = kv_scope::instance) const {
        require(offsetof(sb_host_api, kv_put), api_ ? api_->kv_put : nullptr, "kv_put");
        sb_error err = make_error();
        check(err, api_->kv_put(api_->ctx, static_cast<uint32_t>(scope), borrow(key), borrow(value), ttl_ms, &err));
    }
    /// Removes a key (nothing happens when it is absent). @throws plugin_error(retryable) on storage failure.
    void kv_delete(std::string_view key, kv_scope scope = kv_scope::instance) const {
        require(offsetof(sb_host_api, kv_delete), api_ ? api_->kv_delete : nullptr, "kv_delete");
        sb_error err = make_error();
        check(err, api_->kv_delete(api_->ctx, static_cast<uint32_t>(scope), borrow(key), &err));
    }
    /// Atomically adds `delta` to the counter at `key` (absent or expired = 0) and returns the new
    /// value. `ttl_ms` > 0 starts an expiry when the key is created (a daily quota: ms to midnight).
    /// @throws plugin_error(retryable) on storage failure.
    int64_t kv_increment(std::string_view key, int64_t delta = 1, int64_t ttl_ms = 0,
                         kv_scope scope = kv_scope::instance) const {
        require(offsetof(sb_host_api, kv_increment), api_ ? api_->kv_increment : nullptr, "kv_increment");
        int64_t result = 0;
        sb_error err = make_error();
        check(err, api_->kv_increment(api_->ctx, static_cast<uint32_t>(scope), borrow(key), delta, ttl_ms, &result, &err));
        return result;
    }
    /// What kv_increment_once did.
    struct once_increment {
        int64_t value = 0;     ///< the counter right after this once_key's increment (now or earlier)
        bool applied = false;  ///< true when this call added the delta, false when once_key had already
    };
    /// (ABI 2.2) Adds `delta` to the counter at `key` unless `once_key` was used before (within
    /// `once_ttl_ms` ms, > 0), atomically; see sb_host_api.kv_increment_once. Use the call's
    /// idempotency key in `once_key` so a re-run stage does not count twice.
    /// @throws plugin_error(retryable) on storage failure, (final) from a host older than ABI 2.2.
    once_increment kv_increment_once(std::string_view key, int64_t delta, std::string_view once_key,
                                     int64_t once_ttl_ms = 7LL * 86'400'000, int64_t ttl_ms = 0,
                                     kv_scope scope = kv_scope::instance) const {
        require(offsetof(sb_host_api, kv_increment_once), api_ ? api_->kv_increment_once : nullptr, "kv_increment_once");
        once_increment out;
        uint32_t applied = 0;
        sb_error err = make_error();
        check(err, api_->kv_increment_once(api_->ctx, static_cast<uint32_t>(scope), borrow(key), delta, ttl_ms,
                                           borrow(once_key), once_ttl_ms, &out.value, &applied, &err));
        out.applied = applied != 0;
        return out;
    }
    /// Adds to a plugin counter shown in /metrics.
    void metric(std::string_view name, double value = 1) const {
        if (has(offsetof(sb_host_api, metric_add), api_ ? api_->metric_add : nullptr))
            api_->metric_add(api_->ctx, borrow(name), value);
    }
    /// The recent messages of a conversation, oldest first (newest last): a JSON array of
    /// {"direction":"in"|"out","text","at_ms","status"}, at most `max_messages` and, from the newest,
    /// `max_chars` characters of text (0 = no limit). @throws plugin_error(retryable) on storage failure.
    boost::json::array conversation_history(int64_t conversation_id, unsigned max_messages = 20,
                                            unsigned max_chars = 0) const {
        require(offsetof(sb_host_api, conversation_history), api_ ? api_->conversation_history : nullptr,
                "conversation_history");
        std::string text;
        sb_sink sink{sizeof(sb_sink), &text, [](void* ctx, sb_str v) {
                         static_cast<std::string*>(ctx)->assign(view(v));
                         return SB_OK;
                     }};
        sb_error err = make_error();
        check(err, api_->conversation_history(api_->ctx, conversation_id, max_messages, max_chars, &sink, &err));
        boost::system::error_code ec;
        auto v = boost::json::parse(text.empty() ? "[]" : text, ec);
        return !ec && v.is_array() ? std::move(v.as_array()) : boost::json::array{};
    }
    /// The contact known on `channel` by `provider_id`: {"id","name","phone","email","tags","score",
    /// "attributes"}, or nullopt when unknown. @throws plugin_error(retryable) on storage failure.
    std::optional<boost::json::object> contact(std::string_view channel, std::string_view provider_id) const {
        require(offsetof(sb_host_api, contact_get), api_ ? api_->contact_get : nullptr, "contact_get");
        std::optional<std::string> text;
        sb_sink sink{sizeof(sb_sink), &text, [](void* ctx, sb_str v) {
                         *static_cast<std::optional<std::string>*>(ctx) = std::string(view(v));
                         return SB_OK;
                     }};
        sb_error err = make_error();
        check(err, api_->contact_get(api_->ctx, borrow(channel), borrow(provider_id), &sink, &err));
        if (!text) return std::nullopt;
        boost::system::error_code ec;
        auto v = boost::json::parse(*text, ec);
        if (ec || !v.is_object()) return std::nullopt;
        return std::move(v.as_object());
    }
    /// Merges `patch` (any of name, phone, email, tags, score, attributes) into the contact, creating it
    /// when unknown. @throws plugin_error(invalid) on a malformed patch, (retryable) on storage failure.
    void update_contact(std::string_view channel, std::string_view provider_id, const boost::json::object& patch) const {
        require(offsetof(sb_host_api, contact_update), api_ ? api_->contact_update : nullptr, "contact_update");
        std::string text = boost::json::serialize(patch);
        sb_error err = make_error();
        check(err, api_->contact_update(api_->ctx, borrow(channel), borrow(provider_id), borrow(text), &err));
    }
    /// Sets a plugin gauge shown in /metrics as switchboard_plugin_<name>{tenant,plugin} (ABI 2.1;
    /// a no-op on a 2.0 host).
    void gauge(std::string_view name, double value) const {
        if (has(offsetof(sb_host_api, metric_set), api_ ? api_->metric_set : nullptr))
            api_->metric_set(api_->ctx, borrow(name), value);
    }
    /// Registers a secret obtained at run time (an access token) so the host redacts it from logs.
    void register_secret(std::string_view secret) const {
        if (has(offsetof(sb_host_api, register_secret), api_ ? api_->register_secret : nullptr))
            api_->register_secret(api_->ctx, borrow(secret));
    }

private:
    /// True when the host's table reaches the field at `offset` and the function is set.
    template <class Fn>
    bool has(size_t offset, Fn fn) const {
        return api_ && api_->struct_size >= offset + sizeof(void*) && fn != nullptr;
    }
    template <class Fn>
    void require(size_t offset, Fn fn, const char* what) const {
        if (!has(offset, fn)) throw plugin_error(error_kind::final, std::string("the host offers no ") + what);
    }
    static void check(const sb_error& e, sb_status st) {
        if (st == SB_OK) return;
        throw plugin_error(st == SB_ERR_INVALID ? error_kind::invalid : error_kind::retryable, e.message, e.code);
    }
    const sb_host_api* api_ = nullptr;
};

}  // namespace switchboard::sdk
