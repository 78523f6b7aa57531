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
#include <switchboard/sdk/codec.hpp>
#include <switchboard/sdk/compat.hpp>
#include <switchboard/sdk/events.hpp>
#include <switchboard/sdk/host.hpp>

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

/// True when `o["type"]` is the string `type`: compares the SDK's events:: constants with JSON.
inline bool has_type(const boost::json::object& o, std::string_view type) {
    auto* v = o.if_contains("type");
    return v && v->is_string() && v->get_string() == type;
}

/// The string at `key` when it is a non-empty string, else nullptr.
inline const boost::json::string* string_field(const boost::json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v && v->is_string() && !v->get_string().empty() ? &v->get_string() : nullptr;
}

/// Milliseconds from `now_ms` (UTC ms) to the next UTC midnight: the TTL of a daily quota counter.
inline int64_t ms_until_utc_midnight(int64_t now_ms) {
    constexpr int64_t day = 86'400'000;
    return day - ((now_ms % day) + day) % day;
}

/// Percent-decodes a query component ('+' becomes a space, as in HTML forms).
inline std::string url_decode(std::string_view in) { return codec::form_unescape(in); }

/// A read-only view of an inbound webhook request. Valid only during the call that received it.
class request {
public:
    explicit request(const sb_http_request& r) : r_(r) {}
    /// "GET", "POST" or "OPTIONS".
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
    /// The URL the provider called (server.public_url + path and query as received): what Twilio
    /// signs. Empty when server.public_url is not configured.
    std::string_view public_url() const { return SB_HAS_FIELD(sb_http_request, &r_, public_url) ? view(r_.public_url) : ""; }
    /// The TCP peer's address without port ("203.0.113.7").
    std::string_view peer_address() const {
        return SB_HAS_FIELD(sb_http_request, &r_, peer_address) ? view(r_.peer_address) : "";
    }
    /// The Content-Type header's value, "" when absent.
    std::string_view content_type() const {
        return SB_HAS_FIELD(sb_http_request, &r_, content_type) ? view(r_.content_type) : "";
    }
    /// The instance name the URL addressed ("staff-bot"); "" when routed by account id.
    std::string_view instance_name() const {
        return SB_HAS_FIELD(sb_http_request, &r_, instance) ? view(r_.instance) : "";
    }
    const sb_http_request& c_struct() const { return r_; }

private:
    const sb_http_request& r_;
};

