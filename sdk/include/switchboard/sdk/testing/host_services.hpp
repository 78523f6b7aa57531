// switchboard/sdk/testing/host_services.hpp — the sb_host_api of the SDK's fake host: the same
// services as the real host (clock, HTTP, key/value state in instance and tenant scope, counters,
// conversation history, contacts, secret registration), kept in memory and recorded for tests.
// Internal to switchboard/sdk/testing.hpp.
#pragma once

#include <switchboard/abi.h>
#include <switchboard/sdk/compat.hpp>
#include <switchboard/sdk/host_rules.hpp>
#include <switchboard/sdk/testing/records.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace switchboard::sdk::testing::detail {

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
    std::map<std::string, double> gauges;  ///< "<tenant>/<name>" -> the last metric_set value
    struct kv_value {
        std::string value;
        std::optional<int64_t> expires_at_ms;
    };
    /// (tenant, namespace, key); the namespace is the instance name, or "@tenant" for SB_KV_TENANT.
    std::map<std::tuple<std::string, std::string, std::string>, kv_value> kv;
    /// (tenant, conversation id) → messages, oldest first: {"direction","text","at_ms","status"}.
    std::map<std::pair<std::string, int64_t>, boost::json::array> history;
    /// (tenant, channel, provider id) → contact in the contact_get shape.
    std::map<std::tuple<std::string, std::string, std::string>, boost::json::object> contacts;
    std::vector<std::string> secrets; ///< registered with register_secret (values of 6+ bytes)

    bool alive(const kv_value& v) const { return !v.expires_at_ms || *v.expires_at_ms > now_ms; }
};

/// The sb_host_api of one instance and what its thunks need.
struct instance_context {
    sb_host_api api{};
    std::shared_ptr<host_state> state;
    std::string tenant;
    std::string instance; ///< instance name (the plugin's name unless created under another)
};

inline instance_context& ctx_of(void* c) { return *static_cast<instance_context*>(c); }

inline std::string kv_namespace(const instance_context& x, uint32_t scope) {
    return switchboard::sdk::kv_namespace(scope, x.instance);
}

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
        outbound_request req{x.tenant, std::string(view(r->method)), std::string(view(r->url)), {},
                             std::string(view(r->body)), r->timeout_ms};
        for (size_t i = 0; i < r->header_count; ++i)
            req.headers.emplace_back(std::string(view(r->headers[i].name)), std::string(view(r->headers[i].value)));
        if (SB_HAS_FIELD(sb_http_client_request, r, flags)) {
            req.connect_timeout_ms = r->connect_timeout_ms;
            req.max_response_bytes = r->max_response_bytes;
            req.refuse_private_addresses = (r->flags & SB_HTTP_REFUSE_PRIVATE_ADDRESSES) != 0;
        }
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
        const uint64_t cap = req.max_response_bytes ? req.max_response_bytes : (16ull << 20);
        if (reply->body.size() > cap) { // as the host: a response over the cap fails the call for good
            fill_error(error, "", "HTTP request refused: the response is larger than " + std::to_string(cap) + " bytes");
            return SB_ERR_FINAL;
        }
        std::vector<sb_header> hs;
        for (auto& [k, v] : reply->headers) hs.push_back({borrow(k), borrow(v)});
        sb_http_client_response response{sizeof(sb_http_client_response), reply->status, hs.data(), hs.size(),
                                         borrow(reply->body)};
        sink->on_response(sink->ctx, &response);
        return SB_OK;
    } catch (const std::exception& e) {
        fill_error(error, "", std::string("fake host: HTTP responder threw: ") + e.what());
        return SB_ERR_RETRYABLE;
    }
}

inline sb_status host_kv_get(void* c, uint32_t scope, sb_str key, const sb_sink* sink, sb_error*) {
    auto& x = ctx_of(c);
    std::optional<std::string> value;
    {
        std::lock_guard lock(x.state->mu);
        auto it = x.state->kv.find({x.tenant, kv_namespace(x, scope), std::string(view(key))});
        if (it != x.state->kv.end() && x.state->alive(it->second)) value = it->second.value;
    }
    if (value) sink->put(sink->ctx, borrow(*value));
    return SB_OK;
}

inline sb_status host_kv_put(void* c, uint32_t scope, sb_str key, sb_str value, int64_t ttl_ms, sb_error*) {
    auto& x = ctx_of(c);
    std::lock_guard lock(x.state->mu);
    std::optional<int64_t> expires;
    if (ttl_ms > 0) expires = x.state->now_ms + ttl_ms;
    x.state->kv[{x.tenant, kv_namespace(x, scope), std::string(view(key))}] = {std::string(view(value)), expires};
    return SB_OK;
}

inline sb_status host_kv_delete(void* c, uint32_t scope, sb_str key, sb_error*) {
    auto& x = ctx_of(c);
    std::lock_guard lock(x.state->mu);
    x.state->kv.erase({x.tenant, kv_namespace(x, scope), std::string(view(key))});
    return SB_OK;
}

inline sb_status host_kv_increment(void* c, uint32_t scope, sb_str key, int64_t delta, int64_t ttl_ms, int64_t* result,
                                   sb_error*) {
    auto& x = ctx_of(c);
    std::lock_guard lock(x.state->mu);
    auto& slot = x.state->kv[{x.tenant, kv_namespace(x, scope), std::string(view(key))}];
    bool fresh = slot.value.empty() || !x.state->alive(slot);
    int64_t v = (fresh ? 0 : kv_counter_value(slot.value)) + delta;
    if (fresh) slot.expires_at_ms = ttl_ms > 0 ? std::optional<int64_t>(x.state->now_ms + ttl_ms) : std::nullopt;
    slot.value = std::to_string(v);
    if (result) *result = v;
    return SB_OK;
}

