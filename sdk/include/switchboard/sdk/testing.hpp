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
//   host.push_http_reply({.status = 200, .body = R"({"id":"out-1"})"});
//   sbt::call_result sent = echo.execute(command, {.idempotency_key = "key-1"});
//   // the POST is in host.http_requests()
//
// What the fake host does like the real one: the ABI check and its refusal messages, settings
// validation with declared defaults (enum choices, lists and maps as JSON text) and durations
// converted to ms, "tenant", "channel" and "instance" filled into emitted events (one rule, in
// switchboard/sdk/host_rules.hpp), a command result with a "type" completed as an event, 200 with
// an empty body when a webhook handler never responds, key/value state per instance and per
// tenant whose TTL runs on the host clock, atomic counters, conversation history and contacts
// (seed them with add_history() and put_contact()), the response size cap of the HTTP client.
// What it checks more strictly, to catch mistakes early: a stage or command the plugin does not
// declare is refused with std::invalid_argument (the host's config check would refuse the route),
// and everything the plugin emits of an SDK type must carry that type's required fields
// (switchboard/sdk/event_schema.hpp) or the call fails as "invalid output".
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
#include <switchboard/sdk/event_schema.hpp>
#include <switchboard/sdk/host_rules.hpp>
#include <switchboard/sdk/testing/host_services.hpp>
#include <switchboard/sdk/testing/records.hpp>

#include <boost/json.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::sdk::testing {

/// Parses a duration the way the host's config does (see switchboard/sdk/compat.hpp).
using switchboard::sdk::parse_duration_ms;

