#include <switchboard/core/ingress/http_server.hpp>

#include <switchboard/core/clock.hpp>
#include <switchboard/core/observability/log_limiter.hpp>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace switchboard::core {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct http_server::impl {
    http_server_options opts;
    http_handler handler;
    std::function<void(const std::string&, const std::string&, int, double)> on_response;
    net::io_context ioc;
    tcp::acceptor acceptor{ioc};
    std::vector<std::thread> threads;
    std::atomic<int> inflight{0};
    std::mutex mu;
    std::condition_variable idle;
    std::atomic<bool> stopping{false};
    uint16_t port = 0;
    net::steady_timer accept_retry{ioc};
    int64_t accept_backoff_ms = 0; ///< > 0 while accept() fails for lack of file descriptors
    log_limiter accept_log{1, 10'000};

    void accept();
    void accept_later(const beast::error_code& ec);
    void finished_one() {
        if (--inflight == 0) {
            std::lock_guard lk(mu);
            idle.notify_all();
        }
    }
};

namespace {

class session : public std::enable_shared_from_this<session> {
public:
    session(tcp::socket socket, http_server::impl& server) : stream_(std::move(socket)), server_(server) {}

    void start() {
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
    }

private:
    void read() {
        if (server_.stopping) return close();
        parser_.emplace();
        parser_->body_limit(server_.opts.max_body_bytes);
        parser_->header_limit(64 * 1024);
        stream_.expires_after(std::chrono::milliseconds(first_ ? server_.opts.header_timeout_ms : server_.opts.idle_timeout_ms));
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        first_ = false;
        if (ec == http::error::body_limit) {
            // The body is not read, so the connection cannot be reused; it is drained after the
            // answer (lingering close) so a client still sending its body sees the 413, not a reset.
            keep_alive_ = false;
            linger_ = true;
            version_ = parser_->get().version();
            ++server_.inflight;
            started_ = std::chrono::steady_clock::now();
            method_ = std::string(parser_->get().method_string());
            write({413, "text/plain; charset=utf-8",
                   "request body exceeds server.max_body_bytes (" + std::to_string(server_.opts.max_body_bytes) + " bytes)\n",
                   route_of(std::string(parser_->get().target()))});
            return;
        }
        if (ec == http::error::header_limit) {
            keep_alive_ = false;
            ++server_.inflight;
            started_ = std::chrono::steady_clock::now();
            method_ = "?";
            write({431, "text/plain; charset=utf-8", "request header fields too large (64 KiB at most)\n", "other"});
            return;
        }
        if (ec) return close();

        auto& req = parser_->get();
        ++server_.inflight;
        started_ = std::chrono::steady_clock::now();
        keep_alive_ = req.keep_alive() && !server_.stopping;
        version_ = req.version();
        method_ = std::string(req.method_string());

        http_request_data data;
        data.method = method_;
        auto target = boost::urls::parse_origin_form(std::string_view(req.target().data(), req.target().size()));
        if (!target) {
            write({400, "text/plain; charset=utf-8", "malformed request target\n", "other"});
            return;
        }
        data.path = std::string(target->path());
        data.query = std::string(target->encoded_query());
        data.target = std::string(req.target());
        beast::error_code peer_ec;
        auto peer = stream_.socket().remote_endpoint(peer_ec);
        if (!peer_ec) {
            auto addr = peer.address();
            data.peer_address = addr.is_v6() && addr.to_v6().is_v4_mapped()
                                    ? addr.to_v6().to_v4().to_string()
                                    : addr.to_string();
        }
        for (auto& f : req) data.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
        data.body = std::move(req.body());

        auto self = shared_from_this();
        auto answered = std::make_shared<std::atomic<bool>>(false);
        http_responder responder = [self, answered](http_response_data r) {
            if (answered->exchange(true)) return;
            net::post(self->stream_.get_executor(), [self, r = std::move(r)]() mutable { self->write(std::move(r)); });
        };
        try {
            server_.handler(std::move(data), responder);
        } catch (const std::exception& e) {
            spdlog::error("http: handler failed: {}", e.what());
            responder({500, "text/plain; charset=utf-8", "internal error\n", "other"});
        }
    }

    /// The route label of a request refused before it reached the handler (for metrics).
    static std::string route_of(const std::string& target) {
        if (target.rfind("/webhooks/", 0) != 0) return "other";
        std::string path = target.substr(10, target.find('?') == std::string::npos ? std::string::npos : target.find('?') - 10);
        while (!path.empty() && path.back() == '/') path.pop_back();
        return path.find('/') == std::string::npos ? "/webhooks/{plugin}" : "/webhooks/{plugin}/{tenant}";
    }

