// switchboard/core/http_server.hpp — the HTTP ingress (Boost.Beast behind a pimpl, so this header
// stays free of Asio/Beast templates). It knows no provider: it parses requests, enforces the
// body limit (413) and timeouts, and hands each request to one handler that answers through a
// responder, possibly later and from another thread (after a group commit).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::core {

struct http_request_data {
    std::string method;  ///< "GET", "POST", ...
    std::string path;    ///< target path, percent-decoded, without the query
    std::string query;   ///< raw query string without '?'
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;    ///< raw body bytes
    std::string target;  ///< the request target exactly as received (path and query, percent-encoded)
    std::string peer_address; ///< the TCP peer's address, no port
};

struct http_response_data {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::string route; ///< route template for metrics, e.g. "/webhooks/{plugin}/{tenant}"
    std::vector<std::pair<std::string, std::string>> headers; ///< extra response headers
};

/// Answers a request exactly once; callable from any thread.
using http_responder = std::function<void(http_response_data)>;
using http_handler = std::function<void(http_request_data&&, http_responder)>;

struct http_server_options {
    std::string host = "127.0.0.1";
    uint16_t port = 8080;            ///< 0 picks a free port (see bound_port())
    uint64_t max_body_bytes = 1 << 20;
    int64_t header_timeout_ms = 10'000; ///< to receive one whole request
    int64_t idle_timeout_ms = 60'000;   ///< keep-alive idle limit between requests
    int threads = 2;
};

class http_server {
public:
    /// `on_response` is told of every answer (method, route, status, seconds) for metrics.
    http_server(http_server_options opts, http_handler handler,
                std::function<void(const std::string& method, const std::string& route, int status, double seconds)>
                    on_response);
    ~http_server();
    /// Binds and starts the I/O threads. @throws std::runtime_error when the address cannot be bound.
    void start();
    /// The bound port (after start()).
    uint16_t bound_port() const;
    /// Stops accepting; waits up to `grace_ms` for requests in flight to be answered, then closes
    /// every connection and joins the I/O threads.
    void stop(int64_t grace_ms);

    struct impl; ///< opaque: Beast and Asio live only in http_server.cpp

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace switchboard::core
