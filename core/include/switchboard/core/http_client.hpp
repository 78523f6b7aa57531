// switchboard/core/http_client.hpp — outbound HTTP for plugins (libcurl): TLS peer and host
// verification always on, whole-request timeouts, no redirects followed.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::core {

struct http_client_response {
    bool ok = false;         ///< a response arrived (any status)
    bool timed_out = false;  ///< the request hit its timeout
    int status = 0;          ///< HTTP status when ok
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string error;       ///< transport error when !ok (never contains the URL's query or headers)
};

/// Performs one request, blocking the calling worker thread.
/// @param timeout_ms whole-request timeout in milliseconds (connect included); must be > 0.
/// @returns the response or a transport error; never throws.
http_client_response http_request(const std::string& method, const std::string& url,
                                  const std::vector<std::pair<std::string, std::string>>& headers,
                                  const std::string& body, int64_t timeout_ms);

}  // namespace switchboard::core
