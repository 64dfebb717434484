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
#include <map>
#include <string>
#include <vector>

namespace metaopt {

class RumorQueue {
 public:
  /// Queues `encoded` (one framed message) about `subject`, replacing any older one about it.
  void push(const std::string& subject, std::string encoded);

  /// Takes the items that fit `budget` bytes, counts a transmission for each, and drops those
  /// that reached `limit`. Appends their bytes to `out`; returns how many bytes were used.
  std::size_t fill(std::string& out, std::size_t budget, std::size_t limit);

  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

 private:
  struct Item {
    std::string subject;
    std::string encoded;
    std::size_t sent = 0;
    std::uint64_t order = 0;  // insertion counter: newer first among equals
  };
  std::map<std::string, Item> items_;  // by subject
  std::uint64_t next_order_ = 0;
};

}  // namespace metaopt
