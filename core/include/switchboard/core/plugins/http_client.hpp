// switchboard/core/plugins/http_client.hpp — the HTTP client behind sb_host_api.http_request
// (libcurl): TLS verified, no redirects, connections reused per worker thread, response size
// capped, optional refusal of private addresses.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::core {

enum class http_failure {
    none,            ///< a response arrived (any status)
    invalid_request, ///< malformed URL or a scheme other than http/https: retrying cannot help
    timeout,         ///< the request hit its timeout
    transport,       ///< DNS, connect, TLS or a connection lost mid-way
    too_large,       ///< the response body exceeded max_response_bytes: retrying cannot help
    refused_address, ///< refuse_private_addresses and the host resolved to a private address
};

/// One outbound request.
struct outbound_http {
    std::string method = "GET";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    int64_t timeout_ms = 0;          ///< whole request; <= 0: 10 000
    int64_t connect_timeout_ms = 0;  ///< TCP+TLS connect; <= 0: min(5 000, timeout)
    uint64_t max_response_bytes = 0; ///< 0: 16 MiB
    bool refuse_private_addresses = false; ///< refuse loopback, RFC 1918, link-local, ULA, unspecified
};

struct http_client_response {
    http_failure failure = http_failure::transport;
    int status = 0;          ///< HTTP status when failure == none
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string error;       ///< what failed when failure != none (never contains the URL's query or headers)
};

/// Default cap of a response body (bytes).
constexpr uint64_t default_max_response_bytes = 16ull << 20;

/// Performs `request`. Never throws for transport problems: they come back in `failure`.
http_client_response http_request(const outbound_http& request);

/// True for addresses an outbound webhook to a customer URL must not reach: loopback, private
/// (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), link-local (169.254/16, fe80::/10),
/// unspecified and IPv4-mapped forms of those. `address` is numeric ("10.0.0.1", "::1").
bool is_private_address(const std::string& address);

}  // namespace switchboard::core
