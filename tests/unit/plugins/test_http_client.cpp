// The host's HTTP client against a real socket on loopback: connection reuse, the response size
// cap, the connect timeout default, and the refusal of private addresses for customer URLs.
#include <switchboard/core/plugins/http_client.hpp>

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

using namespace switchboard::core;

namespace {

/// A loopback HTTP/1.1 server answering every request on a connection with `body`; counts the
/// connections it accepted.
class tiny_server {
public:
    explicit tiny_server(std::string body) : body_(std::move(body)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        ::listen(fd_, 8);
        thread_ = std::thread([this] { serve(); });
    }
    ~tiny_server() {
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        thread_.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/x"; }
    int connections() const { return connections_; }

private:
    void serve() {
        while (true) {
            int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) return;
            ++connections_;
            std::thread([this, c] {
                char buf[4096];
                std::string pending;
                while (true) {
                    auto n = ::recv(c, buf, sizeof buf, 0);
                    if (n <= 0) break;
                    pending.append(buf, static_cast<size_t>(n));
                    while (pending.find("\r\n\r\n") != std::string::npos) {
                        pending.erase(0, pending.find("\r\n\r\n") + 4);
                        std::string r = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body_.size()) + "\r\n\r\n" + body_;
                        ::send(c, r.data(), r.size(), MSG_NOSIGNAL);
                    }
                }
                ::close(c);
            }).detach();
        }
    }
    std::string body_;
    int fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<int> connections_{0};
    std::thread thread_;
};

}  // namespace

TEST_CASE("private, loopback and link-local addresses are recognised", "[plugins][http]") {
    for (const char* a : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
                          "100.64.0.1", "0.0.0.0", "::1", "::", "fe80::1", "fd00::1", "::ffff:10.0.0.1"})
        CHECK(is_private_address(a));
    for (const char* a : {"8.8.8.8", "172.32.0.1", "192.169.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"})
        CHECK_FALSE(is_private_address(a));
}

TEST_CASE("the HTTP client reuses connections, caps responses and refuses private targets on demand", "[plugins][http]") {
    tiny_server server(std::string(1000, 'x'));
    outbound_http get;
    get.method = "GET";
    get.url = server.url();
    get.timeout_ms = 5'000;
    for (int i = 0; i < 3; ++i) {
        auto r = http_request(get);
        REQUIRE(r.failure == http_failure::none);
        CHECK(r.status == 200);
        CHECK(r.body.size() == 1000);
    }
    CHECK(server.connections() == 1); // one keep-alive connection for the thread's requests

    outbound_http capped = get;
    capped.max_response_bytes = 999;
    auto too_large = http_request(capped);
    CHECK(too_large.failure == http_failure::too_large);
    CHECK(too_large.error.find("larger than 999 bytes") != std::string::npos);

    outbound_http guarded = get;
    guarded.refuse_private_addresses = true;
    auto refused = http_request(guarded);
    CHECK(refused.failure == http_failure::refused_address);
    CHECK(refused.body.empty());
}
