// switchboard/core/delivery/command_runner.hpp — executing one command job (a send...) through
// its plugin, with echo recovery: an attempt that was interrupted mid-call (crash, kill -9) may
// have reached the provider, so before sending again the runner looks for proof that it did.
#pragma once

#include <switchboard/core/clock.hpp>
#include <switchboard/core/config/config.hpp>
#include <switchboard/core/delivery/rate_limiter.hpp>
#include <switchboard/core/delivery/retry_policy.hpp>
#include <switchboard/core/observability/metrics.hpp>
#include <switchboard/core/plugins/registry.hpp>
#include <switchboard/core/store/store.hpp>

#include <functional>
#include <string>

namespace switchboard::core::delivery {

/// How running a command job ended.
enum class command_status {
    delivered,       ///< the plugin executed it (or proof showed an earlier attempt had); recorded
    already_proven,  ///< an interrupted attempt was delivered (echo seen); recorded without sending
    waiting_for_echo,///< an interrupted send's outcome is unknown: postponed until the echo grace ends
    failed,          ///< the attempt failed; the retry policy retried or dead-lettered it
    deferred,        ///< the plugin asked to run it later (SB_ERR_RETRY_AFTER); no attempt counted
    lost,            ///< the claim no longer held when recording the outcome
};

class command_runner {
public:
    command_runner(const delivery_config& cfg, const instance_registry& instances, store& db, metrics& stats,
                   clock_fn clock);

    /// Called (on the worker's thread) after a delivered command filed events of its own (a
    /// result with a "type"): their route jobs may be due. The worker pool wakes its stage workers.
    void on_events_filed(std::function<void()> callback) { on_events_ = std::move(callback); }

    /// Runs command job `j`. `random01` in [0, 1) draws the backoff jitter of a failure.
    /// @throws on storage failure (the lease then expires and the job runs again, interrupted).
    command_status run(const job& j, double random01);

private:
    /// Records a delivered command, retrying the write a few times: the provider has accepted it,
    /// so a storage hiccup here must not turn into a second send.
    command_status record_delivered(const job& j, const std::string& result, const std::vector<std::string>& events = {});
    /// Holds a message.send back until the provider's rate limits (sb_rate_limit) allow it.
    /// @returns true when the job was postponed (or its claim lost) instead of run now.
    bool held_by_rate_limit(const job& j, const plugin_instance& inst, const boost::json::object& cmd,
                            command_status& status);

    const delivery_config& cfg_;
    const instance_registry& instances_;
    store& db_;
    metrics& stats_;
    clock_fn clock_;
    retry_policy retries_;
    rate_limiter limiter_;
    std::function<void()> on_events_;
};

}  // namespace switchboard::core::delivery
