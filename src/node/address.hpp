// Addresses and file descriptors for the Node: "host:port" strings as the engine speaks them,
// socket addresses as the kernel does, and the conversions between them.
//
// The engine treats an address as an opaque string and compares them byte for byte, so every
// address the Node hands it must be written one way: a numeric IPv4 address ("10.0.0.2:7946")
// or a bracketed numeric IPv6 one ("[fd00::2]:7946"), as format_address writes them. Names are
// resolved only where a caller may wait (the constructor, join), never on the network thread.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace metaopt {

/// Owns one file descriptor; closes it when destroyed or reset.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release();
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

/// A socket address of either family.
struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;

  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};

/// "a.b.c.d:port" or "[v6]:port", the one spelling the Node gives the engine.
std::string format_address(const SockAddr& addr);

/// Parses a numeric address as format_address writes it (IPv6 in brackets). nullopt for a name
/// or anything malformed; never blocks.
std::optional<SockAddr> parse_address(const std::string& addr);

/// Resolves `host` (a name or a numeric address) and `port` to one address, preferring IPv4
/// unless `family` says otherwise (AF_UNSPEC: either). Blocks on DNS; throws
/// std::invalid_argument naming the host when it cannot be resolved.
SockAddr resolve_address(const std::string& host, std::uint16_t port, int family = AF_UNSPEC);

/// Splits "host:port" or "[v6]:port" and resolves it as resolve_address does, returning the
/// canonical spelling. Throws std::invalid_argument for a malformed or unresolvable address.
std::string canonical_address(const std::string& addr, int family = AF_UNSPEC);

/// parse_address with a bounded memory of its answers, for the network thread's sends.
class AddressBook {
 public:
  /// The parsed address, or nullptr when `addr` is not numeric.
  const SockAddr* find(const std::string& addr);

 private:
  static constexpr std::size_t kMaxEntries = 4096;
  std::map<std::string, std::optional<SockAddr>> cache_;
};

/// The port of an address.
std::uint16_t port_of(const SockAddr& addr);

/// errno's message, e.g. "Connection refused".
std::string errno_text(int err);

}  // namespace metaopt
