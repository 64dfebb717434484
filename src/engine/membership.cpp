#include "engine/membership.hpp"

namespace metaopt {

std::optional<Member> Membership::apply_alive(const Alive& m, std::int64_t now) {
  auto it = members_.find(m.node);
  if (it == members_.end()) {
    Member fresh{m.node, m.addr, m.incarnation, MemberState::alive, m.meta, now};
    return members_.emplace(m.node, fresh).first->second;
  }
  Member& held = it->second;
  const bool newer = m.incarnation > held.incarnation;
  // At the same incarnation only a live member's new address or metadata is news: refuting a
  // suspicion, or coming back from the dead, takes a higher incarnation.
  const bool update = m.incarnation == held.incarnation && held.state == MemberState::alive &&
                      (held.addr != m.addr || held.meta != m.meta);
  if (!newer && !update) return std::nullopt;
  if (held.state != MemberState::alive) held.since_ms = now;
  held.addr = m.addr;
  held.meta = m.meta;
  held.incarnation = m.incarnation;
  held.state = MemberState::alive;
  return held;
}

std::optional<Member> Membership::apply_suspect(const Suspect& m, std::int64_t now) {
  auto it = members_.find(m.node);
  if (it == members_.end()) return std::nullopt;  // unknown: wait for its alive
  Member& held = it->second;
  if (held.state == MemberState::dead || held.state == MemberState::left) return std::nullopt;
  if (m.incarnation < held.incarnation) return std::nullopt;
  if (held.state == MemberState::suspect && m.incarnation == held.incarnation) {
    return std::nullopt;
  }
  held.incarnation = m.incarnation;
  held.state = MemberState::suspect;
  held.since_ms = now;
  return held;
}

std::optional<Member> Membership::apply_dead(const Dead& m, std::int64_t now) {
  auto it = members_.find(m.node);
  if (it == members_.end()) return std::nullopt;
  Member& held = it->second;
  if (held.state == MemberState::dead || held.state == MemberState::left) return std::nullopt;
  if (m.incarnation < held.incarnation) return std::nullopt;
  held.incarnation = m.incarnation;
  held.state = m.from == m.node ? MemberState::left : MemberState::dead;
  held.since_ms = now;
  return held;
}

const Member* Membership::find(const std::string& node) const {
  auto it = members_.find(node);
  return it == members_.end() ? nullptr : &it->second;
}

std::vector<const Member*> Membership::live_peers() const {
  std::vector<const Member*> out;
  for (const auto& [node, m] : members_) {
    if (node != self_ && (m.state == MemberState::alive || m.state == MemberState::suspect)) {
      out.push_back(&m);
    }
  }
  return out;
}

std::size_t Membership::live_count() const { return live_peers().size() + 1; }

std::size_t Membership::reap(std::int64_t now, std::int64_t age_ms) {
  std::size_t dropped = 0;
  for (auto it = members_.begin(); it != members_.end();) {
    const bool gone = it->second.state == MemberState::dead || it->second.state == MemberState::left;
    if (gone && now - it->second.since_ms > age_ms) {
      it = members_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  return dropped;
}

}  // namespace metaopt