namespace detail {

/// The host's descriptor checks, with its wording (switchboard/sdk/compat.hpp, shared with the host).
inline const sb_plugin_descriptor& check_descriptor(const sb_plugin_descriptor* d) {
    if (auto problem = descriptor_problem(d)) throw std::runtime_error(*problem);
    return *d;
}

using switchboard::sdk::request_view;

using switchboard::sdk::header_array;

/// "declared: a, b" for messages.
inline std::string declared_list(const char* const* list, size_t count) {
    std::string out;
    for (size_t i = 0; list && i < count; ++i)
        if (list[i]) out += (out.empty() ? "" : ", ") + std::string(list[i]);
    return out.empty() ? "none" : out;
}

}  // namespace detail

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
    /// Instance name (the plugin's name unless created under another with create_instance()).
    const std::string& instance_name() const { return ctx_->instance; }

    /// Feeds one inbound request to the plugin's handle_webhook.
    /// @returns status, content type, body, response headers and the emitted events (see
    ///          webhook_response); 404 "this plugin receives no webhooks" when the plugin has no
    ///          handle_webhook, as the host.
    /// @throws plugin_call_error when the handler failed (the host would answer 500 and store
    ///         nothing) or emitted something that is not a JSON object with a "type", or an SDK
    ///         event without its required fields.
    webhook_response webhook(const inbound_request& request) {
        webhook_response out;
        if (!descriptor_->handle_webhook) {
            out.status = 404;
            out.body = "this plugin receives no webhooks";
            return out;
        }
        auto hs = detail::header_array(request.headers);
        const std::string& addressed = request.instance.empty() ? instance_name() : request.instance;
        sb_http_request req = detail::request_view(request, hs, addressed);
        struct sink_state {
            webhook_response* out;
            tenant_instance* self;
            bool responded = false;
            std::string emit_error{};
        } st{&out, this, false, {}};
        sb_webhook_sink sink{};
        sink.struct_size = sizeof sink;
        sink.ctx = &st;
        sink.respond = [](void* c, int32_t status, sb_str content_type, sb_str body) {
            auto* s = static_cast<sink_state*>(c);
            if (s->responded) return; // the host keeps the first response
            s->responded = true;
            s->out->status = status;
            s->out->content_type = std::string(view(content_type));
            s->out->body = std::string(view(body));
        };
        sink.emit = [](void* c, sb_str event) -> sb_status {
            auto* s = static_cast<sink_state*>(c);
            try {
                s->out->events.push_back(s->self->complete(event));
                return SB_OK;
            } catch (const std::exception& e) {
                if (s->emit_error.empty()) s->emit_error = e.what();
                return SB_ERR_INVALID;
            }
        };
        sink.header = [](void* c, sb_str name, sb_str value) {
            static_cast<sink_state*>(c)->out->headers.emplace_back(std::string(view(name)), std::string(view(value)));
        };
        sb_error err = make_error();
        sb_status status = descriptor_->handle_webhook(handle_, &req, &sink, &err);
        // A refused event is the first thing to report: the plugin's own failure usually follows from it.
        if (!st.emit_error.empty())
            throw plugin_call_error("handle_webhook", {SB_ERR_FINAL, "", "invalid event: " + st.emit_error});
        if (status != SB_OK) throw plugin_call_error("handle_webhook", {status, err.code, err.message, retry_after_of(err)});
        return out;
    }

    /// Executes a command (e.g. message.send) as a delivery worker does, with the call context
    /// `options` (idempotency key, attempt, deadline). Its "type" must be one the plugin declares
    /// (sb_plugin_descriptor.commands).
    /// @returns the plugin's result object in outputs[0] (completed as an event when it has a
    ///          "type"), then any further events, or its error; SB_ERR_UNSUPPORTED when the plugin
    ///          has no execute.
    /// @throws std::invalid_argument when the plugin does not declare the command's type.
    call_result execute(const boost::json::object& command, const call_options& options = {}) {
        auto* type = command.if_contains("type");
        std::string t = type && type->is_string() ? std::string(type->get_string()) : std::string();
        if (!declares(descriptor_->commands, descriptor_->commands_count, t))
            throw std::invalid_argument("plugin '" + std::string(descriptor_->name) + "' declares no command '" + t +
                                        "' (declared: " + detail::declared_list(descriptor_->commands, descriptor_->commands_count) +
                                        "); the host would never hand it one");
        return execute(std::string_view(boost::json::serialize(command)), options);
    }

    /// Same, with the command as JSON text (to test how the plugin treats malformed commands).
    call_result execute(std::string_view command_json, const call_options& options = {}) {
        call_result out;
        if (!descriptor_->execute) {
            out.error = call_error{SB_ERR_UNSUPPORTED, "", "plugin '" + std::string(descriptor_->name) + "' executes no commands"};
            return out;
        }
        std::vector<std::string> raw;
        sb_sink sink{sizeof(sb_sink), &raw, detail::collect_string};
        context_holder ctx(*this, options);
        sb_error err = make_error();
        sb_status status = descriptor_->execute(handle_, &ctx.c, borrow(command_json), &sink, &err);
        if (status != SB_OK) {
            out.error = call_error{status, err.code, err.message, retry_after_of(err)};
            return out;
        }
        try {
            for (size_t i = 0; i < raw.size(); ++i)
                out.outputs.push_back(i == 0 ? checked(complete_result(borrow(raw[i]), tenant(), instance_name(),
                                                                       descriptor_->name))
                                             : complete(borrow(raw[i])));
        } catch (const std::exception& e) {
            out.outputs.clear();
            out.error = call_error{SB_ERR_FINAL, "", std::string("invalid output: ") + e.what()};
        }
        return out;
    }

    /// Runs stage `stage` (without the plugin prefix: "reply" for a route's "echo.reply") on an
    /// event, with the call context `options` (stage parameters, earlier outputs...).
    /// @returns the emitted events and commands, "tenant"/"channel"/"instance" filled in, or the
    ///          plugin's error (an emitted value that is not an object with a "type", or an SDK
    ///          event or command without its required fields, fails the call, SB_ERR_FINAL);
    ///          SB_ERR_UNSUPPORTED when the plugin has no run_stage.
    /// @throws std::invalid_argument when the descriptor does not declare `stage`: the host's config
    ///         check would refuse a route naming it, so the plugin would never be called with it.
    call_result run_stage(std::string_view stage, const boost::json::object& event, const call_options& options = {}) {
        return run_stage(stage, std::string_view(boost::json::serialize(event)), options);
    }

    /// Same, with the event as JSON text.
    call_result run_stage(std::string_view stage, std::string_view event_json, const call_options& options = {}) {
        call_result out;
        if (!descriptor_->run_stage) {
            out.error = call_error{SB_ERR_UNSUPPORTED, "", "plugin '" + std::string(descriptor_->name) + "' provides no stages"};
            return out;
        }
        if (!declares(descriptor_->stages, descriptor_->stages_count, stage))
            throw std::invalid_argument("plugin '" + std::string(descriptor_->name) + "' declares no stage '" +
                                        std::string(stage) + "' (declared: " +
                                        detail::declared_list(descriptor_->stages, descriptor_->stages_count) + ")");
        std::vector<std::string> raw;
        sb_sink sink{sizeof(sb_sink), &raw, detail::collect_string};
        context_holder ctx(*this, options);
        sb_error err = make_error();
        sb_status status = descriptor_->run_stage(handle_, &ctx.c, borrow(stage), borrow(event_json), &sink, &err);
        if (status != SB_OK) {
            out.error = call_error{status, err.code, err.message, retry_after_of(err)};
            return out;
        }
        try {
            for (auto& r : raw) out.outputs.push_back(checked(complete_event(borrow(r), tenant(), instance_name())));
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
        sb_sink sink{sizeof(sb_sink), &out, detail::collect_string};
        sb_error err = make_error();
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

    /// An event the instance emitted from a webhook or a command, completed as the host does and
    /// checked against the SDK's event schema.
    boost::json::object complete(sb_str text) const {
        return checked(complete_instance_event(text, tenant(), instance_name(), descriptor_->name));
    }
    static boost::json::object checked(boost::json::object o) {
        if (o.contains("type"))
            if (auto problem = events::schema_problem(o)) throw std::runtime_error(*problem);
        return o;
    }

    /// An sb_call_context and the strings it borrows.
    struct context_holder {
        std::string tenant, instance, key, params, earlier;
        sb_call_context c{};
        context_holder(const tenant_instance& self, const call_options& o)
            : tenant(self.tenant()), instance(self.instance_name()), key(o.idempotency_key),
              params(boost::json::serialize(o.params)), earlier(boost::json::serialize(o.earlier_outputs)) {
            c.struct_size = sizeof c;
            c.tenant = borrow(tenant);
            c.instance = borrow(instance);
            c.deadline_ms = o.deadline_ms > 0 ? o.deadline_ms : detail::host_now(self.ctx_.get()) + 30'000;
            c.attempt = o.attempt;
            c.idempotency_key = borrow(key);
            c.params_json = borrow(params);
            c.earlier_outputs_json = borrow(earlier);
        }
    };

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
    ///         "not a Switchboard plugin: it does not export 'switchboard_plugin' …", or the ABI
    ///         messages ("built against SDK ABI 1.0 but this host implements ABI 2.2: rebuild it
    ///         against SDK 2.2 …").
    static fake_host load(const std::string& path) {
        // Resident until exit, like the host: never dlclose'd.
        void* handle = dlopen(path.c_str(), RTLD_LOCAL | RTLD_NOW);
        if (!handle) {
            const char* why = dlerror();
            throw std::runtime_error("not a loadable shared object: " + std::string(why ? why : path));
        }
        // BOOST_DLL_ALIAS exports a variable (const void*) holding the entry function's address,
        // not the function itself.
        auto entry_of = [](void* alias) {
            const void* entry_address = *static_cast<const void* const*>(alias);
            return reinterpret_cast<sb_plugin_entry_fn>(reinterpret_cast<std::intptr_t>(entry_address));
        };
        void* alias = dlsym(handle, SB_PLUGIN_EXPORT_NAME);
        if (!alias) {
            if (void* old = dlsym(handle, SB_PLUGIN_EXPORT_NAME_V1)) {
                auto entry = entry_of(old);
                throw std::runtime_error(legacy_export_problem(entry ? entry() : nullptr));
            }
            throw std::runtime_error("not a Switchboard plugin: it does not export '" SB_PLUGIN_EXPORT_NAME
                                     "' (declare it with SWITCHBOARD_PLUGIN from <switchboard/sdk/plugin.hpp>)");
        }
        auto entry = entry_of(alias);
        if (!entry) throw std::runtime_error("the plugin's entry point returned no descriptor");
        return fake_host(entry());
    }

    /// Hosts a descriptor already in this process (e.g. one built in the test binary with
    /// sdk::detail::make_descriptor<my_instance>(info)), after the same checks as the host:
    /// struct_size, ABI major equal to SB_ABI_MAJOR, minor <= SB_ABI_MINOR, a valid name, create
    /// and destroy present, well-formed setting declarations. @throws std::runtime_error with the
    /// host's wording when refused.
    explicit fake_host(const sb_plugin_descriptor* descriptor)
        : descriptor_(&detail::check_descriptor(descriptor)), state_(std::make_shared<detail::host_state>()) {
        state_->now_ms = default_now_ms;
    }

    /// The plugin's descriptor (name, version, capabilities, settings schema, stages, commands, events).
    const sb_plugin_descriptor& descriptor() const { return *descriptor_; }
    /// The plugin's name, e.g. "echo".
    std::string name() const { return descriptor_->name; }

    /// Creates the instance of `tenant` with `settings` (name → text value; lists and maps as JSON
    /// text such as R"(["a","b"])"), as the host does after validating the config: declared
    /// defaults fill unset (or empty) values, durations ("30s", "500ms", "5m", "2h", or plain ms)
    /// reach the plugin as milliseconds, and settings go in declared order.
    /// @throws std::runtime_error listing every problem ("plugin 'echo' has no setting 'x' …",
    ///         "… must be a duration such as 500ms, 10s, 5m or 24h, got '…'", "plugin 'echo' of
    ///         tenant 'demo' requires setting 'reply_url' (…)"; secret values are not quoted), or
    ///         "plugin '<name>' refused the settings of tenant '<tenant>': <plugin's message>" when
    ///         the plugin's create() fails.
    tenant_instance create(const std::string& tenant, const std::map<std::string, std::string>& settings = {}) {
        return create_instance(tenant, name(), settings);
    }

    /// Same, as the instance `instance` (a config's `staff-bot: { use: <plugin> }`): its events are
    /// on channel `instance` and its key/value state is its own.
    tenant_instance create_instance(const std::string& tenant, const std::string& instance,
                                    const std::map<std::string, std::string>& settings = {},
                                    const std::string& webhook_url = {}) {
        auto values = effective_settings(tenant, settings);
        auto ctx = std::make_unique<detail::instance_context>();
        ctx->state = state_;
        ctx->tenant = tenant;
        ctx->instance = instance;
        detail::fill_api(*ctx);

        std::vector<sb_setting_value> c_values;
        for (auto& [k, v] : values) c_values.push_back({borrow(k), borrow(v)});
        sb_instance_config config{};
        config.struct_size = sizeof config;
        config.tenant = borrow(tenant);
        config.instance = borrow(ctx->instance);
        config.settings = c_values.data();
        config.settings_count = c_values.size();
        config.webhook_url = borrow(webhook_url);
        void* handle = nullptr;
        sb_error err = make_error();
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
        auto hs = detail::header_array(request.headers);
        sb_http_request req = detail::request_view(request, hs, request.instance);
        sb_sink sink{sizeof(sb_sink), &out, detail::collect_string};
        sb_error err = make_error();
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

    // --- logs, metrics and secrets -------------------------------------------------------------

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
    /// The last value a tenant's instance set for gauge `name` (host::gauge), or nullopt.
    std::optional<double> gauge(const std::string& tenant, std::string_view name) const {
        return locked([&]() -> std::optional<double> {
            auto it = state_->gauges.find(tenant + "/" + std::string(name));
            if (it == state_->gauges.end()) return std::nullopt;
            return it->second;
        });
    }
    /// Sum of the values added to counter `name` (over all tenants, or one when given); 0 when never.
    double metric_total(std::string_view name, std::optional<std::string> tenant = std::nullopt) const {
        return locked([&] {
            double sum = 0;
            for (auto& m : state_->metrics)
                if (m.name == name && (!tenant || m.tenant == *tenant)) sum += m.value;
            return sum;
        });
    }
    /// The secrets the plugin registered for redaction (host::register_secret), in order.
    std::vector<std::string> registered_secrets() const { return locked([&] { return state_->secrets; }); }

    /// Forgets recorded requests, logs and metrics (not replies, responder, clock or state).
    void clear_records() {
        locked([&] {
            state_->requests.clear();
            state_->logs.clear();
            state_->metrics.clear();
        });
    }

    // --- key/value state -----------------------------------------------------------------------

    /// The value instance `instance` (default: the plugin's name) of `tenant` would read for `key`
    /// now: nullopt when absent or expired. `instance` "@tenant" reads the tenant-wide namespace.
    std::optional<std::string> kv_get(const std::string& tenant, const std::string& key, std::string instance = {}) const {
        if (instance.empty()) instance = name();
        return locked([&]() -> std::optional<std::string> {
            auto it = state_->kv.find({tenant, instance, key});
            if (it == state_->kv.end() || !state_->alive(it->second)) return std::nullopt;
            return it->second.value;
        });
    }
    /// Seeds state as if the plugin had stored it; ttl_ms <= 0 keeps it forever, otherwise it
    /// expires ttl_ms after the current fake time.
    void kv_put(const std::string& tenant, const std::string& key, std::string value, int64_t ttl_ms = 0,
                std::string instance = {}) {
        if (instance.empty()) instance = name();
        locked([&] {
            std::optional<int64_t> expires;
            if (ttl_ms > 0) expires = state_->now_ms + ttl_ms;
            state_->kv[{tenant, instance, key}] = {std::move(value), expires};
        });
    }

    // --- conversations and contacts ------------------------------------------------------------

    /// Appends a message to a conversation's history (what host::conversation_history() returns,
    /// newest last). `direction`: "in" or "out".
    void add_history(const std::string& tenant, int64_t conversation_id, std::string direction, std::string text,
                     int64_t at_ms = 0, std::string status = {}) {
        locked([&] {
            if (status.empty()) status = direction == "in" ? "received" : "sent";
            state_->history[{tenant, conversation_id}].push_back(boost::json::object{
                {"direction", direction}, {"text", text}, {"at_ms", at_ms ? at_ms : state_->now_ms}, {"status", status}});
        });
    }
    /// The contact the plugin would read (host::contact()), or nullopt.
    std::optional<boost::json::object> contact(const std::string& tenant, const std::string& channel,
                                               const std::string& provider_id) const {
        return locked([&]() -> std::optional<boost::json::object> {
            auto it = state_->contacts.find({tenant, channel, provider_id});
            if (it == state_->contacts.end()) return std::nullopt;
            return it->second;
        });
    }
    /// Seeds a contact by merging `patch` (the host::update_contact() shape).
    /// @throws std::invalid_argument when the patch is malformed.
    void put_contact(const std::string& tenant, const std::string& channel, const std::string& provider_id,
                     const boost::json::object& patch) {
        locked([&] {
            auto& slot = state_->contacts[{tenant, channel, provider_id}];
            if (slot.empty()) slot = detail::empty_contact(static_cast<int64_t>(state_->contacts.size()));
            if (auto problem = merge_contact_patch(slot, boost::json::serialize(patch)))
                throw std::invalid_argument(*problem);
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
                if (setting_spec_at(d, i).name && n == setting_spec_at(d, i).name) return &setting_spec_at(d, i);
            return nullptr;
        };
        for (size_t i = 0; i < d.settings_count; ++i) declared += (i ? ", " : "") + std::string(setting_spec_at(d, i).name);
        for (auto& [k, v] : given)
            if (!spec_of(k))
                problem("plugin '" + name() + "' has no setting '" + k + "' (it declares: " +
                        (declared.empty() ? "none" : declared) + ")");

        std::vector<std::pair<std::string, std::string>> out;
        for (size_t i = 0; i < d.settings_count; ++i) {
            const sb_setting_spec& spec = setting_spec_at(d, i);
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
            if (!value->empty()) {
                if (auto hint = setting_value_problem(spec, *value))
                    problem("setting '" + std::string(spec.name) + "' of plugin '" + name() + "' must be " + *hint +
                            ", got " + shown);
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

}  // namespace switchboard::sdk::testing
