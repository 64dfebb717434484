#include "engine/membership.hpp"

namespace metaopt {
namespace {

bool failed(MemberState s) { return s == MemberState::dead || s == MemberState::left; }

}  // namespace

std::uint64_t Membership::entry_hash(const Member& m) {
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::uint64_t byte) {
    h ^= byte & 0xFF;
    h *= 1099511628211ULL;
  };
  for (char c : m.node) mix(static_cast<unsigned char>(c));
  mix(0);
  for (int i = 0; i < 8; ++i) mix(m.incarnation >> (8 * i));
  mix(failed(m.state) ? 1 : 0);
  return h;
}

void Membership::update(Member& held, const Member& next) {
  view_hash_ ^= entry_hash(held) ^ entry_hash(next);
  if (failed(held.state) != failed(next.state)) ++roster_version_;
  held = next;
  ++version_;
}

std::optional<Member> Membership::apply_alive(const Alive& m, std::int64_t now) {
  Member* found = find_mutable(m.node);
  if (found == nullptr) {
    Member fresh{m.node, m.addr, m.incarnation, MemberState::alive, m.meta, now};
    view_hash_ ^= entry_hash(fresh);
    ++version_;
    ++roster_version_;
    Member& stored = members_.emplace(m.node, fresh).first->second;
    index_[m.node] = &stored;
    return stored;
  }
  Member& held = *found;
  const bool newer = m.incarnation > held.incarnation;
  // At the same incarnation only a live member's new address or metadata is news: refuting a
  // suspicion, or coming back from the dead, takes a higher incarnation.
  const bool news = m.incarnation == held.incarnation && held.state == MemberState::alive &&
                    (held.addr != m.addr || held.meta != m.meta);
  if (!newer && !news) return std::nullopt;
  Member next = held;
  if (held.state != MemberState::alive) next.since_ms = now;
  next.addr = m.addr;
  next.meta = m.meta;
  next.incarnation = m.incarnation;
  next.state = MemberState::alive;
  update(held, next);
  return held;
}

std::optional<Member> Membership::apply_suspect(const Suspect& m, std::int64_t now) {
  Member* found = find_mutable(m.node);
  if (found == nullptr) return std::nullopt;  // unknown: wait for its alive
  Member& held = *found;
  if (failed(held.state) || m.incarnation < held.incarnation) return std::nullopt;
  if (held.state == MemberState::suspect && m.incarnation == held.incarnation) {
    return std::nullopt;
  }
  Member next = held;
  next.incarnation = m.incarnation;
  next.state = MemberState::suspect;
  next.since_ms = now;
  update(held, next);
  return held;
}

std::optional<Member> Membership::apply_dead(const Dead& m, std::int64_t now) {
  Member* found = find_mutable(m.node);
  if (found == nullptr) return std::nullopt;
  Member& held = *found;
  if (failed(held.state) || m.incarnation < held.incarnation) return std::nullopt;
  Member next = held;
  next.incarnation = m.incarnation;
  next.state = m.from == m.node ? MemberState::left : MemberState::dead;
  next.since_ms = now;
  update(held, next);
  return held;
}

void Membership::heard(const std::string& node, std::int64_t now) {
  if (Member* m = find_mutable(node)) m->heard_ms = now;
}

const Member* Membership::find(const std::string& node) const {
  auto it = index_.find(node);
  return it == index_.end() ? nullptr : it->second;
}

Member* Membership::find_mutable(const std::string& node) {
  auto it = index_.find(node);
  return it == index_.end() ? nullptr : it->second;
}

void Membership::refresh() const {
  if (cached_roster_ == roster_version_) return;
  live_.clear();
  others_.clear();
  for (const auto& [node, m] : members_) {
    if (node == self_ || m.state == MemberState::left) continue;
    others_.push_back(&m);
    if (!failed(m.state)) live_.push_back(&m);
  }
  cached_roster_ = roster_version_;
}

const std::vector<const Member*>& Membership::live_peers() const {
  refresh();
  return live_;
}

const std::vector<const Member*>& Membership::others() const {
  refresh();
  return others_;
}

std::size_t Membership::reap(std::int64_t now, std::int64_t age_ms) {
  std::size_t dropped = 0;
  for (auto it = members_.begin(); it != members_.end();) {
    if (failed(it->second.state) && now - it->second.since_ms > age_ms) {
      view_hash_ ^= entry_hash(it->second);
      index_.erase(it->first);
      it = members_.erase(it);
      ++dropped;
      ++version_;
      ++roster_version_;
    } else {
      ++it;
    }
  }
  return dropped;
}

}  // namespace metaopt
