// EventQueue: engine events on their way from the network thread to Python, bounded, with an
// eventfd that is readable while events wait (asyncio: loop.add_reader(queue.fd(), ...)).
//
// Thread-safe. The network thread pushes; any thread drains. Past the capacity, new events are
// dropped and counted: a consumer that stops reading must not grow the process without bound.
// Pushing and the fd's reset happen under one mutex, so the fd is never left unreadable while
// events wait.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

#include "engine/engine.hpp"
#include "node/address.hpp"

namespace metaopt {

class EventQueue {
 public:
  /// Throws std::runtime_error when no eventfd can be made.
  explicit EventQueue(std::size_t capacity);

  /// The eventfd (non-blocking): readable while events wait.
  int fd() const { return fd_.get(); }
  /// Appends `events`; returns how many were dropped because the queue was full.
  std::size_t push(std::vector<EngineEvent>&& events);
  /// Removes and returns up to `max` events, oldest first; resets the fd when none are left.
  std::vector<EngineEvent> drain(std::size_t max);
  std::size_t size() const;

 private:
  mutable std::mutex mu_;
  std::deque<EngineEvent> queue_;
  std::size_t capacity_;
  Fd fd_;
};

}  // namespace metaopt
