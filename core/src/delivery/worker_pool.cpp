// Delivery workers: claim, run, sleep until the next job is due.
#include <switchboard/core/delivery/worker_pool.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

namespace switchboard::core::delivery {

int64_t idle_wait_ms(std::optional<int64_t> next_due_ms, int64_t now_ms) {
    if (!next_due_ms) return 1000;
    if (*next_due_ms <= now_ms) return 50;
    return std::clamp<int64_t>(*next_due_ms - now_ms, 1, 1000);
}

int64_t lease_renewal_interval_ms(int64_t lease_ms) { return std::clamp<int64_t>(lease_ms / 3, 1, 10'000); }

worker_pool::worker_pool(const delivery_config& cfg, store& db, dispatch::route_runner& routes,
                         command_runner& commands, metrics& stats, clock_fn clock)
    : cfg_(cfg), db_(db), routes_(routes), commands_(commands), stats_(stats), clock_(std::move(clock)),
      retries_(cfg, db) {
    commands_.on_events_filed([this] { notify(job_class::stages); }); // route jobs of command results
}

worker_pool::~worker_pool() {
    stop();
    commands_.on_events_filed(nullptr);
}

void worker_pool::start() {
    int index = 0;
    for (auto [cls, n] : {std::pair{job_class::stages, cfg_.workers}, std::pair{job_class::replies, cfg_.reply_workers},
                          std::pair{job_class::commands, cfg_.command_workers}})
        for (int i = 0; i < n; ++i, ++index) threads_.emplace_back([this, index, cls = cls] { loop(index, cls); });
    renewal_ = std::thread([this] { renewal_loop(); });
}

void worker_pool::notify() {
    {
        std::lock_guard lk(mu_);
        for (auto& seq : wake_seq_) ++seq;
    }
    wake_.notify_all();
}

void worker_pool::notify(job_class cls) {
    {
        std::lock_guard lk(mu_);
        ++wake_seq_[static_cast<int>(cls)];
    }
    wake_.notify_all();
}

void worker_pool::stop() {
    {
        std::lock_guard lk(mu_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
    if (renewal_.joinable()) renewal_.join();
}

int worker_pool::renew_leases() {
    std::vector<job> jobs;
    {
        std::lock_guard lk(running_mu_);
        for (auto& [id, j] : running_) jobs.push_back(j);
    }
    int renewed = 0;
    for (auto& j : jobs) {
        int64_t now = clock_();
        if (db_.extend_lease(j, now + cfg_.lease_ms, now) == fence::held) {
            ++renewed;
            continue;
        }
        spdlog::warn("[tenant={}] job {} lost its lease while running (another worker took it over); its outcome "
                     "will not be recorded by this worker",
                     j.tenant, j.id);
        std::lock_guard lk(running_mu_);
        running_.erase(j.id);
    }
    return renewed;
}

void worker_pool::renewal_loop() {
    const auto interval = std::chrono::milliseconds(lease_renewal_interval_ms(cfg_.lease_ms));
    while (true) {
        {
            std::unique_lock lk(mu_);
            if (wake_.wait_for(lk, interval, [&] { return stopping_; })) return;
        }
        try {
            renew_leases();
        } catch (const std::exception& e) {
            spdlog::error("dispatcher: cannot renew leases: {}", storage_error_message(e));
        }
    }
}

void worker_pool::run_route(const job& j, double random01) {
    auto r = routes_.run(j);
    switch (r.status) {
    case dispatch::route_status::completed:
        stats_.add("switchboard_route_jobs_total", {{"outcome", "success"}});
        if (r.commands > 0) {
            notify(job_class::replies);
            notify(job_class::commands);
        }
        if (r.events > 0) notify(job_class::stages);
        return;
    case dispatch::route_status::lost:
        spdlog::warn("[tenant={}] route job {} finished after its lease ran out; another worker owns it now", j.tenant,
                     j.id);
        return;
    case dispatch::route_status::deferred:
        stats_.add("switchboard_route_jobs_total", {{"outcome", "deferred"}});
        retries_.record_deferral(j, r.retry_after_ms, r.error, r.plugin, random01, clock_());
        return;
    case dispatch::route_status::failed:
        stats_.add("switchboard_route_jobs_total", {{"outcome", r.final_failure ? "final" : "retryable"}});
        retries_.record_failure(j, r.final_failure, r.error, r.plugin, random01, clock_());
        return;
    }
}

bool worker_pool::run_one(double random01, job_class cls) {
    auto j = db_.claim(clock_, cfg_.lease_ms, cfg_.max_attempts, cls);
    if (!j) return false;
    {
        std::lock_guard lk(running_mu_);
        running_[j->id] = *j;
    }
    try {
        if (j->kind == job_kind::route) run_route(*j, random01);
        else commands_.run(*j, random01);
    } catch (const std::exception& e) {
        // Storage trouble while finishing: the lease expires and the job runs again.
        spdlog::error("[tenant={}] job {} ({}) could not be finished: {}", j->tenant, j->id, job_kind_name(j->kind),
                      storage_error_message(e));
    }
    std::lock_guard lk(running_mu_);
    running_.erase(j->id);
    return true;
}

void worker_pool::loop(int index, job_class cls) {
    auto& sequence = wake_seq_[static_cast<int>(cls)];
    std::mt19937_64 rng(std::random_device{}() + index);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    while (true) {
        uint64_t seen;
        {
            std::lock_guard lk(mu_);
            if (stopping_) return;
            seen = sequence;
        }
        try {
            if (run_one(uniform(rng), cls)) continue;
        } catch (const std::exception& e) {
            spdlog::error("dispatcher: cannot claim jobs: {}", storage_error_message(e));
        }
        int64_t wait_ms = 1000;
        try {
            int64_t now = clock_();
            if (index == 0 && now - last_lane_repair_ms_ >= lane_repair_interval_ms) {
                last_lane_repair_ms_ = now;
                if (int n = db_.promote_lane_heads()) spdlog::info("dispatcher: {} queued job(s) may run now", n);
            }
            wait_ms = idle_wait_ms(db_.next_due_ms(cls), clock_());
        } catch (const std::exception& e) {
            spdlog::error("dispatcher: cannot read when the next job is due: {}", storage_error_message(e));
        }
        std::unique_lock lk(mu_);
        wake_.wait_for(lk, std::chrono::milliseconds(wait_ms), [&] { return stopping_ || sequence != seen; });
    }
}

}  // namespace switchboard::core::delivery