/// A tenant's validated settings for this plugin (defaults applied by the host).
class settings {
public:
    settings() = default;
    explicit settings(const sb_instance_config& c) : tenant_(view(c.tenant)) {
        if (SB_HAS_FIELD(sb_instance_config, &c, instance)) instance_ = std::string(view(c.instance));
        if (SB_HAS_FIELD(sb_instance_config, &c, webhook_url)) webhook_url_ = std::string(view(c.webhook_url));
        for (size_t i = 0; i < c.settings_count; ++i)
            values_.emplace_back(std::string(view(c.settings[i].name)), std::string(view(c.settings[i].value)));
    }
    /// Sets the instance name and public webhook URL (for tests and fake hosts).
    void set_instance(std::string name, std::string webhook_url = {}) {
        instance_ = std::move(name);
        webhook_url_ = std::move(webhook_url);
    }
    /// Adds or replaces a value (for tests and fake hosts).
    void set(std::string name, std::string value) {
        for (auto& [k, v] : values_)
            if (k == name) { v = std::move(value); return; }
        values_.emplace_back(std::move(name), std::move(value));
    }
    const std::string& tenant() const { return tenant_; }
    /// The instance name: the plugin's name, or the key of a `use:` entry ("staff-bot").
    const std::string& instance_name() const { return instance_; }
    /// This instance's webhook URL under server.public_url ("" when that is not configured).
    const std::string& webhook_url() const { return webhook_url_; }
    bool has(std::string_view name) const { return find(name) != nullptr; }
    /// The value, or `fallback` when unset.
    std::string string(std::string_view name, std::string fallback = {}) const {
        auto* v = find(name);
        return v ? *v : std::move(fallback);
    }
    /// A base URL setting (an API endpoint), without trailing '/', or `fallback` when unset.
    /// @throws plugin_error(invalid) when it does not start with http:// or https://.
    std::string base_url(std::string_view name, std::string fallback = {}) const {
        std::string url = string(name, std::move(fallback));
        if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
            throw plugin_error(error_kind::invalid, std::string(name) + " must start with http:// or https://");
        while (!url.empty() && url.back() == '/') url.pop_back();
        return url;
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
    /// A float setting. @throws plugin_error(invalid) when not a number.
    double number(std::string_view name, double fallback = 0) const {
        auto* v = find(name);
        if (!v || v->empty()) return fallback;
        char* end = nullptr;
        double d = std::strtod(v->c_str(), &end);
        if (end && *end == '\0') return d;
        throw plugin_error(error_kind::invalid, "setting '" + std::string(name) + "' is not a number");
    }
    /// A list setting's items (empty when unset). @throws plugin_error(invalid) when not a list of strings.
    std::vector<std::string> list(std::string_view name) const {
        std::vector<std::string> out;
        auto v = parsed(name);
        if (v.is_null()) return out;
        if (!v.is_array()) throw plugin_error(error_kind::invalid, "setting '" + std::string(name) + "' is not a list");
        for (auto& item : v.as_array()) {
            if (!item.is_string()) throw plugin_error(error_kind::invalid, "setting '" + std::string(name) + "' is not a list of strings");
            out.emplace_back(item.as_string());
        }
        return out;
    }
    /// A map setting's entries (empty when unset). @throws plugin_error(invalid) when not a map of strings.
    std::vector<std::pair<std::string, std::string>> map(std::string_view name) const {
        std::vector<std::pair<std::string, std::string>> out;
        auto v = parsed(name);
        if (v.is_null()) return out;
        if (!v.is_object()) throw plugin_error(error_kind::invalid, "setting '" + std::string(name) + "' is not a map");
        for (auto& [k, item] : v.as_object()) {
            if (!item.is_string()) throw plugin_error(error_kind::invalid, "setting '" + std::string(name) + "' is not a map of strings");
            out.emplace_back(std::string(k), std::string(item.as_string()));
        }
        return out;
    }

private:
    boost::json::value parsed(std::string_view name) const {
        auto* v = find(name);
        if (!v || v->empty()) return nullptr;
        boost::system::error_code ec;
        auto j = boost::json::parse(*v, ec);
        if (ec) throw plugin_error(error_kind::invalid, "setting '" + std::string(name) + "' is not JSON");
        return j;
    }
    const std::string* find(std::string_view name) const {
        for (auto& [k, v] : values_)
            if (k == name) return &v;
        return nullptr;
    }
    std::string tenant_;
    std::string instance_;
    std::string webhook_url_;
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
    /// @throws plugin_error(invalid) when the host refuses the event (no "type").
    void emit(const boost::json::object& event) {
        std::string s = boost::json::serialize(event);
        if (sink_->emit(sink_->ctx, borrow(s)) != SB_OK)
            throw plugin_error(error_kind::invalid, "the host refused an emitted event (it needs a string \"type\")");
    }
    /// Adds a response header, e.g. Access-Control-Allow-Origin when answering OPTIONS.
    void header(std::string_view name, std::string_view value) {
        if (SB_HAS_FIELD(sb_webhook_sink, sink_, header) && sink_->header)
            sink_->header(sink_->ctx, borrow(name), borrow(value));
    }

private:
    const sb_webhook_sink* sink_;
};

/// Receives events and commands emitted by a stage.
class emitter {
public:
    explicit emitter(const sb_sink* sink) : sink_(sink) {}
    /// @throws plugin_error(invalid) when the host refuses the object (no "type").
    void emit(const boost::json::object& event_or_command) {
        std::string s = boost::json::serialize(event_or_command);
        if (sink_->put(sink_->ctx, borrow(s)) != SB_OK)
            throw plugin_error(error_kind::invalid, "the host refused an emitted object (it needs a string \"type\")");
    }
    /// Hands over a command's result object (the host files it as an event when it has a "type").
    void emit_result(const boost::json::object& result) {
        std::string s = boost::json::serialize(result);
        if (sink_->put(sink_->ctx, borrow(s)) != SB_OK)
            throw plugin_error(error_kind::invalid, "the host refused the command's result");
    }

private:
    const sb_sink* sink_;
};

/// The call context of execute() and run_stage() (sb_call_context), parsed. Valid during the call.
class call {
public:
    call() = default;
    explicit call(const sb_call_context* c) {
        if (!c) return;
        tenant_ = std::string(view(c->tenant));
        if (SB_HAS_FIELD(sb_call_context, c, instance)) instance_ = std::string(view(c->instance));
        if (SB_HAS_FIELD(sb_call_context, c, deadline_ms)) deadline_ms_ = c->deadline_ms;
        if (SB_HAS_FIELD(sb_call_context, c, attempt)) attempt_ = c->attempt;
        if (SB_HAS_FIELD(sb_call_context, c, idempotency_key)) idempotency_key_ = std::string(view(c->idempotency_key));
        if (SB_HAS_FIELD(sb_call_context, c, params_json)) params_ = parse(view(c->params_json)).as_object();
        if (SB_HAS_FIELD(sb_call_context, c, earlier_outputs_json))
            earlier_ = parse(view(c->earlier_outputs_json), false).as_array();
    }
    /// Builds a context by hand (tests, fake hosts).
    call(std::string tenant, std::string instance, int64_t deadline_ms, unsigned attempt, std::string idempotency_key,
         boost::json::object params = {}, boost::json::array earlier = {})
        : tenant_(std::move(tenant)), instance_(std::move(instance)), deadline_ms_(deadline_ms), attempt_(attempt),
          idempotency_key_(std::move(idempotency_key)), params_(std::move(params)), earlier_(std::move(earlier)) {}

