// Replay protection for opened packets: per sender, the sender's current generation and a
// sliding window over packet counters (RFC 4303 section 3.4.3, 64 wide as that RFC recommends).
//
// Keys are chosen by the caller; the Opener keys by (sender, channel), see crypto.cpp.
// A sender numbers its packets 1, 2, 3, ... within one generation, and takes a new, larger
// generation when it restarts (crypto.hpp). A packet is fresh when its generation is the sender's
// current one and its counter is above the window or inside it and not yet seen, or when its
// generation is newer (the sender restarted). Counters more than 64 below the highest seen are
// refused as replays even if they never arrived: the window trades those for bounded memory.
//
// Checking is separate from accepting so the caller can refuse replays cheaply BEFORE it spends a
// decryption on them, and change the state only AFTER the packet authenticates; a forged packet
// then can neither advance a window nor reset a generation nor evict a sender.
//
// The table tracks at most max_senders senders and evicts the least recently accepted one to make
// room. An evicted sender's history is gone: its old packets would be accepted once more. Only
// authenticated packets add senders, so this happens only when more than max_senders genuine
// senders are live, which sizing max_senders above the cluster size prevents. Deterministic and
// not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/lru_map.hpp"

namespace metaopt {

/// Counters a window remembers below its highest.
inline constexpr std::uint64_t kReplayWindowSize = 64;

/// The counters seen within one generation: the highest, and which of the 63 below it.
class ReplayWindow {
 public:
  /// True when `counter` is above the window, or inside it and not yet marked.
  bool is_fresh(std::uint64_t counter) const;

  /// Records `counter` as seen, sliding the window forward when it is the new highest.
  void mark(std::uint64_t counter);

  /// The highest counter marked, 0 when none.
  std::uint64_t highest() const { return highest_; }

 private:
  std::uint64_t highest_ = 0;
  std::uint64_t seen_ = 0;  // bit i: highest_ - i was marked
};

/// What the replay table thinks of a packet before it is authenticated.
enum class ReplayVerdict : std::uint8_t {
  fresh = 0,
  replayed,        // the counter was seen, or is below the window
  old_generation,  // the sender has since restarted with a newer generation
};

/// Per-sender generation and window, for at most max_senders senders.
class ReplayTable {
 public:
  /// Throws std::invalid_argument when max_senders is 0.
  explicit ReplayTable(std::size_t max_senders);

  /// The verdict on (sender, generation, counter); changes nothing.
  ReplayVerdict check(std::string_view sender, std::uint64_t generation, std::uint64_t counter);

  /// Records an authenticated packet that check() found fresh: moves the sender to `generation`
  /// with a new window if that is newer, marks `counter`, and makes the sender the most recently
  /// seen, evicting the least recently seen sender when the table is full.
  void accept(std::string_view sender, std::uint64_t generation, std::uint64_t counter);

  /// Senders tracked now.
  std::size_t size() const { return senders_.size(); }

  /// Senders evicted to make room, since construction.
  std::uint64_t evicted() const { return evicted_; }

 private:
  struct SenderState {
    std::uint64_t generation = 0;
    ReplayWindow window;
  };

  LruMap<SenderState> senders_;
  std::string key_;  // reused lookup key, so a lookup allocates nothing once warm
  std::uint64_t evicted_ = 0;
};

}  // namespace metaopt
