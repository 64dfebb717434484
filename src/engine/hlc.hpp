// Hybrid logical clock (Kulkarni et al., 2014): timestamps that track wall-clock time while the
// clocks behave, and still order causally related events across nodes when they don't.
//
// A timestamp is one uint64: wall-clock milliseconds since the Unix epoch in the high 48 bits, a
// logical counter in the low 16 that orders events within one millisecond. Comparing timestamps
// as integers compares (physical, logical) in that order. Advancing a timestamp adds one to the
// whole integer, so a full logical counter carries into the physical part instead of wrapping.
//
// The clock reads no time itself: every call takes the caller's wall-clock reading, which keeps
// the engine deterministic. Not thread-safe; its owner serialises calls.
#pragma once

#include <cstdint>
#include <optional>

namespace metaopt {

inline constexpr int kHlcLogicalBits = 16;
/// Largest physical part, about the year 10889.
inline constexpr std::uint64_t kHlcMaxPhysicalMs = (std::uint64_t{1} << 48) - 1;
/// How far a peer's clock may run ahead of ours before its timestamps are refused.
inline constexpr std::uint64_t kHlcDefaultMaxOffsetMs = 60000;

/// Packs a timestamp; throws std::invalid_argument when physical_ms does not fit in 48 bits.
std::uint64_t hlc_pack(std::uint64_t physical_ms, std::uint16_t logical);

/// Physical part of a timestamp, in milliseconds.
constexpr std::uint64_t hlc_physical(std::uint64_t ts) { return ts >> kHlcLogicalBits; }

/// Logical part of a timestamp.
constexpr std::uint16_t hlc_logical(std::uint64_t ts) {
  return static_cast<std::uint16_t>(ts & 0xFFFFu);
}

/// A hybrid logical clock. Every timestamp it hands out is strictly greater than the one before,
/// whatever the wall clock does. Calls whose wall_ms does not fit in 48 bits throw
/// std::invalid_argument; running past the last representable timestamp throws
/// std::overflow_error. Neither changes the clock.
class Hlc {
 public:
  explicit Hlc(std::uint64_t max_offset_ms = kHlcDefaultMaxOffsetMs);

  /// Timestamp for a local or send event.
  std::uint64_t now(std::uint64_t wall_ms);

  /// Merges a peer's timestamp on a receive event and returns the receive timestamp, which is
  /// greater than both `remote` and every earlier timestamp. Returns nullopt and leaves the
  /// clock untouched when remote's physical part is more than max_offset_ms ahead of wall_ms,
  /// so one peer with a wild clock cannot drag everyone's timestamps into the future.
  std::optional<std::uint64_t> update(std::uint64_t remote, std::uint64_t wall_ms);

  /// The latest timestamp handed out or restored (0 for a new clock).
  std::uint64_t last() const { return last_; }

  /// Raises the clock to at least `ts`, e.g. the newest timestamp persisted before a restart, so
  /// timestamps never repeat across restarts even if the wall clock went back. Never lowers it.
  void restore(std::uint64_t ts);

 private:
  std::uint64_t advance_past(std::uint64_t floor, std::uint64_t wall_ms);

  std::uint64_t max_offset_ms_;
  std::uint64_t last_ = 0;
};

}  // namespace metaopt
