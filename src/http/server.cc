// Boost 1.74's awaitable.hpp uses std::exchange without including <utility> (g++ 12, C++20).
#include <utility>
// (keep <utility> first)
#include "http/server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <csignal>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace pointsmall::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr auto kAwait = asio::use_awaitable;
constexpr std::size_t kReadChunk = std::size_t{16} * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// Unread bytes drained after the last response before closing, so that the client is not reset
// (which can discard the response, e.g. a 413 sent while it was still sending the body).
constexpr std::size_t kMaxLingerBytes = std::size_t{1024} * 1024;
constexpr auto kLingerTime = std::chrono::seconds(1);

// RFC 9110 10.1.1: a client that sent "Expect: 100-continue" waits for 100 before the body.
bool expects_continue(const bhttp::request<bhttp::string_body>& message) {
  const auto expect = message[bhttp::field::expect];
  return expect.size() == 12 && beast::iequals(expect, "100-continue");
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// What stop() needs to reach a connection: whether it waits for a request, and how to end that.
struct ConnectionEntry {
  asio::any_io_executor executor;  // the connection's strand
  beast::tcp_stream* stream = nullptr;
  bool idle = false;  // waiting for the first byte of a request (touched on the strand only)
};

// A response that arrives from another thread, awaited on the connection's strand.
struct PendingResponse {
  explicit PendingResponse(const asio::any_io_executor& executor) : timer(executor) {
    timer.expires_at(asio::steady_timer::time_point::max());
  }
  asio::steady_timer timer;
  std::optional<Response> response;
};

}  // namespace

struct Server::Impl {
  Impl(ServerOptions options_in, Handler& handler_in)
      : options(std::move(options_in)),
        handler(handler_in),
        acceptor(io),
        signals(io),
        drain_timer(io) {}

  ServerOptions options;
  Handler& handler;
  asio::io_context io;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  asio::steady_timer drain_timer;
  std::optional<asio::ssl::context> tls;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> open_connections{0};
  std::uint16_t bound_port = 0;

  std::mutex connections_mutex;
  std::unordered_map<std::uint64_t, std::shared_ptr<ConnectionEntry>> connections;
  std::uint64_t next_connection_id = 0;

  void listen() {
    error_code ec;
    const auto address = asio::ip::make_address(options.host, ec);
    if (ec) throw std::runtime_error("cannot listen on " + options.host + ": not an IP address");
    const tcp::endpoint endpoint(address, options.port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint, ec);
    if (ec) {
      throw std::runtime_error("cannot listen on " + options.host + ":" +
                               std::to_string(options.port) + ": " + ec.message());
    }
    acceptor.listen(asio::socket_base::max_listen_connections);
    bound_port = acceptor.local_endpoint().port();
  }

