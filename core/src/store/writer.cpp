// The group-commit writer: one thread commits whatever webhooks have queued in one transaction
// (a savepoint each, so one bad webhook fails alone), then acknowledges every waiting request.
#include "event_statements.hpp"
#include "sql_store.hpp"

#include <spdlog/spdlog.h>

namespace switchboard::core::store_detail {

ingest_result failed_ingest(std::string error) {
    ingest_result r;
    r.error = std::move(error);
    return r;
}

void sql_store::ingest(ingest_request request, std::function<void(ingest_result)> done) {
    {
        std::lock_guard lk(mu_);
        if (!stopping_) {
            queue_.push_back({std::move(request), std::move(done)});
            cv_.notify_one();
            return;
        }
    }
    done(failed_ingest("the service is stopping"));
}

void sql_store::writer_loop() {
    for (;;) {
        std::vector<pending> batch;
        {
            std::unique_lock lk(mu_);
            cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty() && stopping_) return;
            while (!queue_.empty() && batch.size() < 512) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        auto results = commit_batch(batch);
        for (size_t i = 0; i < batch.size(); ++i) {
            try {
                batch[i].done(std::move(results[i]));
            } catch (const std::exception& e) {
                spdlog::error("storage: ingest callback failed: {}", e.what());
            }
        }
    }
}

std::vector<ingest_result> sql_store::commit_batch(std::vector<pending>& batch) {
    std::vector<ingest_result> results(batch.size());
    auto& s = *writer_;
    try {
        if (!statements_) statements_ = std::make_unique<writer_statements>(s);
        auto& w = *statements_;
        begin(s);
        for (size_t i = 0; i < batch.size(); ++i) {
            w.run(w.savepoint);
            try {
                results[i] = ingest_one(s, w, batch[i].request);
                w.run(w.release);
            } catch (const std::exception& e) {
                w.run(w.rollback_to);
                w.run(w.release);
                results[i] = failed_ingest("cannot store webhook: " + storage_error_message(e));
            }
        }
        commit(s);
    } catch (const std::exception& e) {
        rollback(s);
        spdlog::error("storage: group commit of {} webhooks failed: {}", batch.size(), storage_error_message(e));
        for (auto& r : results) r = failed_ingest("storage failure: " + storage_error_message(e));
        try {
            statements_.reset();
            s.reconnect();
            tune(s);
        } catch (const std::exception& re) {
            spdlog::error("storage: reconnect failed: {}", storage_error_message(re));
        }
    }
    return results;
}
}  // namespace switchboard::core::store_detail
