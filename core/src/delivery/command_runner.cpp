// Executing command jobs, with echo recovery for interrupted sends.
#include <switchboard/core/delivery/command_runner.hpp>

#include <switchboard/core/dispatch/keys.hpp>
#include <switchboard/core/json_fields.hpp>
#include <switchboard/sdk/events.hpp>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

namespace switchboard::core::delivery {

namespace json = boost::json;
namespace events = switchboard::sdk::events;
using json_fields::num;
using json_fields::str;

command_runner::command_runner(const delivery_config& cfg, const instance_registry& instances, store& db,
                               metrics& stats, clock_fn clock)
    : cfg_(cfg), instances_(instances), db_(db), stats_(stats), clock_(std::move(clock)), retries_(cfg, db) {}

command_status command_runner::record_delivered(const job& j, const std::string& result,
                                                const std::vector<std::string>& events) {
    for (int attempt = 1;; ++attempt) {
        try {
            return db_.complete_command(j, result, events, clock_()) == fence::held ? command_status::delivered
                                                                                     : command_status::lost;
        } catch (const std::exception& e) {
            if (attempt == 5) throw;
            spdlog::warn("[tenant={}] job {} was delivered but recording it failed (try {} of 5): {}", j.tenant, j.id,
                         attempt, storage_error_message(e));
            std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
        }
    }
}

command_status command_runner::run(const job& j, double random01) {
    auto cmd = json::parse(j.payload).as_object();
    const std::string type = str(cmd, "type");
    const std::string target = dispatch::command_target(cmd);
    auto inst = instances_.find(j.tenant, target);
    if (!inst) {
        retries_.record_failure(j, true, "tenant '" + j.tenant + "' has no plugin '" + target + "'", target, random01,
                                clock_());
        return command_status::failed;
    }
    if (!inst->plugin().executes(type)) {
        retries_.record_failure(j, true,
                                "plugin '" + inst->plugin().name() + "' does not declare command '" + type +
                                    "' (see `switchboard plugins inspect " + inst->plugin().name() + "`)",
                                target, random01, clock_());
        return command_status::failed;
    }
    const std::string job_ref = "job " + std::to_string(j.id);
    if (type == events::message_send && j.interrupted_at_ms) {
        // An earlier attempt was interrupted mid-call: the provider may have accepted it. Its
        // echo proves it (by job id in metadata, or same text in the conversation); wait for
        // the echo a while before sending again, so one inbound message gets one reply.
        int64_t since = *j.interrupted_at_ms - cfg_.lease_ms - 60'000;
        if (auto mid = db_.delivered_by_job(j.id, num(cmd, "conversation_id"), str(cmd, "text"), since)) {
            inst->log(SB_LOG_INFO, job_ref + ": an interrupted attempt was delivered (echo seen); not sending again");
            auto recorded = record_delivered(j, json::serialize(json::object{{"provider_message_id", *mid}}));
            return recorded == command_status::delivered ? command_status::already_proven : recorded;
        }
        int64_t until = *j.interrupted_at_ms + cfg_.echo_grace_ms;
        if (clock_() < until)
            return db_.postpone(j, until, clock_()) == fence::held ? command_status::waiting_for_echo
                                                                   : command_status::lost;
        // No echo: the plugin checks with the provider where it can (recovery), else sends again.
        cmd["recovery"] = {{"interrupted_at_ms", *j.interrupted_at_ms}, {"since_ms", since}};
    }
    if (type == events::message_send)
        if (auto c = db_.conversation(num(cmd, "conversation_id")); c && c->last_inbound_at_ms > 0)
            cmd["last_inbound_ms"] = c->last_inbound_at_ms;
    if (command_status held; type == events::message_send && held_by_rate_limit(j, *inst, cmd, held)) return held;
    call_context ctx;
    ctx.deadline_ms = clock_() + cfg_.lease_ms;
    ctx.attempt = j.attempts;
    // Stable key from the route (tenant + originating provider ids); jobs queued before it existed use the job id.
    ctx.idempotency_key = str(cmd, "idempotency_key");
    if (ctx.idempotency_key.empty()) ctx.idempotency_key = "job-" + std::to_string(j.id);
    cmd["idempotency_key"] = ctx.idempotency_key;
    cmd["job_id"] = std::to_string(j.id); // what Meta echoes back as metadata: proof of which job was delivered
    auto started = std::chrono::steady_clock::now();
    auto out = inst->execute(json::serialize(cmd), ctx);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    stats_.observe("switchboard_delivery_latency_seconds", {{"plugin", target}}, seconds);
    if (out.status == SB_OK) {
        const std::string result = out.outputs.empty() ? "{}" : out.outputs.front();
        // A result with a "type" is an event (payment.invoice.created...), and so is every further output.
        std::vector<std::string> events;
        for (size_t i = 0; i < out.outputs.size(); ++i) {
            auto v = json::parse(out.outputs[i]).as_object();
            if (!v.contains("type")) continue;
            if (!v.contains("conversation_id") && num(cmd, "conversation_id") > 0)
                v["conversation_id"] = num(cmd, "conversation_id");
            v["chain_depth"] = num(cmd, "chain_depth") + 1;
            v["origin_key"] = ctx.idempotency_key + "/" + std::to_string(i);
            events.push_back(json::serialize(v));
        }
        bool recovered = false;
        if (auto v = json::parse(result); v.is_object())
            if (auto* r = v.as_object().if_contains("recovered")) recovered = r->is_bool() && r->as_bool();
        stats_.add("switchboard_delivery_attempts_total",
                   {{"plugin", target}, {"outcome", recovered ? "recovered" : "success"}});
        auto recorded = record_delivered(j, result, events);
        if (recorded == command_status::delivered && !events.empty() && on_events_) on_events_();
        if (recovered)
            inst->log(SB_LOG_INFO, job_ref + ": the provider shows the interrupted attempt was delivered; not sending again");
        else if (cmd.contains("recovery"))
            inst->log(SB_LOG_WARN, job_ref + ": the outcome of an interrupted attempt could not be proven (no echo within "
                                             "delivery.echo_grace, no record at the provider); sent again (attempt " +
                                             std::to_string(j.attempts) + ")");
        else
            inst->log(SB_LOG_INFO, job_ref + " " + type + " accepted by the provider (attempt " +
                                       std::to_string(j.attempts) + ")");
        return recorded == command_status::delivered && recovered ? command_status::already_proven : recorded;
    }
    if (out.status == SB_ERR_RETRY_AFTER) {
        stats_.add("switchboard_delivery_attempts_total", {{"plugin", target}, {"outcome", "deferred"}});
        retries_.record_deferral(j, out.retry_after_ms, out.message, target, random01, clock_());
        return command_status::deferred;
    }
    bool retryable = out.status == SB_ERR_RETRYABLE;
    stats_.add("switchboard_delivery_attempts_total", {{"plugin", target}, {"outcome", retryable ? "retryable" : "final"}});
    std::string error = out.code.empty() ? out.message : out.message + " (code " + out.code + ")";
    retries_.record_failure(j, !retryable, error, target, random01, clock_());
    return command_status::failed;
}

bool command_runner::held_by_rate_limit(const job& j, const plugin_instance& inst, const json::object& cmd,
                                        command_status& status) {
    const auto& d = inst.plugin().descriptor();
    std::vector<resolved_rate_limit> limits;
    for (size_t i = 0; i < sdk::rate_limit_count(d); ++i) {
        auto& decl = sdk::rate_limit_at(d, i);
        auto value = inst.setting_value(decl.setting);
        auto rate = value ? sdk::parse_rate(*value) : std::nullopt;
        if (!rate || rate->count == 0) continue;
        limits.push_back({decl.setting, decl.scope, decl.unit, decl.recipient_prefix ? decl.recipient_prefix : "", *rate});
    }
    if (limits.empty()) return false;
    std::string recipient;
    if (auto* r = cmd.if_contains("recipient"); r && r->is_object()) recipient = str(r->as_object(), "provider_id");
    std::string which;
    int64_t wait = limiter_.acquire(j.tenant + "/" + inst.name(), limits, recipient, str(cmd, "text"), clock_(), &which);
    if (wait <= 0) return false;
    stats_.add("switchboard_rate_limited_sends_total", {{"plugin", inst.name()}, {"limit", which}});
    // Not an attempt, and not worth a log line each: a burst defers many sends by design.
    spdlog::debug("[tenant={} plugin={}] job {} waits {} ms for rate limit {}", j.tenant, inst.name(), j.id, wait, which);
    status = db_.postpone(j, clock_() + wait, clock_()) == fence::held ? command_status::deferred : command_status::lost;
    return true;
}

}  // namespace switchboard::core::delivery
