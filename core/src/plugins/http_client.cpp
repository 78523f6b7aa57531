#include <switchboard/core/plugins/http_client.hpp>

#include <curl/curl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

namespace switchboard::core {

namespace {
void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct body_sink {
    std::string* body;
    uint64_t limit;
    bool exceeded = false;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* b = static_cast<body_sink*>(user);
    if (b->body->size() + size * n > b->limit) {
        b->exceeded = true;
        return 0; // aborts the transfer (CURLE_WRITE_ERROR)
    }
    b->body->append(data, size * n);
    return size * n;
}

struct socket_guard {
    bool refuse_private = false;
    bool refused = false;
};

curl_socket_t open_socket(void* user, curlsocktype, curl_sockaddr* addr) {
    auto* g = static_cast<socket_guard*>(user);
    if (g->refuse_private) {
        char text[INET6_ADDRSTRLEN] = {0};
        if (addr->family == AF_INET)
            inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr->addr)->sin_addr, text, sizeof text);
        else if (addr->family == AF_INET6)
            inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr->addr)->sin6_addr, text, sizeof text);
        if (!*text || is_private_address(text)) {
            g->refused = true;
            return CURL_SOCKET_BAD;
        }
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

/// One easy handle per thread: libcurl keeps its connections open for the next request to the
/// same host (keep-alive, TLS session reuse).
CURL* thread_handle() {
    thread_local std::unique_ptr<CURL, void (*)(CURL*)> handle(curl_easy_init(), curl_easy_cleanup);
    if (handle) curl_easy_reset(handle.get());
    return handle.get();
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
    std::string line(data, size * n);
    if (line.rfind("HTTP/", 0) == 0) headers->clear(); // a new response (after 100-continue)
    auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string value = line.substr(colon + 1);
        auto b = value.find_first_not_of(" \t");
        auto e = value.find_last_not_of(" \t\r\n");
        headers->emplace_back(line.substr(0, colon), b == std::string::npos ? "" : value.substr(b, e - b + 1));
    }
    return size * n;
}
}  // namespace

bool is_private_address(const std::string& address) {
    unsigned char v6[16];
    in_addr v4{};
    const unsigned char* b = nullptr;
    if (inet_pton(AF_INET, address.c_str(), &v4) == 1) {
        b = reinterpret_cast<const unsigned char*>(&v4.s_addr);
    } else if (inet_pton(AF_INET6, address.c_str(), v6) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(v6, mapped, 12) == 0) {
            b = v6 + 12;
        } else {
            static const unsigned char zero[16] = {0};
            unsigned char loopback[16] = {0};
            loopback[15] = 1;
            return std::memcmp(v6, zero, 16) == 0 || std::memcmp(v6, loopback, 16) == 0 || (v6[0] & 0xfe) == 0xfc ||
                   (v6[0] == 0xfe && (v6[1] & 0xc0) == 0x80);
        }
    } else {
        return true; // not an address we can judge: refuse
    }
    return b[0] == 0 || b[0] == 10 || b[0] == 127 || (b[0] == 169 && b[1] == 254) ||
           (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) || (b[0] == 100 && (b[1] & 0xc0) == 64);
}

http_client_response http_request(const outbound_http& r) {
    global_init();
    http_client_response out;
    CURL* c = thread_handle();
    if (!c) {
        out.error = "cannot initialise libcurl";
        return out;
    }
    curl_slist* list = nullptr;
    for (auto& [k, v] : r.headers) list = curl_slist_append(list, (k + ": " + v).c_str());
    list = curl_slist_append(list, "Expect:"); // no 100-continue round trip
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> guard(list, curl_slist_free_all);
    char errbuf[CURL_ERROR_SIZE] = {0};
    const int64_t timeout = r.timeout_ms > 0 ? r.timeout_ms : 10'000;
    const int64_t connect = r.connect_timeout_ms > 0 ? r.connect_timeout_ms : std::min<int64_t>(5'000, timeout);
    body_sink body{&out.body, r.max_response_bytes > 0 ? r.max_response_bytes : default_max_response_bytes};
    socket_guard sockets{r.refuse_private_addresses};

    curl_easy_setopt(c, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    if (r.method != "GET" && r.method != "HEAD") {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, r.body.data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    }
    if (r.method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect));
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(body.limit));
    if (r.refuse_private_addresses) {
        // A pooled connection was checked by nobody: the address check needs a new one.
        curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
        curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &sockets);
        curl_easy_setopt(c, CURLOPT_PROXY, ""); // the check must see the real target, not a proxy
    }
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "switchboard/" SWITCHBOARD_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &out.headers);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);

    CURLcode rc = curl_easy_perform(c);
    if (sockets.refused) {
        out.failure = http_failure::refused_address;
        out.error = "the URL's host resolves to a private, loopback or link-local address";
        return out;
    }
    if (body.exceeded || rc == CURLE_FILESIZE_EXCEEDED) {
        out.failure = http_failure::too_large;
        out.error = "the response is larger than " + std::to_string(body.limit) + " bytes";
        return out;
    }
    if (rc != CURLE_OK) {
        out.failure = rc == CURLE_OPERATION_TIMEDOUT                                  ? http_failure::timeout
                      : rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL ? http_failure::invalid_request
                                                                                     : http_failure::transport;
        out.error = std::string(curl_easy_strerror(rc)) + (errbuf[0] ? std::string(": ") + errbuf : "");
        return out;
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    out.failure = http_failure::none;
    out.status = static_cast<int>(status);
    return out;
}

}  // namespace switchboard::core
