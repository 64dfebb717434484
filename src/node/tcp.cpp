#include "node/tcp.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <system_error>
#include <utility>

namespace metaopt {
namespace {

constexpr std::size_t kReadChunk = std::size_t{64} << 10;
constexpr std::size_t kReadPerWakeup = std::size_t{8} << 20;  // then let others run
constexpr std::size_t kMaxIov = 64;
constexpr std::int64_t kSweepMs = 1000;
constexpr int kBacklog = 512;

constexpr std::uint32_t kReadEvents = EPOLLIN | EPOLLRDHUP;
constexpr std::uint32_t kWriteEvents = EPOLLOUT;
constexpr std::uint32_t kAcceptEvents = EPOLLIN;

std::uint32_t frame_length(const std::string& buf, std::size_t pos) {
  const auto* p = reinterpret_cast<const unsigned char*>(buf.data() + pos);
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

void set_nodelay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

std::string encode_frame(std::string_view payload) {
  const auto n = static_cast<std::uint32_t>(payload.size());
  std::string out;
  out.reserve(kFrameHeaderBytes + payload.size());
  out.push_back(static_cast<char>((n >> 24) & 0xFF));
  out.push_back(static_cast<char>((n >> 16) & 0xFF));
  out.push_back(static_cast<char>((n >> 8) & 0xFF));
  out.push_back(static_cast<char>(n & 0xFF));
  out.append(payload);
  return out;
}

std::string encode_hello(std::string_view addr) {
  std::string out(kHelloMagic);
  out.append(addr);
  return out;
}

bool decode_hello(std::string_view payload, std::string& addr) {
  if (payload.size() <= kHelloMagic.size() ||
      payload.size() > kHelloMagic.size() + kMaxHelloAddrBytes ||
      payload.substr(0, kHelloMagic.size()) != kHelloMagic) {
    return false;
  }
  addr.assign(payload.substr(kHelloMagic.size()));
  return true;
}

Fd listen_tcp(const SockAddr& addr) {
  Fd fd(socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw std::system_error(errno, std::generic_category(), "tcp socket");
  // A restarted node takes its port back while the old connections sit in TIME_WAIT.
  const int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd.get(), addr.get(), addr.len) != 0 || listen(fd.get(), kBacklog) != 0) {
    throw std::system_error(errno, std::generic_category(),
                            "cannot listen on tcp " + format_address(addr));
  }
  return fd;
}

StreamPool::StreamPool(Poller& poller, Fd listener, std::string self_addr, StreamLimits limits,
                       NodeCounters& counters)
    : poller_(poller),
      listener_(std::move(listener)),
      self_addr_(std::move(self_addr)),
      limits_(limits),
      counters_(counters),
      scratch_(kReadChunk, '\0') {
  poller_.add(listener_.get(), kAcceptEvents);
}

StreamPool::~StreamPool() {
  while (!conns_.empty()) close(conns_.begin()->first, false);
  poller_.remove(listener_.get());
}

// ---- connections ------------------------------------------------------------------------------

void StreamPool::accept_ready(std::int64_t now) {
  while (true) {
    SockAddr peer;
    peer.len = sizeof peer.storage;
    Fd fd(accept4(listener_.get(), peer.get(), &peer.len, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      // Out of descriptors: stop listening for a sweep, or the level-triggered listener spins.
      if (errno != EAGAIN && errno != EWOULDBLOCK) pause_accepting(true);
      return;
    }
    if (inbound_count_ >= limits_.max_inbound) {
      bump(counters_.tcp_refused);
      continue;  // closed as fd leaves scope
    }
    set_nodelay(fd.get());
    auto c = std::make_unique<Conn>();
    c->addr = format_address(peer);
    c->deadline = now + limits_.connect_timeout_ms;
    c->last_active = now;
    const int raw = fd.get();
    poller_.add(raw, kReadEvents);
    c->fd = std::move(fd);
    conns_[raw] = std::move(c);
    ++inbound_count_;
    bump(counters_.tcp_accepted);
    bump(counters_.tcp_connections);
  }
}

StreamPool::Conn* StreamPool::outbound_for(const std::string& to, const SockAddr& addr,
                                           std::int64_t now) {
  auto found = outbound_.find(to);
  if (found != outbound_.end()) return conns_.at(found->second).get();
  if (outbound_.size() >= limits_.max_outbound) evict_idle_outbound();
  Fd fd(socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    bump(counters_.tcp_connect_failures);
    return nullptr;
  }
  set_nodelay(fd.get());
  auto c = std::make_unique<Conn>();
  c->outbound = true;
  c->addr = to;
  c->last_active = now;
  c->deadline = now + limits_.connect_timeout_ms;
  int rc = 0;
  do {
    rc = connect(fd.get(), addr.get(), addr.len);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0 && errno != EINPROGRESS) {
    bump(counters_.tcp_connect_failures);
    return nullptr;
  }
  c->connecting = rc != 0;
  if (!c->connecting) bump(counters_.tcp_connects);
  const std::string hello = encode_frame(encode_hello(self_addr_));
  c->out_bytes = hello.size();
  c->out.push_back(hello);
  c->hello_queued = true;
  const int raw = fd.get();
  poller_.add(raw, kReadEvents | kWriteEvents);
  c->want_write = true;
  c->fd = std::move(fd);
  Conn* out = c.get();
  conns_[raw] = std::move(c);
  outbound_[to] = raw;
  bump(counters_.tcp_connections);
  return out;
}

void StreamPool::evict_idle_outbound() {
  int victim = -1;
  std::int64_t oldest = std::numeric_limits<std::int64_t>::max();
  for (const auto& [addr, fd] : outbound_) {
    const Conn& c = *conns_.at(fd);
    if (c.out.empty() && !c.connecting && c.last_active < oldest) {
      oldest = c.last_active;
      victim = fd;
    }
  }
  if (victim >= 0) close(victim, false);
}

void StreamPool::close(int fd, bool failed) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  const std::size_t queued = c.out.size() - (c.hello_queued ? 1 : 0);
  if (queued > 0) bump(counters_.frames_dropped, queued);
  if (failed && c.connecting) bump(counters_.tcp_connect_failures);
  poller_.remove(fd);
  if (c.outbound) {
    auto pooled = outbound_.find(c.addr);
    if (pooled != outbound_.end() && pooled->second == fd) outbound_.erase(pooled);
  } else {
    --inbound_count_;
  }
  conns_.erase(it);
  counters_.tcp_connections.fetch_sub(1, std::memory_order_relaxed);
}

void StreamPool::pause_accepting(bool paused) {
  if (paused == accept_paused_) return;
  accept_paused_ = paused;
  poller_.modify(listener_.get(), paused ? 0u : kAcceptEvents);
}

// ---- readiness --------------------------------------------------------------------------------

void StreamPool::on_event(int fd, std::uint32_t events, std::int64_t now,
                          std::vector<Inbound>& inbox) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  if (c.connecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    if (!finish_connect(c, now)) return close(fd, true);
  }
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0 && !read(c, now, inbox)) {
    return close(fd, true);
  }
  if ((events & EPOLLOUT) != 0 && !flush(c, now)) close(fd, true);
}

