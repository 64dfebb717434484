#include "node/udp.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>

namespace metaopt {
namespace {

int granted_rcvbuf(int fd) {
  int value = 0;
  socklen_t len = sizeof value;
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, &len);
  return value;
}

}  // namespace

UdpChannel::UdpChannel(const SockAddr& bind, int rcvbuf_bytes, NodeCounters& counters)
    : fd_(socket(bind.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)),
      counters_(counters),
      buffer_(std::size_t{1} << 16, '\0') {
  if (!fd_) throw std::runtime_error("udp socket: " + errno_text(errno));
  if (::bind(fd_.get(), bind.get(), bind.len) != 0) {
    throw std::runtime_error("cannot bind udp " + format_address(bind) + ": " + errno_text(errno));
  }
  local_.len = sizeof local_.storage;
  getsockname(fd_.get(), local_.get(), &local_.len);
  if (rcvbuf_bytes > 0) {
    setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf_bytes, sizeof rcvbuf_bytes);
    // The kernel caps SO_RCVBUF at net.core.rmem_max; a privileged process may go past it.
    if (granted_rcvbuf(fd_.get()) < rcvbuf_bytes) {
      setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf_bytes, sizeof rcvbuf_bytes);
    }
  }
  counters_.rcvbuf_bytes.store(static_cast<std::uint64_t>(granted_rcvbuf(fd_.get())));
}

void UdpChannel::drain(std::vector<Inbound>& inbox, std::size_t max) {
  for (std::size_t i = 0; i < max; ++i) {
    SockAddr from;
    from.len = sizeof from.storage;
    // MSG_TRUNC: the datagram's real length, so a truncated one is noticed, not half-read.
    const ssize_t n =
        recvfrom(fd_.get(), buffer_.data(), buffer_.size(), MSG_TRUNC, from.get(), &from.len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN: empty; anything else: try again at the next wakeup
    }
    const auto size = static_cast<std::size_t>(n);
    if (size > buffer_.size()) {
      bump(counters_.datagrams_truncated);
      continue;
    }
    bump(counters_.udp_datagrams_received);
    bump(counters_.udp_bytes_received, size);
    inbox.push_back({format_address(from), buffer_.substr(0, size)});
  }
}

void UdpChannel::send(const SockAddr& to, const std::string& bytes) {
  if (bytes.size() > kMaxDatagramBytes) {
    bump(counters_.datagrams_oversize);
    return;
  }
  ssize_t n = -1;
  do {
    n = sendto(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL, to.get(), to.len);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    bump(errno == EMSGSIZE ? counters_.datagrams_oversize : counters_.udp_send_errors);
    return;
  }
  bump(counters_.udp_datagrams_sent);
  bump(counters_.udp_bytes_sent, bytes.size());
}

}  // namespace metaopt