    void write(http_response_data r) {
        auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version_);
        res->set(http::field::server, "switchboard");
        res->set(http::field::content_type, r.content_type);
        for (auto& [name, value] : r.headers) res->insert(name, value);
        res->keep_alive(keep_alive_);
        res->body() = std::move(r.body);
        res->prepare_payload();
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
        if (server_.on_response) server_.on_response(method_, r.route.empty() ? "other" : r.route, r.status, seconds);
        stream_.expires_after(std::chrono::milliseconds(server_.opts.header_timeout_ms));
        http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
            self->server_.finished_one();
            if (!ec && self->linger_) return self->drain();
            if (ec || !self->keep_alive_) return self->close();
            self->read();
        });
    }

    /// Lingering close: stop sending, then read and discard what the client still sends, up to
    /// linger_max_bytes or linger_timeout, before closing. Closing with unread data would make the
    /// kernel answer with a reset, which can destroy the 413 before the client reads it.
    void drain() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.expires_after(linger_timeout);
        drain_some();
    }

    void drain_some() {
        stream_.async_read_some(net::buffer(discard_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
            self->drained_ += n;
            if (ec || self->drained_ >= linger_max_bytes) return self->close();
            self->drain_some();
        });
    }

    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.close();
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http_server::impl& server_;
    static constexpr std::size_t linger_max_bytes = 64u << 20;          // 64 MiB
    static constexpr std::chrono::seconds linger_timeout{5};
    bool first_ = true;
    bool keep_alive_ = true;
    bool linger_ = false;
    std::size_t drained_ = 0;
    std::array<char, 16 * 1024> discard_{};
    unsigned version_ = 11;
    std::string method_;
    std::chrono::steady_clock::time_point started_;
};

}  // namespace

void http_server::impl::accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
        if (ec) {
            if (stopping || ec == net::error::operation_aborted) return;
            if (ec == net::error::no_descriptors || ec.value() == ENFILE || ec == net::error::no_buffer_space ||
                ec == net::error::no_memory)
                return accept_later(ec);
            spdlog::warn("http: accept failed: {}", ec.message());
            return accept();
        }
        accept_backoff_ms = 0;
        std::make_shared<session>(std::move(socket), *this)->start();
        accept();
    });
}

void http_server::impl::accept_later(const beast::error_code& ec) {
    // Out of file descriptors (or kernel memory): accepting again at once would fail again at
    // once, spinning a core and the log. Back off (10 ms doubling to 1 s) until a connection
    // closes; pending connections wait in the listen backlog meanwhile.
    accept_backoff_ms = std::clamp<int64_t>(accept_backoff_ms * 2, 10, 1000);
    int64_t suppressed = 0;
    if (accept_log.allow("accept", system_now_ms(), &suppressed))
        spdlog::error("http: cannot accept connections: {} (raise LimitNOFILE / ulimit -n, or lower the load); "
                      "retrying every {} ms at most{}",
                      ec.message(), accept_backoff_ms,
                      suppressed ? " (" + std::to_string(suppressed) + " similar failures not logged)" : "");
    accept_retry.expires_after(std::chrono::milliseconds(accept_backoff_ms));
    accept_retry.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && !stopping) accept();
    });
}

http_server::http_server(http_server_options opts, http_handler handler,
                         std::function<void(const std::string&, const std::string&, int, double)> on_response)
    : impl_(std::make_unique<impl>()) {
    impl_->opts = std::move(opts);
    impl_->handler = std::move(handler);
    impl_->on_response = std::move(on_response);
}

http_server::~http_server() {
    if (!impl_->threads.empty()) stop(0);
}

void http_server::start() {
    beast::error_code ec;
    auto address = net::ip::make_address(impl_->opts.host == "localhost" ? "127.0.0.1" : impl_->opts.host, ec);
    if (ec) throw std::runtime_error("server.listen: '" + impl_->opts.host + "' is not an IP address");
    tcp::endpoint ep(address, impl_->opts.port);
    auto& a = impl_->acceptor;
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
        throw std::runtime_error("cannot listen on " + impl_->opts.host + ":" + std::to_string(impl_->opts.port) + ": " +
                                 ec.message());
    impl_->port = a.local_endpoint().port();
    impl_->accept();
    for (int i = 0; i < std::max(1, impl_->opts.threads); ++i) impl_->threads.emplace_back([this] { impl_->ioc.run(); });
}

uint16_t http_server::bound_port() const { return impl_->port; }

void http_server::stop(int64_t grace_ms) {
    impl_->stopping = true;
    net::post(impl_->ioc, [this] {
        beast::error_code ec;
        impl_->acceptor.close(ec);
        impl_->accept_retry.cancel();
    });
    {
        std::unique_lock lk(impl_->mu);
        impl_->idle.wait_for(lk, std::chrono::milliseconds(grace_ms), [&] { return impl_->inflight.load() <= 0; });
    }
    impl_->ioc.stop();
    for (auto& t : impl_->threads)
        if (t.joinable()) t.join();
    impl_->threads.clear();
}

}  // namespace switchboard::core
