#include "engine/replay.hpp"

#include <stdexcept>

namespace metaopt {

bool ReplayWindow::is_fresh(std::uint64_t counter) const {
  if (counter > highest_) return true;
  const std::uint64_t below = highest_ - counter;
  if (below >= kReplayWindowSize) return false;
  return ((seen_ >> below) & 1u) == 0;
}

void ReplayWindow::mark(std::uint64_t counter) {
  if (counter > highest_) {
    const std::uint64_t shift = counter - highest_;
    // A shift of 64 or more is undefined for a 64-bit word; the window is then all new.
    seen_ = shift >= kReplayWindowSize ? 1u : (seen_ << shift) | 1u;
    highest_ = counter;
    return;
  }
  const std::uint64_t below = highest_ - counter;
  if (below < kReplayWindowSize) seen_ |= std::uint64_t{1} << below;
}

namespace {

std::size_t checked_max_senders(std::size_t max_senders) {
  if (max_senders == 0) throw std::invalid_argument("max_senders must be at least 1");
  return max_senders;
}

}  // namespace

ReplayTable::ReplayTable(std::size_t max_senders) : senders_(checked_max_senders(max_senders)) {}

ReplayVerdict ReplayTable::check(std::string_view sender, std::uint64_t generation,
                                 std::uint64_t counter) {
  key_.assign(sender);
  const SenderState* state = senders_.find(key_);
  if (state == nullptr || generation > state->generation) return ReplayVerdict::fresh;
  if (generation < state->generation) return ReplayVerdict::old_generation;
  return state->window.is_fresh(counter) ? ReplayVerdict::fresh : ReplayVerdict::replayed;
}

void ReplayTable::accept(std::string_view sender, std::uint64_t generation, std::uint64_t counter) {
  key_.assign(sender);
  SenderState* state = senders_.touch(key_);
  if (state == nullptr) {
    bool evicted = false;
    state = &senders_.insert(key_, SenderState{generation, ReplayWindow{}}, evicted);
    if (evicted) ++evicted_;
  } else if (generation > state->generation) {
    *state = SenderState{generation, ReplayWindow{}};  // the sender restarted
  }
  state->window.mark(counter);
}

}  // namespace metaopt
