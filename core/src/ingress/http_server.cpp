#include <switchboard/core/ingress/http_server.hpp>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
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

    void accept();
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
            // The body is not read, so the connection cannot be reused.
            keep_alive_ = false;
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
        res->keep_alive(keep_alive_);
        res->body() = std::move(r.body);
        res->prepare_payload();
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
        if (server_.on_response) server_.on_response(method_, r.route.empty() ? "other" : r.route, r.status, seconds);
        stream_.expires_after(std::chrono::milliseconds(server_.opts.header_timeout_ms));
        http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
            self->server_.finished_one();
            if (ec || !self->keep_alive_) return self->close();
            self->read();
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
    bool first_ = true;
    bool keep_alive_ = true;
    unsigned version_ = 11;
    std::string method_;
    std::chrono::steady_clock::time_point started_;
};

}  // namespace

void http_server::impl::accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
        if (ec) {
            if (!stopping && ec != net::error::operation_aborted) {
                spdlog::warn("http: accept failed: {}", ec.message());
                accept();
            }
            return;
        }
        std::make_shared<session>(std::move(socket), *this)->start();
        accept();
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
