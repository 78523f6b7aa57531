#include <switchboard/core/observability/metrics.hpp>

#include <catch2/catch.hpp>

using namespace switchboard::core;

TEST_CASE("metrics render in Prometheus text format", "[metrics]") {
    metrics m;
    m.describe("switchboard_http_requests_total", "counter", "HTTP requests.");
    m.add("switchboard_http_requests_total", {{"route", "/healthz"}, {"status", "200"}});
    m.add("switchboard_http_requests_total", {{"route", "/healthz"}, {"status", "200"}}, 2);
    m.observe("switchboard_delivery_latency_seconds", {{"plugin", "messenger"}}, 0.02);
    m.gauge_callback("switchboard_jobs", [] { return std::vector<std::pair<labels, double>>{{{{"state", "dead"}}, 3}}; });
    CHECK(m.value("switchboard_http_requests_total", {{"route", "/healthz"}, {"status", "200"}}) == 3);
    auto text = m.render();
    CHECK(text.find("# HELP switchboard_http_requests_total HTTP requests.\n") != std::string::npos);
    CHECK(text.find("# TYPE switchboard_http_requests_total counter\n") != std::string::npos);
    CHECK(text.find("switchboard_http_requests_total{route=\"/healthz\",status=\"200\"} 3\n") != std::string::npos);
    CHECK(text.find("switchboard_jobs{state=\"dead\"} 3\n") != std::string::npos);
    CHECK(text.find("switchboard_delivery_latency_seconds_bucket{plugin=\"messenger\",le=\"0.01\"} 0\n") != std::string::npos);
    CHECK(text.find("switchboard_delivery_latency_seconds_bucket{plugin=\"messenger\",le=\"0.025\"} 1\n") != std::string::npos);
    CHECK(text.find("switchboard_delivery_latency_seconds_count{plugin=\"messenger\"} 1\n") != std::string::npos);
}

TEST_CASE("label values are escaped", "[metrics]") {
    metrics m;
    m.add("x_total", {{"v", "a\"b\\c\nd"}});
    CHECK(m.render().find("x_total{v=\"a\\\"b\\\\c\\nd\"} 1") != std::string::npos);
}
