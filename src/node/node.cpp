#include "node/node.hpp"

#include <arpa/inet.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <iterator>
#include <stdexcept>
#include <system_error>

namespace metaopt {
namespace {

constexpr int kBindAttempts = 8;  // fresh ephemeral ports tried when TCP's is taken
// Datagrams read per wakeup before the engine gets them: in effect "until the socket is empty"
// (an 8 MiB buffer holds a few thousand), bounded so the engine lock is never held for long.
constexpr std::size_t kDatagramsPerWakeup = 8192;
constexpr int kReadyMax = 64;
constexpr std::size_t kMaxReported = 64;           // distinct error messages written to stderr
constexpr std::int64_t kMaxTimerMs = 3600 * 1000;  // never arm the timer further ahead

std::int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

bool is_wildcard(const SockAddr& addr) {
  if (addr.family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(&addr.storage)->sin_addr.s_addr == INADDR_ANY;
  }
  if (addr.family() == AF_INET6) {
    return IN6_IS_ADDR_UNSPECIFIED(
        &reinterpret_cast<const sockaddr_in6*>(&addr.storage)->sin6_addr);
  }
  return false;
}

// The numeric host of an address, without port or brackets.
std::string format_host(const SockAddr& addr) {
  char host[INET6_ADDRSTRLEN] = {};
  const void* raw =
      addr.family() == AF_INET
          ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(&addr.storage)->sin_addr)
          : static_cast<const void*>(
                &reinterpret_cast<const sockaddr_in6*>(&addr.storage)->sin6_addr);
  inet_ntop(addr.family(), raw, host, sizeof host);
  return host;
}

void check_options(const NodeOptions& o) {
  if (o.rcvbuf_bytes < 0) throw std::invalid_argument("rcvbuf_bytes must be >= 0");
  if (o.connect_timeout_ms <= 0) throw std::invalid_argument("connect_timeout_ms must be > 0");
  if (o.idle_timeout_ms <= 0) throw std::invalid_argument("idle_timeout_ms must be > 0");
  if (o.leave_flush_ms < 0) throw std::invalid_argument("leave_flush_ms must be >= 0");
  if (o.max_events == 0) throw std::invalid_argument("max_events must be > 0");
}

void signal_fd(int fd) {
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(fd, &one, sizeof one);  // EAGAIN: already set
}

void clear_fd(int fd) {
  std::uint64_t count = 0;
  [[maybe_unused]] const ssize_t n = ::read(fd, &count, sizeof count);  // EAGAIN: not set
}

}  // namespace

Node::Node(Config config, Identity identity, std::uint64_t seed,
           std::shared_ptr<const Keyring> keys, std::string label, NodeOptions options)
    : options_(std::move(options)),
      node_id_(identity.node),
      start_ns_(monotonic_ns()),
      events_(options_.max_events),
      wake_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      timer_(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) {
  check_options(options_);
  if (!keys || !keys->primary()) throw std::invalid_argument("the keyring holds no key");
  if (!wake_ || !timer_) throw std::runtime_error("eventfd/timerfd: " + errno_text(errno));

  const SockAddr bind = resolve_address(options_.bind_host, options_.bind_port);
  Fd listener;
  for (int attempt = 1;; ++attempt) {
    // UDP first with the port asked for, then TCP on the port UDP got.
    udp_ = std::make_unique<UdpChannel>(bind, options_.rcvbuf_bytes, counters_);
    try {
      listener = listen_tcp(udp_->local());
      break;
    } catch (const std::system_error& e) {
      udp_.reset();
      if (e.code().value() != EADDRINUSE || options_.bind_port != 0 || attempt >= kBindAttempts) {
        throw;
      }
    }
  }
  family_ = udp_->local().family();

  // Others reach us at advertise_host (default: the bound address) and advertise_port (default:
  // the bound port), always written one way, since the engine compares addresses as strings.
  const std::uint16_t port =
      options_.advertise_port != 0 ? options_.advertise_port : port_of(udp_->local());
  const SockAddr advertised = options_.advertise_host.empty()
                                  ? resolve_address(format_host(udp_->local()), port, family_)
                                  : resolve_address(options_.advertise_host, port, family_);
  if (is_wildcard(advertised)) {
    throw std::invalid_argument("cannot advertise the wildcard address " +
                                format_address(advertised) +
                                ": set advertise_host to an address others reach");
  }
  address_ = format_address(advertised);
  identity.addr = address_;
  engine_ = std::make_unique<Engine>(config, std::move(identity), seed, std::move(keys),
                                     std::move(label));

  StreamLimits limits;
  limits.connect_timeout_ms = options_.connect_timeout_ms;
  limits.idle_timeout_ms = options_.idle_timeout_ms;
  streams_ =
      std::make_unique<StreamPool>(poller_, std::move(listener), address_, limits, counters_);
  poller_.add(udp_->fd(), EPOLLIN);
  poller_.add(wake_.get(), EPOLLIN);
  poller_.add(timer_.get(), EPOLLIN);
}

