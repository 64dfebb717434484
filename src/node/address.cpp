#include "node/address.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <utility>

namespace metaopt {

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

int Fd::release() { return std::exchange(fd_, -1); }

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::string format_address(const SockAddr& addr) {
  char host[INET6_ADDRSTRLEN] = {};
  if (addr.family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr.storage);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (addr.family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr.storage);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  return "?";
}

namespace {

// Splits "host:port" / "[host]:port"; false when the shape is wrong or the port is not 0..65535.
bool split_host_port(const std::string& addr, std::string& host, std::uint16_t& port) {
  const std::size_t colon = addr.rfind(':');
  if (colon == std::string::npos || colon + 1 >= addr.size() || addr.size() - colon > 6) {
    return false;
  }
  unsigned long value = 0;
  for (std::size_t i = colon + 1; i < addr.size(); ++i) {
    if (addr[i] < '0' || addr[i] > '9') return false;
    value = value * 10 + static_cast<unsigned long>(addr[i] - '0');
  }
  if (value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  host = addr.substr(0, colon);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return false;  // a bare IPv6 address: which colon ends it is ambiguous
  }
  return !host.empty();
}

}  // namespace

std::optional<SockAddr> parse_address(const std::string& addr) {
  std::string host;
  std::uint16_t port = 0;
  if (!split_host_port(addr, host, port)) return std::nullopt;
  SockAddr out;
  auto* in = reinterpret_cast<sockaddr_in*>(&out.storage);
  if (inet_pton(AF_INET, host.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    out.len = sizeof(sockaddr_in);
    return out;
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    out.len = sizeof(sockaddr_in6);
    return out;
  }
  return std::nullopt;
}

SockAddr resolve_address(const std::string& host, std::uint16_t port, int family) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    throw std::invalid_argument("cannot resolve host '" + host + "': " + gai_strerror(rc));
  }
  const addrinfo* pick = found;
  if (family == AF_UNSPEC) {  // prefer IPv4: what a LAN of lab machines most likely speaks
    for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
      if (a->ai_family == AF_INET) {
        pick = a;
        break;
      }
    }
  }
  SockAddr out;
  std::memcpy(&out.storage, pick->ai_addr, pick->ai_addrlen);
  out.len = pick->ai_addrlen;
  freeaddrinfo(found);
  return out;
}

std::string canonical_address(const std::string& addr, int family) {
  std::string host;
  std::uint16_t port = 0;
  if (!split_host_port(addr, host, port)) {
    throw std::invalid_argument("address '" + addr + "' is not host:port (IPv6: [addr]:port)");
  }
  return format_address(resolve_address(host, port, family));
}

const SockAddr* AddressBook::find(const std::string& addr) {
  auto it = cache_.find(addr);
  if (it == cache_.end()) {
    if (cache_.size() >= kMaxEntries) cache_.clear();  // members come and go; start over
    it = cache_.emplace(addr, parse_address(addr)).first;
  }
  return it->second ? &*it->second : nullptr;
}

std::uint16_t port_of(const SockAddr& addr) {
  if (addr.family() == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&addr.storage)->sin_port);
  }
  if (addr.family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr.storage)->sin6_port);
  }
  return 0;
}

std::string errno_text(int err) {
  char buf[256] = {};
  // GNU strerror_r returns the message, which may or may not be in buf.
  return std::string(strerror_r(err, buf, sizeof buf));
}

}  // namespace metaopt
