// switchboard/core/dispatch/route_runner.hpp — running a tenant's routes on one event: every
// stage of every route whose `on` matches, in order; the commands they emit become jobs (on the
// conversation's send lane, or the tenant's command lane) and the events they emit are filed.
#pragma once

#include <switchboard/core/dispatch/circuit_breaker.hpp>

#include <switchboard/core/clock.hpp>
#include <switchboard/core/config/config.hpp>
#include <switchboard/core/observability/metrics.hpp>
#include <switchboard/core/plugins/registry.hpp>
#include <switchboard/core/store/store.hpp>

#include <future>
#include <mutex>
#include <string>
#include <vector>

namespace boost::json {
class object;
class array;
}

namespace switchboard::core::dispatch {

/// Whether route `r` runs on `event` (a JSON object of type r.on): every `when` filter holds —
/// the field at its dotted path exists and, as a string (numbers and booleans as JSON writes
/// them), equals one of the filter's values.
bool route_applies(const route_config& r, const boost::json::object& event);

/// How running a route job ended.
enum class route_status {
    completed,  ///< every stage ran; commands and events are committed with the job
    failed,     ///< a stage failed (see route_result::final_failure); nothing was committed
    deferred,   ///< a stage asked to run later (SB_ERR_RETRY_AFTER, route_result::retry_after_ms); nothing committed
    lost,       ///< the job's claim no longer held when completing it: another worker owns it
};

struct route_result {
    route_status status = route_status::completed;
    bool final_failure = false; ///< when failed: retrying cannot help (no such plugin, SB_ERR_FINAL...)
    std::string error;          ///< when failed: which stage, and the plugin's message
    std::string plugin;         ///< when failed: the plugin at fault
    int commands = 0;           ///< when completed: command jobs created
    int events = 0;             ///< when completed: events the stages emitted (their route jobs may exist)
    int64_t retry_after_ms = 0; ///< when deferred: the deferral the stage asked for (0 = backoff)
};

class route_runner {
public:
    route_runner(const config& cfg, const instance_registry& instances, store& db, metrics& stats, clock_fn clock);

    /// Runs route job `j` (payload: the filed event). Every stage sees the event with
    /// "conversation": {"id", "escalated"} read from the store. Never retries: the caller applies
    /// the retry policy to a failed result. With the tenant's reply_debounce, a message.received is
    /// first held, coalesced or given its burst (debounce()). @throws on storage failure (the lease
    /// then expires).
    route_result run(const job& j);
    ~route_runner();

private:
    /// reply_debounce for a message.received of `tenant`: deferred until the debounce has passed
    /// since the message was recorded; completed without running anything when a later message of
    /// its burst will run the routes; otherwise nullopt, with "burst": {"provider_message_ids",
    /// "texts"} (oldest first) added to `ev` when the burst holds more than this message.
    std::optional<route_result> debounce(const job& j, const tenant_config& tenant, boost::json::object& ev);

    /// For the "generated" object of a command (a model's reply): switchboard_ai_replies_total
    /// {tenant,provider,tier}, switchboard_ai_tokens_total{tenant,provider,kind=prompt|completion}
    /// and the histogram switchboard_ai_latency_seconds{tenant,provider} (replies generated now).
    void count_generated(const std::string& tenant, const boost::json::object& generated);

    struct step_result {
        call_outcome outcome;
        std::string stage;  ///< the stage whose outcome stands (the winning or last tier)
        std::string plugin; ///< its instance
    };
    /// Runs one step: a stage, or a first_of chain tier by tier (appending to `earlier` each tier
    /// that fell through, and the step's outcome when `later_steps` of the route will read it).
    step_result run_step(const job& j, const route_step& step, const std::string& event_text, const std::string& origin,
                         int stage_index, bool later_steps, boost::json::array& earlier);
    /// Records a breakable tier's outcome, logs a change of state and updates its gauge.
    void note_breaker(plugin_instance& inst, const std::string& tenant, const std::string& stage, bool ok);
    /// Calls a stage; with `budgeted`, gives up waiting after the stage's budget (outcome code "late").
    call_outcome call_stage(plugin_instance& inst, const stage_call& c, const std::string& event_text, call_context ctx,
                            bool budgeted);

    const config& cfg_;
    const instance_registry& instances_;
    store& db_;
    metrics& stats_;
    clock_fn clock_;
    circuit_breaker breaker_;  ///< per tenant and first_of tier (not the last tier, which always runs)
    std::mutex late_mu_;
    std::vector<std::shared_future<call_outcome>> late_; ///< tiers abandoned past their budget, still running
};

}  // namespace switchboard::core::dispatch
