// NodeCounters: what the Node's socket layer counts, written by the network thread and read by
// any thread (stats()), hence relaxed atomics: each counter is exact, a snapshot of several is
// not taken at one instant.
#pragma once

#include <atomic>
#include <cstdint>

namespace metaopt {

struct NodeCounters {
  using Counter = std::atomic<std::uint64_t>;

  Counter udp_datagrams_sent{0};
  Counter udp_bytes_sent{0};
  Counter udp_datagrams_received{0};
  Counter udp_bytes_received{0};
  Counter udp_send_errors{0};      // the kernel refused a datagram (buffer full, unreachable)
  Counter datagrams_oversize{0};   // the engine asked to send a datagram over kMaxDatagramBytes
  Counter datagrams_truncated{0};  // received datagrams larger than the receive buffer

  Counter tcp_frames_sent{0};
  Counter tcp_bytes_sent{0};
  Counter tcp_frames_received{0};
  Counter tcp_bytes_received{0};
  Counter tcp_connects{0};          // outbound connections established
  Counter tcp_connect_failures{0};  // refused, unreachable or timed out
  Counter tcp_accepted{0};          // inbound connections accepted
  Counter tcp_refused{0};           // inbound connections closed at once: too many open
  Counter tcp_errors{0};       // connections closed on a protocol error (bad hello, frame size)
  Counter tcp_connections{0};  // open now, both directions (a gauge)
  Counter frames_dropped{0};   // stream frames never sent: peer unreachable, closed, or buffer full
  Counter frames_oversize{0};  // frames over kMaxFrameBytes, outgoing (dropped) or incoming

  Counter addresses_unusable{0};  // outgoing to an address that is not numeric or not our family
  Counter events_dropped{0};      // the event queue was full
  Counter errors{0};              // exceptions caught on the network thread
  Counter rcvbuf_bytes{0};        // SO_RCVBUF the kernel granted the UDP socket
};

inline void bump(NodeCounters::Counter& c, std::uint64_t n = 1) {
  c.fetch_add(n, std::memory_order_relaxed);
}

inline std::uint64_t load(const NodeCounters::Counter& c) {
  return c.load(std::memory_order_relaxed);
}

}  // namespace metaopt
