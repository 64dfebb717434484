// Rumors: the transmit-limited queue of updates that ride on outgoing datagrams.
//
// Each item is sent at most `limit` times (retransmit_mult * ceil(log10(N + 1))); when a packet
// has room for only some, the least-sent go first, then the newest. A new item about the same
// subject (a member, or a record key) replaces the old one, so a refuted suspicion stops
// spreading as soon as the refutation is queued. Membership and records use two queues, each
// with its own share of the packet, so neither can starve the other (memberlist #299).
//
// The queue holds at most `max_bytes`: past it, the items with the least left to gain (most
// sent, then oldest) are dropped, as serf's MaxQueueDepth does. A burst of writes must not grow
// memory without bound; what a dropped rumour would have carried, anti-entropy delivers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace metaopt {

class RumorQueue {
 public:
  explicit RumorQueue(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  /// Queues `encoded` (one framed message) about `subject`, replacing any older one about it;
  /// then drops the lowest-ranked items while the queue holds more than `max_bytes`.
  void push(const std::string& subject, std::string encoded);

  /// Takes the items that fit `budget` bytes, counts a transmission for each, and drops those
  /// that reached `limit`. Appends their bytes to `out`; returns how many bytes were used.
  std::size_t fill(std::string& out, std::size_t budget, std::size_t limit);

  std::size_t size() const { return ranked_.size(); }
  bool empty() const { return ranked_.empty(); }
  std::size_t bytes() const { return bytes_; }
  /// Items dropped to stay within `max_bytes`, since the start.
  std::uint64_t dropped() const { return dropped_; }

 private:
  struct Item {
    std::size_t sent = 0;
    std::uint64_t order = 0;  // insertion counter: newer first among equals
    std::string encoded;
  };
  // Items live in index_ (by subject; its elements never move, even on rehash); ranked_ orders
  // pointers to them, so a send re-ranks an item without looking its subject up again.
  using Entry = std::pair<const std::string, Item>;
  struct ByPriority {  // fewest transmissions, then newest (orders are unique)
    bool operator()(const Entry* a, const Entry* b) const {
      if (a->second.sent != b->second.sent) return a->second.sent < b->second.sent;
      return a->second.order > b->second.order;
    }
  };

  std::unordered_map<std::string, Item> index_;  // never iterated
  void forget(std::set<Entry*, ByPriority>::iterator it);

  std::set<Entry*, ByPriority> ranked_;
  std::uint64_t next_order_ = 0;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;  // encoded bytes held
  std::uint64_t dropped_ = 0;
};

}  // namespace metaopt
