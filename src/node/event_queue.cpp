#include "node/event_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <utility>

namespace metaopt {

EventQueue::EventQueue(std::size_t capacity)
    : capacity_(capacity), fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!fd_) throw std::runtime_error("eventfd: " + errno_text(errno));
}

std::size_t EventQueue::push(std::vector<EngineEvent>&& events) {
  if (events.empty()) return 0;
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t dropped = 0;
  for (EngineEvent& e : events) {
    if (queue_.size() >= capacity_) {
      ++dropped;
      continue;
    }
    queue_.push_back(std::move(e));
  }
  const std::uint64_t one = 1;
  if (!queue_.empty() && write(fd_.get(), &one, sizeof one) < 0) {
    // EAGAIN: the counter is at its maximum, so the fd is readable anyway.
  }
  return dropped;
}

std::vector<EngineEvent> EventQueue::drain(std::size_t max) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<EngineEvent> out;
  const std::size_t n = std::min(max, queue_.size());
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  if (queue_.empty()) {
    std::uint64_t count = 0;
    if (read(fd_.get(), &count, sizeof count) < 0) {
      // EAGAIN: already reset (the consumer read the fd itself).
    }
  }
  return out;
}

std::size_t EventQueue::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

}  // namespace metaopt
