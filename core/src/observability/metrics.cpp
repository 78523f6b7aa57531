#include <switchboard/core/observability/metrics.hpp>

#include <charconv>
#include <sstream>

namespace switchboard::core {

namespace {
const std::vector<double> buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

std::string escape(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

std::string number(double v) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v); // shortest text that reads back as v
    return ec == std::errc() ? std::string(buf, end) : "NaN";
}
}  // namespace

std::string metrics::key(const labels& l) {
    std::string out;
    for (auto& [k, v] : l) out += (out.empty() ? "" : ",") + k + "=\"" + escape(v) + "\"";
    return out;
}

void metrics::describe(const std::string& name, const std::string& type, const std::string& help) {
    std::lock_guard lk(mu_);
    meta_[name] = {type, help};
}

void metrics::add(const std::string& name, const labels& l, double value) {
    std::lock_guard lk(mu_);
    counters_[name][key(l)] += value;
}

void metrics::set(const std::string& name, const labels& l, double value) {
    std::lock_guard lk(mu_);
    set_gauges_[name][key(l)] = value;
}

void metrics::observe(const std::string& name, const labels& l, double value) {
    std::lock_guard lk(mu_);
    auto& h = histograms_[name][key(l)];
    if (h.counts.empty()) h.counts.assign(buckets.size(), 0);
    for (size_t i = 0; i < buckets.size(); ++i)
        if (value <= buckets[i]) {
            h.counts[i] += 1;
            break;
        }
    h.sum += value;
    h.count += 1;
}

void metrics::gauge_callback(const std::string& name, std::function<std::vector<std::pair<labels, double>>()> fn) {
    std::lock_guard lk(mu_);
    gauges_[name] = std::move(fn);
}

double metrics::value(const std::string& name, const labels& l) const {
    std::lock_guard lk(mu_);
    auto it = counters_.find(name);
    if (it == counters_.end()) return 0;
    auto jt = it->second.find(key(l));
    return jt == it->second.end() ? 0 : jt->second;
}

std::string metrics::render() const {
    std::map<std::string, std::function<std::vector<std::pair<labels, double>>()>> gauges;
    {
        std::lock_guard lk(mu_);
        gauges = gauges_;
    }
    // Gauge callbacks may query the database: run them outside the lock.
    std::map<std::string, std::vector<std::pair<labels, double>>> gauge_values;
    for (auto& [name, fn] : gauges) {
        try {
            gauge_values[name] = fn();
        } catch (...) {
        }
    }
    std::lock_guard lk(mu_);
    std::ostringstream out;
    auto header = [&](const std::string& name, const char* fallback_type) {
        auto it = meta_.find(name);
        if (it != meta_.end()) {
            out << "# HELP " << name << ' ' << it->second.second << '\n';
            out << "# TYPE " << name << ' ' << it->second.first << '\n';
        } else {
            out << "# TYPE " << name << ' ' << fallback_type << '\n';
        }
    };
    for (auto& [name, series] : counters_) {
        header(name, "counter");
        for (auto& [k, v] : series) out << name << (k.empty() ? "" : "{" + k + "}") << ' ' << number(v) << '\n';
    }
    for (auto& [name, series] : set_gauges_) {
        header(name, "gauge");
        for (auto& [k, v] : series) out << name << (k.empty() ? "" : "{" + k + "}") << ' ' << number(v) << '\n';
    }
    for (auto& [name, series] : gauge_values) {
        header(name, "gauge");
        for (auto& [l, v] : series) {
            auto k = key(l);
            out << name << (k.empty() ? "" : "{" + k + "}") << ' ' << number(v) << '\n';
        }
    }
    for (auto& [name, series] : histograms_) {
        header(name, "histogram");
        for (auto& [k, h] : series) {
            double cumulative = 0;
            std::string prefix = k.empty() ? "" : k + ",";
            for (size_t i = 0; i < buckets.size(); ++i) {
                cumulative += h.counts[i];
                out << name << "_bucket{" << prefix << "le=\"" << number(buckets[i]) << "\"} " << number(cumulative) << '\n';
            }
            out << name << "_bucket{" << prefix << "le=\"+Inf\"} " << number(h.count) << '\n';
            out << name << "_sum" << (k.empty() ? "" : "{" + k + "}") << ' ' << number(h.sum) << '\n';
            out << name << "_count" << (k.empty() ? "" : "{" + k + "}") << ' ' << number(h.count) << '\n';
        }
    }
    return out.str();
}

}  // namespace switchboard::core