Node::~Node() {
  try {
    stop(true);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "metaopt node %s: stop: %s\n", node_id_.c_str(), e.what());
  }
}

// ---- life -------------------------------------------------------------------------------------

void Node::start() {
  std::lock_guard<std::mutex> life(lifecycle_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (phase_ == Phase::running) return;
    if (phase_ == Phase::stopped) {
      throw std::logic_error("node " + node_id_ + " was stopped: make a new Node to restart");
    }
    phase_ = Phase::running;
  }
  thread_ = std::thread([this] { run(); });
}

void Node::stop(bool graceful) {
  std::lock_guard<std::mutex> life(lifecycle_mu_);
  Phase was = Phase::stopped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    was = phase_;
    phase_ = Phase::stopped;
  }
  if (was == Phase::stopped) return;
  if (was == Phase::running) {
    graceful_.store(graceful);
    stop_requested_.store(true);
    signal_fd(wake_.get());
    thread_.join();
  }
  streams_.reset();
  udp_.reset();
}

bool Node::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return phase_ == Phase::running;
}

// ---- API --------------------------------------------------------------------------------------

void Node::check_usable() const {
  if (phase_ == Phase::stopped) throw std::logic_error("node " + node_id_ + " is stopped");
}

void Node::join(const std::vector<std::string>& addrs) {
  std::vector<std::string> resolved;
  resolved.reserve(addrs.size());
  for (const std::string& addr : addrs) resolved.push_back(canonical_address(addr, family_));
  {
    std::lock_guard<std::mutex> lock(mu_);
    check_usable();
    engine_->join(resolved, now_ms());
  }
  wake();
}

Record Node::write(std::string key, std::string value, std::uint64_t hlc) {
  Record r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    check_usable();
    r = engine_->write(std::move(key), std::move(value), hlc, now_ms());
  }
  wake();
  return r;
}

void Node::restore(const std::vector<Record>& records) {
  std::lock_guard<std::mutex> lock(mu_);
  if (phase_ != Phase::made) throw std::logic_error("restore() must come before start()");
  engine_->restore(records);
}

void Node::set_meta(std::string meta) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    check_usable();
    engine_->set_meta(std::move(meta), now_ms());
  }
  wake();
}

std::vector<EngineEvent> Node::drain_events(std::size_t max) { return events_.drain(max); }

std::vector<Member> Node::members() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Member> out;
  for (const auto& entry : engine_->membership().all()) out.push_back(entry.second);
  return out;
}

Digest Node::digest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return engine_->store().digest();
}

std::optional<Record> Node::get(const std::string& origin, const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return engine_->store().get(origin, key);
}

std::vector<Record> Node::records() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Record> out;
  for (const std::string& origin : engine_->store().origins()) {
    std::vector<Record> held = engine_->store().records_of(origin);
    out.insert(out.end(), std::make_move_iterator(held.begin()),
               std::make_move_iterator(held.end()));
  }
  return out;
}

