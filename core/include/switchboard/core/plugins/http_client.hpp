// switchboard/core/plugins/http_client.hpp — outbound HTTP for plugins (libcurl): TLS peer and host
// verification always on, whole-request timeouts, no redirects followed.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::core {

/// Why a request got no response.
enum class http_failure {
    none,            ///< a response arrived (any status)
    invalid_request, ///< malformed URL or a scheme other than http/https: retrying cannot help
    timeout,         ///< the request hit its timeout
    transport,       ///< DNS, connect, TLS or a connection lost mid-way
};

struct http_client_response {
    http_failure failure = http_failure::transport;
    int status = 0;          ///< HTTP status when failure == none
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string error;       ///< what failed when failure != none (never contains the URL's query or headers)
};

/// Performs one request, blocking the calling worker thread.
/// @param timeout_ms whole-request timeout in milliseconds (connect included); must be > 0.
/// @returns the response or a transport error; never throws.
http_client_response http_request(const std::string& method, const std::string& url,
                                  const std::vector<std::pair<std::string, std::string>>& headers,
                                  const std::string& body, int64_t timeout_ms);

}  // namespace switchboard::core