bool StreamPool::finish_connect(Conn& c, std::int64_t now) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(c.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return false;
  c.connecting = false;
  c.last_active = now;
  bump(counters_.tcp_connects);
  return true;
}

bool StreamPool::read(Conn& c, std::int64_t now, std::vector<Inbound>& inbox) {
  std::size_t total = 0;
  bool open = true;
  while (total < kReadPerWakeup) {
    const ssize_t n = recv(c.fd.get(), scratch_.data(), scratch_.size(), 0);
    if (n > 0) {
      c.in.append(scratch_.data(), static_cast<std::size_t>(n));
      total += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    open = false;  // 0: the peer closed; < 0: reset or another error
    break;
  }
  if (total > 0) c.last_active = now;
  // Frames that arrived complete before a close still count.
  return parse(c, inbox) && open;
}

bool StreamPool::parse(Conn& c, std::vector<Inbound>& inbox) {
  while (c.in.size() - c.in_pos >= kFrameHeaderBytes) {
    const std::size_t len = frame_length(c.in, c.in_pos);
    if (len > kMaxFrameBytes) {
      bump(counters_.frames_oversize);
      bump(counters_.tcp_errors);
      return false;
    }
    if (c.in.size() - c.in_pos < kFrameHeaderBytes + len) break;
    std::string payload = c.in.substr(c.in_pos + kFrameHeaderBytes, len);
    c.in_pos += kFrameHeaderBytes + len;
    if (!c.outbound && !c.greeted) {
      if (!decode_hello(payload, c.addr)) {
        bump(counters_.tcp_errors);
        return false;
      }
      c.greeted = true;
      continue;
    }
    bump(counters_.tcp_frames_received);
    bump(counters_.tcp_bytes_received, kFrameHeaderBytes + len);
    inbox.push_back({c.addr, std::move(payload)});
  }
  if (c.in_pos == c.in.size()) {
    c.in.clear();
    c.in_pos = 0;
  } else if (c.in_pos >= (std::size_t{1} << 20)) {
    c.in.erase(0, c.in_pos);
    c.in_pos = 0;
  }
  return true;
}

void StreamPool::send(const std::string& to, const SockAddr& addr, std::string_view payload,
                      std::int64_t now) {
  if (payload.size() > kMaxFrameBytes) {
    bump(counters_.frames_oversize);
    return;
  }
  Conn* c = outbound_for(to, addr, now);
  if (c == nullptr) {
    bump(counters_.frames_dropped);
    return;
  }
  const std::size_t size = kFrameHeaderBytes + payload.size();
  if (c->out_bytes + size > limits_.max_send_buffer) {
    bump(counters_.frames_dropped);
    return;
  }
  c->out.push_back(encode_frame(payload));
  c->out_bytes += size;
  if (!c->connecting && !c->want_write && !flush(*c, now)) close(c->fd.get(), true);
}

bool StreamPool::flush(Conn& c, std::int64_t now) {
  while (!c.out.empty()) {
    iovec iov[kMaxIov];
    std::size_t count = 0;
    for (auto it = c.out.begin(); it != c.out.end() && count < kMaxIov; ++it, ++count) {
      const std::size_t skip = count == 0 ? c.out_pos : 0;
      iov[count].iov_base = it->data() + skip;
      iov[count].iov_len = it->size() - skip;
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = count;
    const ssize_t n = sendmsg(c.fd.get(), &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        watch_write(c, true);
        return true;
      }
      return false;
    }
    auto sent = static_cast<std::size_t>(n);
    bump(counters_.tcp_bytes_sent, sent);
    c.out_bytes -= sent;
    c.last_active = now;
    while (sent > 0) {
      const std::size_t left = c.out.front().size() - c.out_pos;
      if (sent < left) {
        c.out_pos += sent;
        break;
      }
      sent -= left;
      c.out.pop_front();
      c.out_pos = 0;
      if (c.hello_queued) {
        c.hello_queued = false;
      } else {
        bump(counters_.tcp_frames_sent);
      }
    }
  }
  watch_write(c, false);
  return true;
}

void StreamPool::watch_write(Conn& c, bool on) {
  if (c.want_write == on) return;
  c.want_write = on;
  poller_.modify(c.fd.get(), on ? kReadEvents | kWriteEvents : kReadEvents);
}

// ---- time -------------------------------------------------------------------------------------

void StreamPool::expire(std::int64_t now) {
  std::vector<std::pair<int, bool>> doomed;  // fd, failed
  for (const auto& [fd, conn] : conns_) {
    const Conn& c = *conn;
    if (c.connecting || (!c.outbound && !c.greeted)) {
      if (now >= c.deadline) doomed.emplace_back(fd, true);
    } else if (now - c.last_active >= limits_.idle_timeout_ms) {
      doomed.emplace_back(fd, !c.out.empty());  // stuck with bytes to send counts as failed
    }
  }
  for (const auto& [fd, failed] : doomed) {
    const Conn& c = *conns_.at(fd);
    if (!c.outbound && !c.greeted) bump(counters_.tcp_errors);
    close(fd, failed);
  }
  if (now >= next_sweep_) {
    next_sweep_ = now + kSweepMs;
    pause_accepting(false);
  }
}

std::int64_t StreamPool::next_deadline() const {
  std::int64_t next = accept_paused_ ? next_sweep_ : std::numeric_limits<std::int64_t>::max();
  for (const auto& [fd, conn] : conns_) {
    const Conn& c = *conn;
    if (c.connecting || (!c.outbound && !c.greeted)) {
      next = std::min(next, c.deadline);
    } else {
      next = std::min(next, c.last_active + limits_.idle_timeout_ms);
    }
  }
  return next;
}

bool StreamPool::flushed() const {
  return std::all_of(conns_.begin(), conns_.end(),
                     [](const auto& entry) { return entry.second->out.empty(); });
}

}  // namespace metaopt
