// UdpChannel: the Node's one UDP socket, for the engine's datagrams (probes, acks, rumours,
// small records). Non-blocking; owned and used by the network thread only (after construction).
//
// The receive buffer is asked large (research/gossip.md 4: bursts overflow the default one) and
// what the kernel granted is read back and exported. Sends that the kernel refuses are counted
// and forgotten: datagrams are best effort, and anti-entropy repairs whatever they miss.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "node/address.hpp"
#include "node/counters.hpp"

namespace metaopt {

/// Largest UDP payload over IPv4; the engine's budget keeps datagrams far below it.
inline constexpr std::size_t kMaxDatagramBytes = 65507;

/// A datagram or a stream frame received, with the address the engine knows its sender by.
struct Inbound {
  std::string from;
  std::string bytes;
};

class UdpChannel {
 public:
  /// Binds `bind` (port 0: an ephemeral one) and asks for `rcvbuf_bytes` of receive buffer
  /// (forcing past the system limit where the process may). Throws std::runtime_error naming
  /// the address when the socket cannot be bound.
  UdpChannel(const SockAddr& bind, int rcvbuf_bytes, NodeCounters& counters);

  int fd() const { return fd_.get(); }
  /// The bound address, with the port the kernel chose.
  const SockAddr& local() const { return local_; }

  /// Reads datagrams into `inbox` until the socket is empty or `max` were read.
  void drain(std::vector<Inbound>& inbox, std::size_t max);
  /// Sends one datagram; failures are counted, never thrown.
  void send(const SockAddr& to, const std::string& bytes);

 private:
  Fd fd_;
  SockAddr local_;
  NodeCounters& counters_;
  std::string buffer_;
};

}  // namespace metaopt
