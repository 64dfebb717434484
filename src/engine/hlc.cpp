#include "engine/hlc.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace metaopt {
namespace {

void check_wall(std::uint64_t wall_ms) {
  if (wall_ms > kHlcMaxPhysicalMs) {
    throw std::invalid_argument("wall_ms does not fit in 48 bits");
  }
}

}  // namespace

std::uint64_t hlc_pack(std::uint64_t physical_ms, std::uint16_t logical) {
  if (physical_ms > kHlcMaxPhysicalMs) {
    throw std::invalid_argument("physical_ms does not fit in 48 bits");
  }
  return (physical_ms << kHlcLogicalBits) | logical;
}

Hlc::Hlc(std::uint64_t max_offset_ms) : max_offset_ms_(max_offset_ms) {}

std::uint64_t Hlc::now(std::uint64_t wall_ms) { return advance_past(last_, wall_ms); }

std::optional<std::uint64_t> Hlc::update(std::uint64_t remote, std::uint64_t wall_ms) {
  check_wall(wall_ms);
  const std::uint64_t remote_ms = hlc_physical(remote);
  // Written as a difference: wall_ms + max_offset_ms_ could overflow.
  if (remote_ms > wall_ms && remote_ms - wall_ms > max_offset_ms_) {
    return std::nullopt;
  }
  return advance_past(std::max(last_, remote), wall_ms);
}

void Hlc::restore(std::uint64_t ts) { last_ = std::max(last_, ts); }

// The smallest timestamp after `floor` that is not behind the wall clock. The packed form makes
// Kulkarni's case analysis one comparison: a later wall clock restarts the counter at zero,
// otherwise floor + 1 bumps the counter (carrying into the milliseconds when it is full).
std::uint64_t Hlc::advance_past(std::uint64_t floor, std::uint64_t wall_ms) {
  check_wall(wall_ms);
  if (wall_ms > hlc_physical(floor)) {
    last_ = hlc_pack(wall_ms, 0);
  } else if (floor == std::numeric_limits<std::uint64_t>::max()) {
    throw std::overflow_error("hybrid logical clock has no timestamp left");
  } else {
    last_ = floor + 1;
  }
  return last_;
}

}  // namespace metaopt