inline sb_status host_kv_increment_once(void* c, uint32_t scope, sb_str key, int64_t delta, int64_t ttl_ms,
                                        sb_str once_key, int64_t once_ttl_ms, int64_t* result, uint32_t* applied,
                                        sb_error* e) {
    if (view(once_key).empty() || once_ttl_ms <= 0) {
        fill_error(e, "", "kv_increment_once needs a once_key and a once_ttl_ms > 0");
        return SB_ERR_INVALID;
    }
    auto& x = ctx_of(c);
    {
        std::lock_guard lock(x.state->mu);
        auto found = x.state->kv.find({x.tenant, kv_namespace(x, scope), std::string(view(once_key))});
        if (found != x.state->kv.end() && x.state->alive(found->second)) {
            if (result) *result = kv_counter_value(found->second.value);
            if (applied) *applied = 0;
            return SB_OK;
        }
    }
    int64_t v = 0;
    host_kv_increment(c, scope, key, delta, ttl_ms, &v, e);
    std::lock_guard lock(x.state->mu);
    x.state->kv[{x.tenant, kv_namespace(x, scope), std::string(view(once_key))}] = {std::to_string(v),
                                                                                   x.state->now_ms + once_ttl_ms};
    if (result) *result = v;
    if (applied) *applied = 1;
    return SB_OK;
}

inline void host_metric(void* c, sb_str name, double value) {
    auto& x = ctx_of(c);
    std::lock_guard lock(x.state->mu);
    x.state->metrics.push_back({x.tenant, std::string(view(name)), value});
}

inline void host_gauge(void* c, sb_str name, double value) {
    auto& x = ctx_of(c);
    std::lock_guard lock(x.state->mu);
    x.state->gauges[x.tenant + "/" + std::string(view(name))] = value;
}

inline sb_status host_history(void* c, int64_t conversation_id, uint32_t max_messages, uint32_t max_chars,
                              const sb_sink* sink, sb_error*) {
    auto& x = ctx_of(c);
    boost::json::array out;
    {
        std::lock_guard lock(x.state->mu);
        auto it = x.state->history.find({x.tenant, conversation_id});
        if (it != x.state->history.end()) out = it->second;
    }
    size_t limit = max_messages == 0 || max_messages > 500 ? 500 : max_messages;
    if (out.size() > limit) out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(out.size() - limit));
    trim_history(out, max_chars);
    std::string text = boost::json::serialize(out);
    sink->put(sink->ctx, borrow(text));
    return SB_OK;
}

inline sb_status host_contact_get(void* c, sb_str channel, sb_str provider_id, const sb_sink* sink, sb_error*) {
    auto& x = ctx_of(c);
    std::optional<std::string> text;
    {
        std::lock_guard lock(x.state->mu);
        auto it = x.state->contacts.find({x.tenant, std::string(view(channel)), std::string(view(provider_id))});
        if (it != x.state->contacts.end()) text = boost::json::serialize(it->second);
    }
    if (text) sink->put(sink->ctx, borrow(*text));
    return SB_OK;
}

/// A new contact in the contact_get shape.
inline boost::json::object empty_contact(int64_t id) {
    return {{"id", id}, {"name", ""}, {"phone", ""}, {"email", ""}, {"tags", boost::json::array{}},
            {"score", nullptr}, {"attributes", boost::json::object{}}};
}

inline sb_status host_contact_update(void* c, sb_str channel, sb_str provider_id, sb_str patch, sb_error* error) {
    auto& x = ctx_of(c);
    if (channel.size == 0 || provider_id.size == 0) {
        fill_error(error, "", "contact_update needs a channel and a provider id");
        return SB_ERR_INVALID;
    }
    std::lock_guard lock(x.state->mu);
    std::tuple<std::string, std::string, std::string> k{x.tenant, std::string(view(channel)), std::string(view(provider_id))};
    auto it = x.state->contacts.find(k);
    boost::json::object contact = it != x.state->contacts.end() ? it->second
                                                                 : empty_contact(static_cast<int64_t>(x.state->contacts.size()) + 1);
    if (auto problem = merge_contact_patch(contact, view(patch))) {
        fill_error(error, "", *problem);
        return SB_ERR_INVALID;
    }
    x.state->contacts[k] = std::move(contact);
    return SB_OK;
}

inline void host_register_secret(void* c, sb_str secret) {
    auto& x = ctx_of(c);
    if (secret.size < 6) return;
    std::lock_guard lock(x.state->mu);
    x.state->secrets.emplace_back(view(secret));
}

/// Fills the whole sb_host_api of `x`.
inline void fill_api(instance_context& x) {
    x.api.struct_size = sizeof(sb_host_api);
    x.api.ctx = &x;
    x.api.log = host_log;
    x.api.now_ms = host_now;
    x.api.http_request = host_http;
    x.api.kv_get = host_kv_get;
    x.api.kv_put = host_kv_put;
    x.api.kv_delete = host_kv_delete;
    x.api.kv_increment = host_kv_increment;
    x.api.kv_increment_once = host_kv_increment_once;
    x.api.metric_add = host_metric;
    x.api.conversation_history = host_history;
    x.api.contact_get = host_contact_get;
    x.api.contact_update = host_contact_update;
    x.api.register_secret = host_register_secret;
    x.api.metric_set = host_gauge;
}

inline sb_status collect_string(void* c, sb_str s) {
    static_cast<std::vector<std::string>*>(c)->emplace_back(view(s));
    return SB_OK;
}

}  // namespace switchboard::sdk::testing::detail
