// switchboard/core/metrics.hpp — counters, gauges and histograms rendered in the Prometheus text
// exposition format (version 0.0.4) for GET /metrics. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::core {

/// Label set, e.g. {{"route","/healthz"},{"status","200"}}; order is kept as given.
using labels = std::vector<std::pair<std::string, std::string>>;

class metrics {
public:
    /// Declares a metric's HELP text and type ("counter", "gauge", "histogram") before use.
    void describe(const std::string& name, const std::string& type, const std::string& help);
    /// Adds `value` to a counter.
    void add(const std::string& name, const labels& l, double value = 1);
    /// Sets a gauge to `value`.
    void set(const std::string& name, const labels& l, double value);
    /// Records one observation (in seconds, for latencies) in a histogram with fixed buckets
    /// 5 ms … 30 s.
    void observe(const std::string& name, const labels& l, double value);
    /// Registers a gauge whose values are computed at scrape time (e.g. jobs by state).
    void gauge_callback(const std::string& name, std::function<std::vector<std::pair<labels, double>>()> fn);
    /// The current value of a counter (0 when never incremented). For tests.
    double value(const std::string& name, const labels& l) const;
    /// All metrics in Prometheus text format.
    std::string render() const;

private:
    struct histogram {
        std::vector<double> counts; // per bucket (cumulative at render)
        double sum = 0;
        double count = 0;
    };
    static std::string key(const labels& l);
    mutable std::mutex mu_;
    std::map<std::string, std::pair<std::string, std::string>> meta_; // name -> (type, help)
    std::map<std::string, std::map<std::string, double>> counters_;
    std::map<std::string, std::map<std::string, double>> set_gauges_;
    std::map<std::string, std::map<std::string, histogram>> histograms_;
    std::map<std::string, std::function<std::vector<std::pair<labels, double>>()>> gauges_;
};

}  // namespace switchboard::core
