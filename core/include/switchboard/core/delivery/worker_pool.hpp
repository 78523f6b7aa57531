// switchboard/core/delivery/worker_pool.hpp — the delivery workers: threads that claim due jobs
// from the store and run them (route jobs through the route runner, commands through the command
// runner), applying the retry policy to failures. Workers are pooled per job class (stages,
// replies, other commands; sized by delivery.workers, reply_workers, command_workers), so a slow
// AI stage or a retrying CRM call never takes the thread a customer's reply needs. Idle workers
// sleep until the next job is due or work of their class is announced; they never poll the
// database in a loop.
#pragma once

#include <switchboard/core/clock.hpp>
#include <switchboard/core/config/config.hpp>
#include <switchboard/core/delivery/command_runner.hpp>
#include <switchboard/core/delivery/retry_policy.hpp>
#include <switchboard/core/dispatch/route_runner.hpp>
#include <switchboard/core/observability/metrics.hpp>
#include <switchboard/core/store/store.hpp>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace switchboard::core::delivery {

/// How long an idle worker sleeps (ms) when nothing could be claimed at `now_ms`, given when the
/// store says the next job is due (`next_due_ms`, nullopt: no job at all): until it is due, at
/// least 1 ms and at most 1 s; 50 ms when it is already due (another worker holds it or took it),
/// so a contended job is never polled in a tight loop.
int64_t idle_wait_ms(std::optional<int64_t> next_due_ms, int64_t now_ms);

/// How often (ms) an idle worker repairs lane heads (store::promote_lane_heads).
inline constexpr int64_t lane_repair_interval_ms = 5'000;

/// How often a running job's lease is renewed: every third of delivery.lease (at most every 10 s
/// of a long lease), so a job that runs longer than its lease (a slow provider, a long AI call)
/// is never claimed again while it still runs. @returns milliseconds.
int64_t lease_renewal_interval_ms(int64_t lease_ms);

class worker_pool {
public:
    worker_pool(const delivery_config& cfg, store& db, dispatch::route_runner& routes, command_runner& commands,
                metrics& stats, clock_fn clock);
    ~worker_pool();

    /// Starts the pools: cfg.workers stage workers, cfg.reply_workers reply workers and
    /// cfg.command_workers command workers.
    void start();
    /// Wakes idle workers of every class: new jobs were committed.
    void notify();
    /// Wakes idle workers of class `cls` only.
    void notify(job_class cls);
    /// Lets every worker finish its current job, then joins them. Unfinished jobs stay for the next start.
    void stop();

    /// Claims one due job and runs it on the calling thread; `random01` in [0, 1) draws backoff
    /// jitter. @returns false when nothing was due. @throws on storage failure while claiming.
    bool run_one(double random01, job_class cls = job_class::any);

    /// Renews the lease of every job running now to now + delivery.lease (the pool's renewal
    /// thread calls it every lease_renewal_interval_ms). @returns how many leases were renewed;
    /// a job whose claim was lost meanwhile is logged and left to its new owner.
    int renew_leases();

private:
    void loop(int index, job_class cls);
    void renewal_loop();
    void run_route(const job& j, double random01);

    const delivery_config& cfg_;
    store& db_;
    dispatch::route_runner& routes_;
    command_runner& commands_;
    metrics& stats_;
    clock_fn clock_;
    retry_policy retries_;
    std::vector<std::thread> threads_;
    std::thread renewal_;
    std::mutex running_mu_;
    std::map<int64_t, job> running_; ///< claimed jobs being run now, by id
    std::mutex mu_;
    std::condition_variable wake_;
    bool stopping_ = false;
    uint64_t wake_seq_[4] = {0, 0, 0, 0}; ///< per job_class: bumped by notify()
    int64_t last_lane_repair_ms_ = 0;
};

}  // namespace switchboard::core::delivery
