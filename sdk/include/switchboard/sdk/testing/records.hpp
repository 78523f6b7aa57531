// switchboard/sdk/testing/records.hpp — what the SDK's fake host (switchboard/sdk/testing.hpp)
// takes and hands back: requests, replies, call results, logs and metrics. Header-only.
#pragma once

#include <switchboard/abi.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::sdk::testing {

/// HTTP headers as (name, value) pairs, in order. Look names up case-insensitively (header()).
using header_list = std::vector<std::pair<std::string, std::string>>;

/// A failed plugin call, as the plugin reported it through the ABI.
struct call_error {
    sb_status status = SB_ERR_FINAL; ///< SB_ERR_RETRYABLE, SB_ERR_FINAL, SB_ERR_INVALID, SB_ERR_UNSUPPORTED or SB_ERR_RETRY_AFTER
    std::string code{};              ///< the provider's error code (plugin_error::code()), often ""
    std::string message{};           ///< the plugin's message (not redacted)
    int64_t retry_after_ms = 0;      ///< with SB_ERR_RETRY_AFTER: the deferral the plugin asked for, in ms
};

/// "SB_ERR_RETRYABLE" etc. for a status, for messages and test reports.
inline const char* status_name(sb_status status) noexcept {
    switch (status) {
    case SB_OK: return "SB_OK";
    case SB_ERR_RETRYABLE: return "SB_ERR_RETRYABLE";
    case SB_ERR_FINAL: return "SB_ERR_FINAL";
    case SB_ERR_INVALID: return "SB_ERR_INVALID";
    case SB_ERR_UNSUPPORTED: return "SB_ERR_UNSUPPORTED";
    case SB_ERR_RETRY_AFTER: return "SB_ERR_RETRY_AFTER";
    }
    return "unknown sb_status";
}

/// Thrown when a plugin call that has no error result fails: tenant_instance::webhook() (the real
/// host would answer 500 and store nothing), account_ids() and fake_host::route_keys().
/// what() is "<operation> failed (<status name>): <message>"; error() holds the details.
class plugin_call_error : public std::runtime_error {
public:
    plugin_call_error(std::string_view operation, call_error error)
        : std::runtime_error(std::string(operation) + " failed (" + status_name(error.status) + "): " + error.message),
          error_(std::move(error)) {}
    const call_error& error() const noexcept { return error_; }

private:
    call_error error_;
};

/// Outcome of tenant_instance::execute() and run_stage(): outputs, or the plugin's error.
struct call_result {
    /// execute(): the result object (e.g. {"provider_message_id": ...}; completed as an event when
    /// it has a "type"), then any events; run_stage(): every event and command emitted, in order,
    /// with "tenant", "channel" and "instance" filled in as the host does. Empty when the call failed.
    std::vector<boost::json::object> outputs{};
    /// Set when the plugin returned anything but SB_OK.
    std::optional<call_error> error{};

    bool ok() const noexcept { return !error; }
    /// SB_OK, or error->status.
    sb_status status() const noexcept { return error ? error->status : SB_OK; }
    /// The single output of a successful call.
    /// @throws std::logic_error when the call failed or produced other than exactly one output.
    const boost::json::object& output() const {
        if (error)
            throw std::logic_error(std::string("the call failed (") + status_name(error->status) + "): " + error->message);
        if (outputs.size() != 1)
            throw std::logic_error("expected exactly one output, got " + std::to_string(outputs.size()));
        return outputs.front();
    }
};

/// Prints "ok [outputs...]" or "SB_ERR_...(code): message", so test frameworks can show a result.
inline std::ostream& operator<<(std::ostream& os, const call_result& r) {
    if (r.error)
        return os << status_name(r.error->status) << '(' << r.error->code << "): " << r.error->message;
    os << "ok [";
    for (size_t i = 0; i < r.outputs.size(); ++i) os << (i ? ", " : "") << boost::json::serialize(r.outputs[i]);
    return os << ']';
}

/// First header named `name` (ASCII case-insensitive), or nullopt.
inline std::optional<std::string> find_header(const header_list& headers, std::string_view name) {
    for (auto& [k, v] : headers)
        if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            }))
            return v;
    return std::nullopt;
}