NodeStats Node::stats() const {
  NodeStats out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const EngineStats& s = engine_->stats();
    out = {
        {"datagrams_sent", s.datagrams_sent},
        {"frames_sent", s.frames_sent},
        {"bytes_sent", s.bytes_sent},
        {"packets_received", s.packets_received},
        {"bytes_received", s.bytes_received},
        {"packets_rejected", s.packets_rejected},
        {"messages_malformed", s.messages_malformed},
        {"probes", s.probes},
        {"probes_failed", s.probes_failed},
        {"fallback_acks", s.fallback_acks},
        {"suspicions", s.suspicions},
        {"deaths", s.deaths},
        {"refutations", s.refutations},
        {"stalls", s.stalls},
        {"records_applied", s.records_applied},
        {"sync_exchanges", s.sync_exchanges},
        {"rumors_dropped", s.rumors_dropped},
        {"health", static_cast<std::uint64_t>(engine_->health())},
        {"incarnation", engine_->incarnation()},
        {"records", engine_->store().size()},
        {"members_alive", engine_->membership().live_count()},
    };
    // rejected_auth_failed, rejected_replayed, ...: what `metaopt peers --stats` shows.
    const Opener::Counters& opened = engine_->open_counters();
    for (std::size_t i = 1; i < kOpenStatusCount; ++i) {
      const auto status = static_cast<OpenStatus>(i);
      out.emplace_back(std::string("rejected_") + to_string(status), opened[status]);
    }
  }
  const NodeCounters& c = counters_;
  const std::pair<const char*, const NodeCounters::Counter*> counters[] = {
      {"udp_datagrams_sent", &c.udp_datagrams_sent},
      {"udp_bytes_sent", &c.udp_bytes_sent},
      {"udp_datagrams_received", &c.udp_datagrams_received},
      {"udp_bytes_received", &c.udp_bytes_received},
      {"udp_send_errors", &c.udp_send_errors},
      {"datagrams_oversize", &c.datagrams_oversize},
      {"datagrams_truncated", &c.datagrams_truncated},
      {"tcp_frames_sent", &c.tcp_frames_sent},
      {"tcp_bytes_sent", &c.tcp_bytes_sent},
      {"tcp_frames_received", &c.tcp_frames_received},
      {"tcp_bytes_received", &c.tcp_bytes_received},
      {"tcp_connects", &c.tcp_connects},
      {"tcp_connect_failures", &c.tcp_connect_failures},
      {"tcp_accepted", &c.tcp_accepted},
      {"tcp_refused", &c.tcp_refused},
      {"tcp_errors", &c.tcp_errors},
      {"tcp_connections", &c.tcp_connections},
      {"frames_dropped", &c.frames_dropped},
      {"frames_oversize", &c.frames_oversize},
      {"addresses_unusable", &c.addresses_unusable},
      {"events_dropped", &c.events_dropped},
      {"errors", &c.errors},
      {"rcvbuf_bytes", &c.rcvbuf_bytes},
  };
  for (const auto& [name, counter] : counters) out.emplace_back(name, load(*counter));
  out.emplace_back("events_queued", events_.size());
  return out;
}

// ---- the network thread -----------------------------------------------------------------------

template <typename F>
void Node::guarded(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    report(e.what());
  } catch (...) {
    report("unknown exception");
  }
}

void Node::report(const std::string& what) {
  bump(counters_.errors);
  if (reported_.size() < kMaxReported && reported_.insert(what).second) {
    std::fprintf(stderr, "metaopt node %s: %s\n", node_id_.c_str(), what.c_str());
  }
}

void Node::run() {
  guarded([this] { loop(); });
  if (graceful_.load()) guarded([this] { leave_and_flush(); });
}

void Node::loop() {
  Batch batch;
  guarded([&] { service(batch); });  // the first tick, which also arms the timer
  epoll_event ready[kReadyMax];
  while (!stop_requested_.load()) {
    const int n = poller_.wait(ready, kReadyMax, -1);
    const std::int64_t now = now_ms();
    batch.clear();
    for (int i = 0; i < n; ++i) guarded([&] { dispatch(ready[i], now, batch); });
    // A sender numbers datagrams and frames from one counter, and the receiver's replay window
    // is 64 wide: a frame opened before the datagrams sealed ahead of it would push them out of
    // the window. So: every datagram that is already here first, then the frames.
    if (!batch.frames.empty()) guarded([&] { udp_->drain(batch.datagrams, kDatagramsPerWakeup); });
    if (stop_requested_.load()) break;
    guarded([&] { service(batch); });
  }
}

