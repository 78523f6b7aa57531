// Running a tenant's routes on one event.
#include <switchboard/core/dispatch/route_runner.hpp>

#include <switchboard/core/dispatch/keys.hpp>
#include <switchboard/core/json_fields.hpp>
#include <switchboard/sdk/event_schema.hpp>
#include <switchboard/sdk/events.hpp>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <thread>

namespace switchboard::core::dispatch {

namespace json = boost::json;
using json_fields::num;
using json_fields::str;

bool route_applies(const route_config& r, const json::object& event) {
    for (auto& f : r.when) {
        const json::value* v = sdk::events::field_at(event, f.field);
        if (!v || v->is_object() || v->is_array() || v->is_null()) return false;
        std::string text = v->is_string() ? std::string(v->get_string()) : json::serialize(*v);
        if (std::find(f.values.begin(), f.values.end(), text) == f.values.end()) return false;
    }
    return true;
}

route_runner::route_runner(const config& cfg, const instance_registry& instances, store& db, metrics& stats,
                           clock_fn clock)
    : cfg_(cfg), instances_(instances), db_(db), stats_(stats), clock_(std::move(clock)),
      breaker_(cfg.delivery.breaker_failures, cfg.delivery.breaker_cooldown_ms) {
    stats_.describe("switchboard_circuit_breaker_state", "gauge",
                    "a first_of tier's breaker per tenant and stage: 0 closed, 1 open (skipped), 2 half-open (probing)");
}

route_runner::~route_runner() {
    // Tiers abandoned past their budget may still run plugin code: wait for them before the
    // instances they use go away (the plugin got their deadline; the host's HTTP client times out).
    std::lock_guard lk(late_mu_);
    for (auto& f : late_)
        if (f.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
            spdlog::warn("dispatcher: a first_of tier abandoned past its budget is still running at shutdown");
    late_.clear();
}

namespace {
/// The error code of a tier the host stopped waiting for (never a provider's code: it has a dot).
constexpr const char* late_code = "switchboard.budget_exceeded";

/// One stage call's outcome, as later stages see it (sb_call_context.earlier_outputs_json).
json::object earlier_entry(const std::string& stage, const char* outcome, const std::string& error,
                           const std::vector<std::string>& outputs) {
    json::array outs;
    for (auto& o : outputs) outs.push_back(json::parse(o));
    return {{"stage", stage}, {"outcome", outcome}, {"error", error}, {"outputs", std::move(outs)}};
}
}  // namespace

call_outcome route_runner::call_stage(plugin_instance& inst, const stage_call& c, const std::string& event_text,
                                      call_context ctx, bool budgeted) {
    const std::string sname = c.stage.substr(c.stage.find('.') + 1);
    if (!budgeted) return inst.run_stage(sname, event_text, ctx);
    // A tier with a budget runs on its own thread; the route stops waiting when the budget runs
    // out (the plugin got the same deadline and should give up too) and falls through.
    auto task = std::make_shared<std::packaged_task<call_outcome()>>(
        [&inst, sname, event_text, ctx] { return inst.run_stage(sname, event_text, ctx); });
    auto result = task->get_future();
    std::thread([task] { (*task)(); }).detach();
    if (result.wait_for(std::chrono::milliseconds(c.budget_ms)) == std::future_status::ready) return result.get();
    {
        std::lock_guard lk(late_mu_);
        late_.erase(std::remove_if(late_.begin(), late_.end(),
                                   [](std::shared_future<call_outcome>& f) {
                                       return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
                                   }),
                    late_.end());
        late_.push_back(result.share());
    }
    call_outcome late;
    late.status = SB_ERR_RETRYABLE;
    late.message = "no answer within its budget of " + std::to_string(c.budget_ms) + " ms";
    late.code = late_code;
    return late;
}

route_runner::step_result route_runner::run_step(const job& j, const route_step& step, const std::string& event_text,
                                                 const std::string& origin, int stage_index, bool later_steps,
                                                 json::array& earlier) {
    step_result r;
    for (size_t t = 0; t < step.tiers.size(); ++t) {
        const auto& c = step.tiers[t];
        const bool last = t + 1 == step.tiers.size();
        auto dot = c.stage.find('.');
        std::string iname = c.stage.substr(0, dot);
        auto inst = instances_.find(j.tenant, iname);
        if (!inst) {
            r.outcome.status = SB_ERR_FINAL;
            r.outcome.message = "tenant has no plugin '" + iname + "'";
            r.plugin = iname;
            return r;
        }
        const bool breakable = step.first_of && !last;
        if (breakable && !breaker_.allow(j.tenant, c.stage, clock_())) {
            // Open: skipped without a call, so this customer does not wait out a failing tier.
            stats_.add("switchboard_fallthrough_total", {{"tenant", j.tenant}, {"stage", c.stage}, {"reason", "open"}});
            earlier.push_back(earlier_entry(c.stage, "open", "circuit open after repeated failures", {}));
            continue;
        }
        call_context ctx;
        const int64_t now = clock_();
        const bool budgeted = step.first_of && c.budget_ms > 0;
        ctx.deadline_ms = now + (budgeted ? c.budget_ms : cfg_.delivery.lease_ms);
        ctx.attempt = j.attempts;
        ctx.idempotency_key = idempotency_key(j.tenant, origin, "stage:" + std::to_string(stage_index) + ":" + c.stage);
        ctx.params_json = c.params_json;
        ctx.earlier_outputs_json = json::serialize(earlier);
        r.outcome = call_stage(*inst, c, event_text, std::move(ctx), budgeted);
        r.stage = c.stage;
        r.plugin = iname;
        const bool answered = r.outcome.status == SB_OK && !r.outcome.outputs.empty();
        if (breakable) note_breaker(*inst, j.tenant, c.stage, r.outcome.status == SB_OK);
        if (r.outcome.status != SB_OK)
            stats_.add("switchboard_plugin_errors_total", {{"tenant", j.tenant}, {"plugin", iname}});
        if (!step.first_of || answered || last) {
            // Only a later step of the route reads it: the last step's outputs are not re-parsed.
            if (later_steps)
                earlier.push_back(earlier_entry(c.stage, r.outcome.status == SB_OK ? "ok" : "failed",
                                                r.outcome.message, r.outcome.outputs));
            return r;
        }
        // Falls through to the next tier; it sees why.
        const char* why = r.outcome.code == late_code ? "late" : r.outcome.status == SB_OK ? "empty" : "failed";
        inst->log(SB_LOG_INFO, "first_of: " + c.stage + " fell through (" + why +
                                   (r.outcome.message.empty() ? "" : ": " + r.outcome.message) + ")");
        stats_.add("switchboard_fallthrough_total", {{"tenant", j.tenant}, {"stage", c.stage}, {"reason", why}});
        earlier.push_back(earlier_entry(c.stage, why, r.outcome.message, {}));
    }
    return r;
}

void route_runner::note_breaker(plugin_instance& inst, const std::string& tenant, const std::string& stage, bool ok) {
    const int64_t now = clock_();
    if (breaker_.record(tenant, stage, ok, now))
        inst.log(ok ? SB_LOG_INFO : SB_LOG_WARN,
                 ok ? "first_of: " + stage + " answers again; circuit closed"
                    : "first_of: " + stage + " failed " + std::to_string(cfg_.delivery.breaker_failures) +
                          " times in a row; circuit open: skipped for " +
                          std::to_string(cfg_.delivery.breaker_cooldown_ms) + " ms, then probed");
    stats_.set("switchboard_circuit_breaker_state", {{"tenant", tenant}, {"stage", stage}},
               static_cast<double>(breaker_.state_of(tenant, stage)));
}

std::optional<route_result> route_runner::debounce(const job& j, const tenant_config& tenant, json::object& ev) {
    const int64_t gap = tenant.reply_debounce_ms;
    const auto b = db_.burst(j.tenant, str(ev, "channel"), str(ev, "provider_message_id"), gap);
    if (!b.found) return std::nullopt;
    const int64_t now = clock_();
    if (now < b.received_at_ms + gap)  // more may come: wait out the debounce (not an attempt)
        return route_result{route_status::deferred, false, "reply_debounce", "", 0, 0, b.received_at_ms + gap - now};
    if (b.superseded) {
        // A later message of the burst runs the routes for all of it.
        stats_.add("switchboard_debounced_messages_total", {{"tenant", j.tenant}});
        route_result result;
        if (db_.complete_route(j, {}, {}, now) == fence::lost) result.status = route_status::lost;
        return result;
    }
    if (b.provider_message_ids.size() > 1) {
        json::array ids, texts;
        for (auto& id : b.provider_message_ids) ids.emplace_back(id);
        for (auto& t : b.texts) texts.emplace_back(t);
        ev["burst"] = {{"provider_message_ids", std::move(ids)}, {"texts", std::move(texts)}};
    }
    return std::nullopt;
}

void route_runner::count_generated(const std::string& tenant, const json::object& generated) {
    const std::string provider = str(generated, "provider"), tier = str(generated, "tier");
    stats_.add("switchboard_ai_replies_total", {{"tenant", tenant}, {"provider", provider}, {"tier", tier}});
    stats_.add("switchboard_ai_tokens_total", {{"tenant", tenant}, {"provider", provider}, {"kind", "prompt"}},
               static_cast<double>(num(generated, "prompt_tokens")));
    stats_.add("switchboard_ai_tokens_total", {{"tenant", tenant}, {"provider", provider}, {"kind", "completion"}},
               static_cast<double>(num(generated, "completion_tokens")));
    auto* reused = generated.if_contains("reused");
    if (!(reused && reused->is_bool() && reused->as_bool()))  // a kept reply took no model time now
        stats_.observe("switchboard_ai_latency_seconds", {{"tenant", tenant}, {"provider", provider}},
                       static_cast<double>(num(generated, "latency_ms")) / 1000.0);
}

route_result route_runner::run(const job& j) {
    auto ev = json::parse(j.payload).as_object();
    const std::string type = str(ev, "type");
    const int64_t conv_id = num(ev, "conversation_id");
    if (conv_id > 0)
        if (auto c = db_.conversation(conv_id)) ev["conversation"] = {{"id", c->id}, {"escalated", c->escalated}};
    auto tenant = cfg_.find_tenant(j.tenant);
    if (tenant && tenant->reply_debounce_ms > 0 && type == sdk::events::message_received && conv_id > 0)
        if (auto held = debounce(j, *tenant, ev)) return *held;
    const std::string event_text = json::serialize(ev);
    const std::string origin = origin_key(ev);
    const std::string event_instance = str(ev, "instance");
    std::vector<new_job> commands;
    std::vector<std::string> emitted, emitted_types;
    std::vector<json::object> generated;  // what the model replies among the commands cost
    int stage_index = 0;
    for (auto& r : tenant ? tenant->routes : std::vector<route_config>{}) {
        if (r.on != type || !route_applies(r, ev)) continue;
        json::array earlier;
        for (auto& step : r.run) {
            ++stage_index;
            auto res = run_step(j, step, event_text, origin, stage_index, &step != &r.run.back(), earlier);
            auto& out = res.outcome;
            if (out.status == SB_ERR_RETRY_AFTER)
                return {route_status::deferred, false, "stage " + res.stage + " deferred: " + out.message, res.plugin, 0, 0,
                        out.retry_after_ms};
            if (out.status != SB_OK)
                return {route_status::failed, out.status != SB_ERR_RETRYABLE,
                        (res.stage.empty() ? std::string() : "stage " + res.stage + ": ") + out.message, res.plugin, 0};
            int k = 0;
            for (auto& o : out.outputs) {
                auto v = json::parse(o).as_object();
                std::string otype = str(v, "type");
                if (!v.contains("conversation_id") && conv_id > 0) v["conversation_id"] = conv_id;
                if (!instances_.is_command(j.tenant, otype)) {
                    // Routed like any other event, one step deeper in the chain (a limit stops loops).
                    v["chain_depth"] = num(ev, "chain_depth") + 1;
                    v["origin_key"] = origin + "/" + std::to_string(stage_index) + "." + std::to_string(k++);
                    emitted.push_back(json::serialize(v));
                    emitted_types.push_back(otype);
                    continue;
                }
                // A reply goes out through the instance the conversation came in on.
                if (!v.contains("instance") && !event_instance.empty() && str(v, "channel") == str(ev, "channel"))
                    v["instance"] = event_instance;
                int64_t cid = num(v, "conversation_id");
                v["chain_depth"] = num(ev, "chain_depth"); // its result events chain one deeper
                if (const json::object* g = json_fields::obj(v, "generated")) generated.push_back(*g);
                std::string target = command_target(v);
                v["idempotency_key"] =
                    idempotency_key(j.tenant, origin, "cmd:" + std::to_string(stage_index) + ":" + std::to_string(k));
                commands.push_back({job_kind::command, command_lane(j.tenant, otype, target, cid),
                                    command_key(j.id, stage_index, k++), json::serialize(v)});
            }
        }
    }
    route_result result;
    if (db_.complete_route(j, commands, emitted, clock_()) == fence::lost) {
        result.status = route_status::lost;
        return result;
    }
    for (auto& t : emitted_types) stats_.add("switchboard_events_total", {{"type", t}});
    for (auto& g : generated) count_generated(j.tenant, g);
    result.commands = static_cast<int>(commands.size());
    result.events = static_cast<int>(emitted.size());
    return result;
}

}  // namespace switchboard::core::dispatch
