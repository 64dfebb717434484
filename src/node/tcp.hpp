// StreamPool: the engine's reliable stream channel on TCP, owned by the network thread.
//
// Every frame is a 4-byte big-endian length and that many bytes (at most kMaxFrameBytes). A node
// sends only on the connections it opened, one per destination address, kept in a small pool;
// it reads frames from the connections others opened to it (and from its own, should a peer
// answer there). The first frame on every connection is a hello that names the opener's
// advertised address: the engine sends some answers to the address a packet came from (a
// reminder to a member it suspects, a correction of a stale accusation), and an inbound
// connection comes from an ephemeral port that no one listens on, so the Node passes the hello's
// address as `from` instead, the address the engine knows that member by. The hello is not
// authenticated, any more than a UDP source address is: a liar only redirects answers sealed for
// someone else, and the sealed packets inside frames are what the engine trusts.
//
// Backpressure: a connection's unsent bytes are capped (StreamLimits::max_send_buffer); a frame
// that would pass the cap is dropped and counted, as are the frames still queued when a
// connection fails, times out connecting, or closes. Nothing here blocks or throws on network
// input; the engine's anti-entropy repairs what a dropped frame carried.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "node/address.hpp"
#include "node/counters.hpp"
#include "node/poller.hpp"
#include "node/udp.hpp"

namespace metaopt {

inline constexpr std::size_t kFrameHeaderBytes = 4;
/// Longest frame payload; the engine's packets stay under 32 MiB.
inline constexpr std::size_t kMaxFrameBytes = std::size_t{64} << 20;
/// Starts the hello frame's payload; the advertised address follows.
inline constexpr std::string_view kHelloMagic = "MOHELLO1";
/// Longest address a hello carries.
inline constexpr std::size_t kMaxHelloAddrBytes = 255;

struct StreamLimits {
  std::size_t max_send_buffer = std::size_t{64} << 20;  // unsent bytes per connection
  std::int64_t connect_timeout_ms = 3000;  // also the time an inbound peer has to say hello
  std::int64_t idle_timeout_ms = 120000;   // close connections quiet for this long
  std::size_t max_inbound = 1024;          // more are accepted and closed at once
  std::size_t max_outbound = 256;          // past this, the least recently used idle one closes
};

/// `payload` with its length prefix.
std::string encode_frame(std::string_view payload);

/// The hello frame's payload for `addr`.
std::string encode_hello(std::string_view addr);

/// The address in a hello payload; false when it is not a hello.
bool decode_hello(std::string_view payload, std::string& addr);

/// Opens a non-blocking TCP listener on `addr`; throws std::system_error carrying errno.
Fd listen_tcp(const SockAddr& addr);

class StreamPool {
 public:
  /// Takes the listener; `self_addr` is what hellos announce. The poller must outlive the pool.
  StreamPool(Poller& poller, Fd listener, std::string self_addr, StreamLimits limits,
             NodeCounters& counters);
  ~StreamPool();
  StreamPool(const StreamPool&) = delete;
  StreamPool& operator=(const StreamPool&) = delete;

  int listener_fd() const { return listener_.get(); }
  bool owns(int fd) const { return conns_.count(fd) != 0; }

  /// Accepts every pending inbound connection.
  void accept_ready(std::int64_t now);
  /// Handles readiness of one connection; complete frames go to `inbox`.
  void on_event(int fd, std::uint32_t events, std::int64_t now, std::vector<Inbound>& inbox);
  /// Queues one frame to `to` (resolved as `addr`), connecting first if needed.
  void send(const std::string& to, const SockAddr& addr, std::string_view payload,
            std::int64_t now);
  /// Fails connects past their timeout, closes idle connections, resumes accepting.
  void expire(std::int64_t now);
  /// When expire has work next; INT64_MAX when there is no connection.
  std::int64_t next_deadline() const;
  /// True when no connection has bytes left to send.
  bool flushed() const;

 private:
  struct Conn {
    Fd fd;
    bool outbound = false;
    bool connecting = false;
    bool greeted = false;       // inbound: its hello arrived
    bool hello_queued = false;  // outbound: the hello is still the first queued frame
    bool want_write = false;    // EPOLLOUT is in the interest set
    std::string addr;  // outbound: destination; inbound: the hello's address, else the peer's
    std::int64_t deadline = 0;  // connecting: give up then; inbound: hello due then
    std::int64_t last_active = 0;
    std::string in;
    std::size_t in_pos = 0;
    std::deque<std::string> out;  // framed, first one partly sent up to out_pos
    std::size_t out_pos = 0;
    std::size_t out_bytes = 0;
  };

  Conn* outbound_for(const std::string& to, const SockAddr& addr, std::int64_t now);
  void evict_idle_outbound();
  bool finish_connect(Conn& c, std::int64_t now);
  bool read(Conn& c, std::int64_t now, std::vector<Inbound>& inbox);
  bool parse(Conn& c, std::vector<Inbound>& inbox);
  bool flush(Conn& c, std::int64_t now);
  void watch_write(Conn& c, bool on);
  void close(int fd, bool failed);
  void pause_accepting(bool paused);

  Poller& poller_;
  Fd listener_;
  std::string self_addr_;
  StreamLimits limits_;
  NodeCounters& counters_;
  std::map<int, std::unique_ptr<Conn>> conns_;  // by fd
  std::map<std::string, int> outbound_;         // destination -> fd
  std::size_t inbound_count_ = 0;
  bool accept_paused_ = false;
  std::int64_t next_sweep_ = 0;
  std::string scratch_;
};

}  // namespace metaopt