    const std::string& tenant() const { return tenant_; }
    /// The instance name the route or command addressed.
    const std::string& instance_name() const { return instance_; }
    /// Absolute deadline, UTC ms on the host clock; 0 = none.
    int64_t deadline_ms() const { return deadline_ms_; }
    /// Milliseconds left until the deadline at host time `now_ms` (never negative); `fallback` without one.
    int64_t remaining_ms(int64_t now_ms, int64_t fallback = 30'000) const {
        if (deadline_ms_ <= 0) return fallback;
        return deadline_ms_ > now_ms ? deadline_ms_ - now_ms : 0;
    }
    /// The timeout of one outbound request made now: what is left until the deadline (`no_deadline_ms`
    /// without one, by default `cap_ms`), at least 1 and at most `cap_ms` (a setting such as send_timeout).
    unsigned timeout_ms(int64_t now_ms, int64_t cap_ms, int64_t no_deadline_ms = -1) const {
        const int64_t left = remaining_ms(now_ms, no_deadline_ms < 0 ? cap_ms : no_deadline_ms);
        return static_cast<unsigned>(left < 1 ? 1 : left > cap_ms ? cap_ms : left);
    }
    /// 1 for the first attempt.
    unsigned attempt() const { return attempt_; }
    /// Stable across retries, restarts and databases; hand it to providers that deduplicate.
    const std::string& idempotency_key() const { return idempotency_key_; }
    /// The stage's `with:` parameters ({} for commands).
    const boost::json::object& params() const { return params_; }
    /// A string parameter, or `fallback`.
    std::string param(std::string_view name, std::string fallback = {}) const {
        auto* v = params_.if_contains(name);
        return v && v->is_string() ? std::string(v->as_string()) : std::move(fallback);
    }
    /// What earlier stages of this route run produced: [{"stage","outcome","error","outputs"}].
    const boost::json::array& earlier_outputs() const { return earlier_; }
    /// True when an earlier stage of this route run already emitted a message.send (a handoff
    /// notice, say): a reply stage then answers nothing, so the customer's message gets one reply.
    bool answered_earlier() const {
        for (const auto& entry : earlier_) {
            const auto* outputs = entry.is_object() ? entry.as_object().if_contains("outputs") : nullptr;
            if (!outputs || !outputs->is_array()) continue;
            for (const auto& o : outputs->as_array())
                if (o.is_object() && has_type(o.as_object(), events::message_send)) return true;
        }
        return false;
    }

private:
    static boost::json::value parse(std::string_view text, bool object = true) {
        boost::system::error_code ec;
        auto v = boost::json::parse(text.empty() ? (object ? "{}" : "[]") : text, ec);
        if (ec || (object ? !v.is_object() : !v.is_array())) {
            if (object) return boost::json::object{};
            return boost::json::array{};
        }
        return v;
    }
    std::string tenant_, instance_;
    int64_t deadline_ms_ = 0;
    unsigned attempt_ = 1;
    std::string idempotency_key_;
    boost::json::object params_;
    boost::json::array earlier_;
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
    /// Executes a command (message.send, or one the plugin declares). @returns a JSON result, e.g.
    /// {"provider_message_id": ...}; a result with a "type" is also filed and routed as an event.
    virtual boost::json::object execute(const call&, const boost::json::object& command) {
        throw plugin_error(error_kind::final, "this plugin executes no command '" +
                                                  std::string(command.contains("type") ? command.at("type").as_string().c_str() : "") + "'");
    }
    /// Runs a stage (named without the plugin prefix) on an event; emits events and commands.
    virtual void run_stage(const call&, std::string_view stage, const boost::json::object&, emitter&) {
        throw plugin_error(error_kind::final, "unknown stage '" + std::string(stage) + "'");
    }
};

/// Types of a declared setting (sb_setting_type).
enum class setting_type : uint32_t {
    string = SB_SETTING_STRING,
    integer = SB_SETTING_INT,
    boolean = SB_SETTING_BOOL,
    duration = SB_SETTING_DURATION, ///< reaches the plugin in ms
    number = SB_SETTING_FLOAT,
    choice = SB_SETTING_ENUM,       ///< one of `choices`
    list = SB_SETTING_LIST,         ///< settings::list()
    map = SB_SETTING_MAP,           ///< settings::map()
    rate = SB_SETTING_RATE          ///< "80/1s": a send rate the host enforces (see rate_limit)
};

/// A provider send rate limit the host enforces on message.send before execute() (sb_rate_limit):
///   {.setting = "rate_limit_per_chat", .scope = rate_scope::recipient}
/// `setting` names a setting_type::rate setting the plugin declares with the provider's documented
/// limit as its default; admins change or switch it off ("off") per tenant.
enum class rate_scope : uint32_t { account = SB_RATE_ACCOUNT, recipient = SB_RATE_RECIPIENT };
enum class rate_unit : uint32_t { messages = SB_RATE_MESSAGES, sms_segments = SB_RATE_SMS_SEGMENTS };
struct rate_limit {
    const char* setting = "";
    rate_scope scope = rate_scope::account;
    rate_unit unit = rate_unit::messages;
    const char* recipient_prefix = nullptr;  ///< only recipients whose id starts with this ("-": Telegram groups)
};

/// One declared setting, written by name:
///   {.name = "page_id", .required = true, .description = "id of the Facebook Page"}
struct setting {
    const char* name = "";
    setting_type type = setting_type::string;
    bool required = false;
    bool secret = false;                ///< redacted from logs and errors
    const char* default_value = nullptr; ///< text form; JSON text for lists and maps
    const char* description = "";
    std::vector<const char*> choices = {}; ///< setting_type::choice
};

/// Static metadata of a plugin, turned into the C descriptor by SWITCHBOARD_PLUGIN.
struct plugin_info {
    const char* name = "";
    const char* version = "0.0.0";
    const char* license = "Apache-2.0";
    const char* description = "";
    uint32_t capabilities = 0;
    std::vector<setting> settings = {};
    /// Stage names without the plugin prefix ("reply" → routes say "<plugin>.reply").
    std::vector<const char*> stages = {};
    /// Command types execute() accepts ("message.send", "telegram.answer_callback").
    std::vector<const char*> commands = {};
    /// Event types the plugin emits ("message.received", "message.status").
    std::vector<const char*> events = {};
    /// Optional: provider account ids in an unverified inbound request (see sb_plugin_descriptor.route_keys).
    std::vector<std::string> (*route_keys)(const request&) = nullptr;
    /// Send rate limits the host enforces (each names a declared setting_type::rate setting).
    std::vector<rate_limit> rate_limits = {};
};

namespace detail {

inline sb_status status_of(error_kind k) {
    switch (k) {
    case error_kind::retryable: return SB_ERR_RETRYABLE;
    case error_kind::invalid: return SB_ERR_INVALID;
    case error_kind::retry_after: return SB_ERR_RETRY_AFTER;
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
        if (e.kind() == error_kind::retry_after) fill_retry_after(err, e.retry_after_ms());
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

/// The C arrays a descriptor points into; lives as long as the plugin (a function-local static).
struct descriptor_storage {
    std::vector<sb_setting_spec> settings;
    std::vector<sb_rate_limit> rate_limits;
    std::vector<const char*> stages, commands, events;
};

inline void fill_declarations(sb_plugin_descriptor& d, descriptor_storage& store, const plugin_info& info) {
    for (auto& s : info.settings) {
        sb_setting_spec spec{};
        spec.struct_size = sizeof spec;
        spec.name = s.name;
        spec.type = static_cast<uint32_t>(s.type);
        spec.flags = (s.required ? static_cast<uint32_t>(SB_SETTING_REQUIRED) : 0u) | (s.secret ? static_cast<uint32_t>(SB_SETTING_SECRET) : 0u);
        spec.default_value = s.default_value;
        spec.description = s.description;
        spec.choices = s.choices.empty() ? nullptr : s.choices.data();
        spec.choices_count = s.choices.size();
        store.settings.push_back(spec);
    }
    store.stages = info.stages;
    store.commands = info.commands;
    store.events = info.events;
    d.settings = store.settings.empty() ? nullptr : store.settings.data();
    d.settings_count = store.settings.size();
    d.stages = store.stages.empty() ? nullptr : store.stages.data();
    d.stages_count = store.stages.size();
    d.commands = store.commands.empty() ? nullptr : store.commands.data();
    d.commands_count = store.commands.size();
    d.events = store.events.empty() ? nullptr : store.events.data();
    d.events_count = store.events.size();
    for (auto& r : info.rate_limits) {
        sb_rate_limit limit{};
        limit.struct_size = sizeof limit;
        limit.setting = r.setting;
        limit.scope = static_cast<uint32_t>(r.scope);
        limit.unit = static_cast<uint32_t>(r.unit);
        limit.recipient_prefix = r.recipient_prefix;
        store.rate_limits.push_back(limit);
    }
    d.rate_limits = store.rate_limits.empty() ? nullptr : store.rate_limits.data();
    d.rate_limits_count = store.rate_limits.size();
}

template <class Instance>
sb_plugin_descriptor make_descriptor(const plugin_info& info) {
    using H = holder<Instance>;
    static descriptor_storage store; // one per plugin (Instance): the descriptor points into it
    sb_plugin_descriptor d{};
    d.struct_size = sizeof(sb_plugin_descriptor);
    d.abi_major = SB_ABI_MAJOR;
    d.abi_minor = SB_ABI_MINOR;
    d.name = info.name;
    d.version = info.version;
    d.license = info.license;
    d.description = info.description;
    d.capabilities = info.capabilities;
    fill_declarations(d, store, info);
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
    d.execute = [](void* p, const sb_call_context* ctx, sb_str command, const sb_sink* sink, sb_error* err) -> sb_status {
        return guarded(err, [&] {
            auto result = static_cast<H*>(p)->impl->execute(call(ctx), parse_object(command));
            emitter(sink).emit_result(result);
        });
    };
    d.run_stage = [](void* p, const sb_call_context* ctx, sb_str stage, sb_str event, const sb_sink* sink,
                     sb_error* err) -> sb_status {
        return guarded(err, [&] {
            emitter out(sink);
            static_cast<H*>(p)->impl->run_stage(call(ctx), view(stage), parse_object(event), out);
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
    BOOST_DLL_ALIAS(switchboard_plugin_entry, switchboard_plugin)