  void load_tls() {
    if (options.tls_certificate_file.empty() && options.tls_private_key_file.empty()) return;
    if (options.tls_certificate_file.empty() || options.tls_private_key_file.empty())
      throw std::runtime_error("TLS needs both a certificate file and a private key file");
    tls.emplace(asio::ssl::context::tls_server);
    tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1);
    error_code ec;
    tls->use_certificate_chain_file(options.tls_certificate_file, ec);
    if (ec)
      throw std::runtime_error("cannot read TLS certificate " + options.tls_certificate_file +
                               ": " + ec.message());
    tls->use_private_key_file(options.tls_private_key_file, asio::ssl::context::pem, ec);
    if (ec)
      throw std::runtime_error("cannot read TLS private key " + options.tls_private_key_file +
                               ": " + ec.message());
  }

  void begin_stop() {
    if (stopping.exchange(true)) return;
    asio::post(io, [this] {
      error_code ignored;
      acceptor.close(ignored);
      signals.cancel(ignored);
      drain_timer.expires_after(options.drain_timeout);
      drain_timer.async_wait([this](error_code ec) {
        if (!ec) io.stop();  // in-flight requests took too long
      });
      std::lock_guard lock(connections_mutex);
      for (auto& [id, entry] : connections) {
        asio::post(entry->executor, [entry = entry] {
          if (entry->idle && entry->stream != nullptr) entry->stream->cancel();
        });
      }
      if (connections.empty()) drain_timer.cancel();
    });
  }

  std::shared_ptr<ConnectionEntry> add_connection(std::uint64_t& id,
                                                  const asio::any_io_executor& executor) {
    auto entry = std::make_shared<ConnectionEntry>();
    entry->executor = executor;
    std::lock_guard lock(connections_mutex);
    id = ++next_connection_id;
    connections.emplace(id, entry);
    return entry;
  }

  void remove_connection(std::uint64_t id) {
    std::lock_guard lock(connections_mutex);
    connections.erase(id);
    --open_connections;
    if (stopping && connections.empty()) asio::post(io, [this] { drain_timer.cancel(); });
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      tcp::socket socket(asio::make_strand(io));
      error_code ec;
      co_await acceptor.async_accept(socket, asio::redirect_error(kAwait, ec));
      if (stopping) co_return;
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        continue;  // e.g. too many open files: the next accept may work
      }
      if (open_connections.load() >= options.max_connections) {
        socket.close(ec);
        continue;
      }
      ++open_connections;
      const auto executor = socket.get_executor();
      asio::co_spawn(executor, connection(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> connection(tcp::socket socket) {
    std::uint64_t id = 0;
    auto entry = add_connection(id, socket.get_executor());
    error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    const std::string remote_address = ec ? std::string() : remote.address().to_string();
    beast::tcp_stream stream(std::move(socket));
    entry->stream = &stream;
    if (tls) {
      beast::ssl_stream<beast::tcp_stream&> secure(stream, *tls);
      stream.expires_after(options.read_timeout);
      co_await secure.async_handshake(asio::ssl::stream_base::server,
                                      asio::redirect_error(kAwait, ec));
      if (!ec) {
        co_await serve(secure, stream, *entry, remote_address);
        stream.expires_after(std::chrono::seconds(2));
        co_await secure.async_shutdown(asio::redirect_error(kAwait, ec));
      }
    } else {
      co_await serve(stream, stream, *entry, remote_address);
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      co_await linger(stream);
    }
    entry->stream = nullptr;
    stream.close();
    remove_connection(id);
  }

  // Reads and drops what the client still sends, for a short while, until it closes its side.
  asio::awaitable<void> linger(beast::tcp_stream& stream) {
    std::array<char, 4096> sink{};
    std::size_t drained = 0;
    stream.expires_after(kLingerTime);
    error_code ec;
    while (!ec && drained < kMaxLingerBytes)
      drained +=
          co_await stream.async_read_some(asio::buffer(sink), asio::redirect_error(kAwait, ec));
  }

  // Reads requests and writes responses until the client leaves, errs, times out or we stop.
  template <typename Stream>
  asio::awaitable<void> serve(Stream& stream, beast::tcp_stream& tcp, ConnectionEntry& entry,
                              const std::string& remote_address) {
    beast::flat_buffer buffer;
    error_code ec;
    for (;;) {
      if (buffer.size() == 0) {  // wait for the next request's first byte
        if (stopping) co_return;
        entry.idle = true;
        tcp.expires_after(options.idle_timeout);
        const std::size_t n = co_await stream.async_read_some(buffer.prepare(kReadChunk),
                                                              asio::redirect_error(kAwait, ec));
        entry.idle = false;
        if (ec) co_return;
        buffer.commit(n);
      }
      tcp.expires_after(options.read_timeout);
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      parser.body_limit(options.max_body_bytes);
      // The header first: Beast applies header_limit to each read's window, so the whole
      // header's size (the bytes the parser consumed) is checked here.
      const std::size_t header_bytes = co_await bhttp::async_read_header(
          stream, buffer, parser, asio::redirect_error(kAwait, ec));
      if (!ec && header_bytes > options.max_header_bytes) ec = bhttp::error::header_limit;
      if (!ec && !parser.is_done() && expects_continue(parser.get())) {
        co_await asio::async_write(stream, asio::buffer(std::string_view(kContinue)),
                                   asio::redirect_error(kAwait, ec));
      }
      if (!ec && !parser.is_done())
        co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(kAwait, ec));
      if (ec) {
        if (auto error = protocol_error(ec))
          co_await write(stream, tcp, handler.reject(*error), 11, false);
        co_return;
      }
      auto message = parser.release();
      const bool keep_alive = message.keep_alive();
      const unsigned version = message.version();
      const bool head = message.method() == bhttp::verb::head;
      Response response = co_await answer(to_request(std::move(message), remote_address));
      const bool keep = keep_alive && !response.close && !stopping;
      if (!co_await write(stream, tcp, std::move(response), version, keep, head) || !keep)
        co_return;
    }
  }

  static std::optional<ProtocolError> protocol_error(const error_code& ec) {
    if (ec == bhttp::error::header_limit) return ProtocolError::header_too_large;
    if (ec == bhttp::error::body_limit) return ProtocolError::body_too_large;
    if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message)
      return ProtocolError::malformed;
    return std::nullopt;  // timeout, reset, end of stream: nobody to answer
  }

  static Request to_request(bhttp::request<bhttp::string_body>&& message,
                            const std::string& remote_address) {
    Request request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message)
      request.headers.push_back(
          Header{lower(std::string_view(field.name_string().data(), field.name_string().size())),
                 std::string(field.value())});
    request.body = std::move(message.body());
    request.remote_address = remote_address;
    request.received_at = std::chrono::steady_clock::now();
    return request;
  }

  // Hands the request to the handler and waits, on this connection's strand, for its response.
  asio::awaitable<Response> answer(Request request) {
    auto pending = std::make_shared<PendingResponse>(co_await asio::this_coro::executor);
    try {
      Reply reply;
      reply.send = [pending](Response response) {  // NOLINT(performance-unnecessary-value-param)
        // Inline when already on the connection's strand (a deferred handler), else queued.
        asio::dispatch(pending->timer.get_executor(),
                       [pending, response = std::move(response)]() mutable {
                         pending->response = std::move(response);
                         pending->timer.cancel();
                       });
      };
      reply.defer = [executor = pending->timer.get_executor()](std::function<void()> work) {
        asio::post(executor, std::move(work));
      };
      handler.handle(std::move(request), std::move(reply));
    } catch (const std::exception&) {
      Response failed;
      failed.status = 500;
      failed.close = true;
      co_return failed;
    }
    error_code ec;
    while (!pending->response) co_await pending->timer.async_wait(asio::redirect_error(kAwait, ec));
    co_return std::move(*pending->response);
  }

  template <typename Stream>
  // `head`: the answer to a HEAD request, its Content-Length the body's size but no body sent.
  asio::awaitable<bool> write(Stream& stream, beast::tcp_stream& tcp, Response response,
                              unsigned version, bool keep_alive, bool head = false) {
    bhttp::response<bhttp::string_body> message{static_cast<bhttp::status>(response.status),
                                                version};
    message.set(bhttp::field::server, "pointsmall");
    if (!response.body.empty()) message.set(bhttp::field::content_type, response.content_type);
    for (Header& header : response.headers) message.insert(header.name, header.value);
    message.keep_alive(keep_alive);
    if (head && response.status >= 200 && response.status != 204 && response.status != 304) {
      message.content_length(response.body.size());
    } else {
      message.body() = std::move(response.body);
      message.prepare_payload();
    }
    tcp.expires_after(options.read_timeout);
    error_code ec;
    co_await bhttp::async_write(stream, message, asio::redirect_error(kAwait, ec));
    co_return !ec;
  }
};

Server::Server(ServerOptions options, Handler& handler)
    : impl_(std::make_unique<Impl>(std::move(options), handler)) {
  impl_->load_tls();
  impl_->listen();
  if (impl_->options.stop_on_signals) {
    impl_->signals.add(SIGINT);
    impl_->signals.add(SIGTERM);
    impl_->signals.async_wait([this](error_code ec, int) {
      if (!ec) impl_->begin_stop();
    });
  }
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
}

Server::~Server() {
  impl_->begin_stop();
  impl_->io.stop();
}

std::uint16_t Server::port() const {
  return impl_->bound_port;
}

void Server::run() {
  std::vector<std::thread> others;
  for (unsigned i = 1; i < std::max(1U, impl_->options.threads); ++i)
    others.emplace_back([this] { impl_->io.run(); });
  impl_->io.run();
  for (std::thread& thread : others) thread.join();
}

void Server::stop() {
  impl_->begin_stop();
}

std::size_t Server::connections() const {
  return impl_->open_connections.load();
}

}  // namespace pointsmall::http