void Node::dispatch(const epoll_event& ev, std::int64_t now, Batch& batch) {
  const int fd = ev.data.fd;
  if (fd == udp_->fd()) {
    udp_->drain(batch.datagrams, kDatagramsPerWakeup);
  } else if (fd == streams_->listener_fd()) {
    streams_->accept_ready(now);
  } else if (fd == timer_.get() || fd == wake_.get()) {
    clear_fd(fd);
  } else {
    streams_->on_event(fd, ev.events, now, batch.frames);
  }
}

void Node::service(Batch& batch) {
  std::vector<Outgoing> out;
  std::vector<EngineEvent> events;
  std::int64_t deadline = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const std::int64_t now = now_ms();
    for (auto* inbox : {&batch.datagrams, &batch.frames}) {
      for (Inbound& in : *inbox) guarded([&] { engine_->receive(in.from, in.bytes, now); });
    }
    if (now >= engine_->next_deadline()) guarded([&] { engine_->tick(now); });
    out = engine_->take_outgoing();
    events = engine_->take_events();
    deadline = engine_->next_deadline();
  }
  publish(std::move(events));
  const std::int64_t now = now_ms();
  transmit(out, now);
  streams_->expire(now);
  arm_timer(std::min(deadline, streams_->next_deadline()));
}

void Node::leave_and_flush() {
  std::vector<Outgoing> out;
  std::vector<EngineEvent> events;
  {
    std::lock_guard<std::mutex> lock(mu_);
    guarded([&] { engine_->leave(now_ms()); });
    out = engine_->take_outgoing();
    events = engine_->take_events();
  }
  publish(std::move(events));
  const std::int64_t until = now_ms() + options_.leave_flush_ms;
  transmit(out, now_ms());
  // Only what is already queued is still sent; what arrives meanwhile is read and dropped.
  Batch discard;
  epoll_event ready[kReadyMax];
  for (std::int64_t now = now_ms(); !streams_->flushed() && now < until; now = now_ms()) {
    const int n = poller_.wait(ready, kReadyMax, static_cast<int>(until - now));
    discard.clear();
    for (int i = 0; i < n; ++i) guarded([&] { dispatch(ready[i], now, discard); });
    streams_->expire(now);
  }
}

void Node::transmit(std::vector<Outgoing>& out, std::int64_t now) {
  for (Outgoing& o : out) {
    const SockAddr* to = book_.find(o.to);
    if (to == nullptr) {
      bump(counters_.addresses_unusable);
      if (o.stream) bump(counters_.frames_dropped);
      continue;
    }
    if (o.stream) {
      streams_->send(o.to, *to, o.bytes, now);
    } else {
      udp_->send(*to, o.bytes);
    }
  }
}

void Node::publish(std::vector<EngineEvent>&& events) {
  const std::size_t dropped = events_.push(std::move(events));
  if (dropped > 0) bump(counters_.events_dropped, dropped);
}

void Node::arm_timer(std::int64_t deadline_ms) {
  const std::int64_t ms = std::clamp<std::int64_t>(deadline_ms, 0, now_ms() + kMaxTimerMs);
  const std::int64_t at = start_ns_ + ms * 1000000;  // > 0: the timer stays armed
  itimerspec spec{};
  spec.it_value.tv_sec = static_cast<time_t>(at / 1000000000);
  spec.it_value.tv_nsec = static_cast<long>(at % 1000000000);
  timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
}

void Node::wake() { signal_fd(wake_.get()); }

std::int64_t Node::now_ms() const { return (monotonic_ns() - start_ns_) / 1000000; }

}  // namespace metaopt
