// Measures durable webhook ingest: N signed-and-parsed webhooks (one message.received each, which
// also creates a route job) submitted from several threads, acknowledged only after commit.
// Group commit shares each transaction across whatever has queued.
//
//   switchboard_bench_ingest [URL] [WEBHOOKS] [THREADS]
//   URL defaults to a temporary SQLite file (WAL, synchronous=FULL).
#include <switchboard/core/dispatch/keys.hpp>
#include <switchboard/core/store/store.hpp>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <future>
#include <unistd.h>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace switchboard::core;
namespace json = boost::json;

int main(int argc, char** argv) {
    auto dir = std::filesystem::temp_directory_path() / ("sb-bench-" + std::to_string(::getpid()));
    std::string url = argc > 1 && *argv[1] ? argv[1] : "sqlite:" + (dir / "bench.db").string();
    int total = argc > 2 ? std::stoi(argv[2]) : 20000;
    int threads = argc > 3 ? std::stoi(argv[3]) : 64;

    store::options o;
    o.url = url;
    o.pool_size = 2;
    o.route_job = [](const filed_event& e) { return dispatch::route_job_for(e); };
    auto db = store::open(o);

    std::mutex mu;
    std::condition_variable cv;
    int done = 0, failed = 0;
    std::atomic<int> next{0};
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            // Each thread behaves like one HTTP connection: it waits for its ack before the next post.
            for (int i = next++; i < total; i = next++) {
                json::object ev{{"type", "message.received"},
                                {"channel", "messenger"},
                                {"provider_message_id", "m_" + std::to_string(i)},
                                {"contact", {{"provider_id", "psid_" + std::to_string(i % 500)}}},
                                {"timestamp_ms", 1'700'000'000'000 + i},
                                {"text", "hello"}};
                std::promise<bool> acked;
                db->ingest({"demo", "messenger", "application/json", "{\"object\":\"page\"}", 1'700'000'000'000 + i,
                            {json::serialize(ev)}},
                           [&](ingest_result r) { acked.set_value(r.status == ingest_status::stored); });
                bool ok = acked.get_future().get();
                std::lock_guard lk(mu);
                ++done;
                if (!ok) ++failed;
                if (done == total) cv.notify_all();
            }
            (void)t;
        });
    {
        std::unique_lock lk(mu);
        cv.wait(lk, [&] { return done == total; });
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (auto& th : pool) th.join();
    db->close();
    std::printf("%d webhooks (%d failed) from %d concurrent senders in %.2f s: %.0f webhooks/s acknowledged durably\n",
                total, failed, threads, seconds, total / seconds);
    std::filesystem::remove_all(dir);
    return failed ? 1 : 0;
}