/// An inbound webhook request, as the host's ingress would hand it to the plugin.
struct inbound_request {
    std::string method = "POST"; ///< "GET", "POST" or "OPTIONS"
    std::string path{};          ///< decoded path, e.g. "/webhooks/echo/demo"
    std::string query{};         ///< raw query string without '?', percent-encoded, e.g. "hub.mode=subscribe"
    header_list headers{};       ///< request headers (Content-Type among them reaches request::content_type())
    std::string body{};          ///< raw body bytes (signatures are computed over exactly these)
    /// The URL the provider called (server.public_url + path and query), e.g.
    /// "https://bot.example.com/webhooks/twilio/demo"; "" as without server.public_url.
    std::string public_url{};
    std::string peer_address = "203.0.113.10"; ///< the TCP peer (a TEST-NET-3 address by default)
    std::string instance{};      ///< the instance name the URL addressed; "" = the instance's own name
};

/// The call context of tenant_instance::execute() and run_stage() (sb_call_context). The host
/// derives the idempotency key from the tenant and the provider ids of the event behind the call.
struct call_options {
    std::string idempotency_key = "test-idempotency-key";
    unsigned attempt = 1;
    int64_t deadline_ms = 0;              ///< absolute, on the fake clock; 0 = now + 30 s
    boost::json::object params{};         ///< the stage's `with:` parameters
    boost::json::array earlier_outputs{}; ///< [{"stage","outcome","error","outputs"}] of earlier stages
};

/// What the plugin made of a webhook.
struct webhook_response {
    int status = 200;                         ///< HTTP status (200 when the plugin never responded)
    std::string content_type = "text/plain";  ///< of body
    std::string body{};                       ///< response body ("" when the plugin never responded)
    /// Normalized events emitted, in order, with "tenant" and "instance" set and "channel" filled in
    /// when absent, as the host stores them.
    std::vector<boost::json::object> events{};
    header_list headers{}; ///< response headers the plugin added (webhook_result::header())

    /// First response header named `name` (case-insensitive), or nullopt.
    std::optional<std::string> header(std::string_view name) const { return find_header(headers, name); }
};

/// An outbound HTTP request the plugin made through the host (sdk::host::http()).
struct outbound_request {
    std::string tenant{};    ///< tenant of the instance that made it
    std::string method{};    ///< e.g. "POST"
    std::string url{};       ///< full URL
    header_list headers{};   ///< as the plugin set them
    std::string body{};      ///< raw body
    uint32_t timeout_ms = 0; ///< requested whole-request timeout in ms; 0 = host default
    uint32_t connect_timeout_ms = 0;       ///< requested connect timeout in ms; 0 = host default
    uint64_t max_response_bytes = 0;       ///< response size cap in bytes; 0 = host default (16 MiB)
    bool refuse_private_addresses = false; ///< the plugin asked to refuse private targets

    /// First header named `name` (case-insensitive), or nullopt.
    std::optional<std::string> header(std::string_view name) const { return find_header(headers, name); }
    /// The body parsed as JSON. @throws boost::system::system_error when it is not JSON.
    boost::json::value json() const { return boost::json::parse(body); }
};

/// The fake host's answer to one outbound request: an HTTP response, or a transport failure.
struct http_reply {
    int status = 200;      ///< HTTP status of the response
    header_list headers{}; ///< response headers
    std::string body{};    ///< response body
    /// When set, no response arrives: the plugin's host::http() throws plugin_error with this
    /// message, retryable unless transport_status says SB_ERR_INVALID (a malformed URL).
    std::optional<std::string> transport_error{};
    sb_status transport_status = SB_ERR_RETRYABLE;

    /// A response with a JSON body and Content-Type: application/json.
    static http_reply json(int status, const boost::json::value& body) {
        return {status, {{"Content-Type", "application/json"}}, boost::json::serialize(body), std::nullopt, SB_ERR_RETRYABLE};
    }
    /// A transport failure (timeout, connection refused); SB_ERR_RETRYABLE as the host reports them.
    static http_reply failure(std::string message, sb_status status = SB_ERR_RETRYABLE) {
        return {0, {}, {}, std::move(message), status};
    }
};

/// One line the plugin logged.
struct log_entry {
    std::string tenant{}; ///< tenant of the instance that logged it
    sb_log_level level{}; ///< SB_LOG_DEBUG .. SB_LOG_ERROR
    std::string text{};   ///< verbatim (not redacted)
};

/// One metric_add call.
struct metric_entry {
    std::string tenant{}; ///< tenant of the instance
    std::string name{};   ///< counter name as the plugin gave it (the host exports switchboard_plugin_<name>_total)
    double value = 0;     ///< amount added
};


}  // namespace switchboard::sdk::testing
