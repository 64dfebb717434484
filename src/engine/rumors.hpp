// Rumors: the transmit-limited queue of updates that ride on outgoing datagrams.
//
// Each item is sent at most `limit` times (retransmit_mult * ceil(log10(N + 1))); when a packet
// has room for only some, the least-sent go first, then the newest. A new item about the same
// subject (a member, or a record key) replaces the old one, so a refuted suspicion stops
// spreading as soon as the refutation is queued. Membership and records use two queues, each
// with its own share of the packet, so neither can starve the other (memberlist #299).
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace metaopt {

class RumorQueue {
 public:
  /// Queues `encoded` (one framed message) about `subject`, replacing any older one about it.
  void push(const std::string& subject, std::string encoded);

  /// Takes the items that fit `budget` bytes, counts a transmission for each, and drops those
  /// that reached `limit`. Appends their bytes to `out`; returns how many bytes were used.
  std::size_t fill(std::string& out, std::size_t budget, std::size_t limit);

  std::size_t size() const { return ranked_.size(); }
  bool empty() const { return ranked_.empty(); }

 private:
  struct Item {
    std::size_t sent = 0;
    std::uint64_t order = 0;  // insertion counter: newer first among equals
    std::string subject;
    std::string encoded;
  };
  // Priority order: fewest transmissions, then newest; the subject makes keys unique.
  struct ByPriority {
    bool operator()(const Item& a, const Item& b) const {
      if (a.sent != b.sent) return a.sent < b.sent;
      if (a.order != b.order) return a.order > b.order;
      return a.subject < b.subject;
    }
  };
  using Ranked = std::set<Item, ByPriority>;

  Ranked ranked_;
  std::unordered_map<std::string, Ranked::iterator> index_;  // by subject; never iterated
  std::uint64_t next_order_ = 0;
};

}  // namespace metaopt
