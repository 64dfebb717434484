// Poller: a level-triggered epoll set, keyed by file descriptor. Used by the network thread only.
#pragma once

#include <sys/epoll.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "node/address.hpp"

namespace metaopt {

class Poller {
 public:
  Poller() : fd_(epoll_create1(EPOLL_CLOEXEC)) {
    if (!fd_) throw std::runtime_error("epoll_create1: " + errno_text(errno));
  }

  void add(int fd, std::uint32_t events) { control(EPOLL_CTL_ADD, fd, events); }
  void modify(int fd, std::uint32_t events) { control(EPOLL_CTL_MOD, fd, events); }
  void remove(int fd) { epoll_ctl(fd_.get(), EPOLL_CTL_DEL, fd, nullptr); }

  /// Ready descriptors into `out` (at most `max`); 0 on timeout or EINTR.
  int wait(epoll_event* out, int max, int timeout_ms) {
    const int n = epoll_wait(fd_.get(), out, max, timeout_ms);
    return n < 0 ? 0 : n;
  }

 private:
  void control(int op, int fd, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (epoll_ctl(fd_.get(), op, fd, &ev) != 0) {
      throw std::runtime_error("epoll_ctl: " + errno_text(errno));
    }
  }

  Fd fd_;
};

}  // namespace metaopt
