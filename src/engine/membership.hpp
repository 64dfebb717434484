// Membership: the member table of SWIM, and the precedence rules between updates.
//
// Each member has an incarnation that only it may raise (to refute a suspicion about itself).
// An update about a member is applied only if it wins over what the table holds (SWIM 4.2):
//   alive(i)   beats suspect(j) and alive(j) when i > j;
//   suspect(i) beats suspect(j) when i > j and alive(j) when i >= j;
//   dead(i)    beats alive(j) and suspect(j) when i >= j (a later alive(j > i) revives).
// The table knows nothing of time except the `now` stamped on each change; timers live in the
// engine. Iteration order is by node id, so everything that reaches the wire is deterministic.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/messages.hpp"

namespace metaopt {

struct Member {
  std::string node;
  std::string addr;
  std::uint64_t incarnation = 0;
  MemberState state = MemberState::alive;
  std::string meta;
  std::int64_t since_ms = 0;  // when `state` last changed
};

class Membership {
 public:
  explicit Membership(std::string self) : self_(std::move(self)) {}

  /// Applies an update; returns the member as changed, or nullopt when the update lost.
  std::optional<Member> apply_alive(const Alive& m, std::int64_t now);
  std::optional<Member> apply_suspect(const Suspect& m, std::int64_t now);
  std::optional<Member> apply_dead(const Dead& m, std::int64_t now);

  const Member* find(const std::string& node) const;
  const std::map<std::string, Member>& all() const { return members_; }

  /// Members other than self that are alive or suspect: the ones worth probing and gossiping to.
  std::vector<const Member*> live_peers() const;
  std::size_t live_count() const;  // self included

  /// Drops members dead or left for longer than `age_ms`; returns how many.
  std::size_t reap(std::int64_t now, std::int64_t age_ms);

 private:
  std::string self_;
  std::map<std::string, Member> members_;
};

}  // namespace metaopt
