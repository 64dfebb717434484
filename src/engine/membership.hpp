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
#include <unordered_map>
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
  std::int64_t heard_ms = -1;  // last authenticated packet from it; -1: only heard of
};

class Membership {
 public:
  explicit Membership(std::string self) : self_(std::move(self)) {}

  /// Applies an update; returns the member as changed, or nullopt when the update lost.
  std::optional<Member> apply_alive(const Alive& m, std::int64_t now);
  std::optional<Member> apply_suspect(const Suspect& m, std::int64_t now);
  std::optional<Member> apply_dead(const Dead& m, std::int64_t now);

  /// Notes a packet from `node` (no view changes: nothing derived depends on it).
  void heard(const std::string& node, std::int64_t now);

  const Member* find(const std::string& node) const;
  Member* find_mutable(const std::string& node);
  const std::map<std::string, Member>& all() const { return members_; }

  /// Members other than self that are alive or suspect: the ones worth probing and gossiping to.
  const std::vector<const Member*>& live_peers() const;
  std::size_t live_count() const { return live_peers().size() + 1; }  // self included
  /// Members other than self that have not left, whatever their state.
  const std::vector<const Member*>& others() const;
  /// Bumped by every change, so derived views can be cached.
  std::uint64_t version() const { return version_; }
  /// Order-independent hash of every (node, incarnation, failed or not), kept up to date on
  /// each change: members whose views agree have equal hashes, whatever their suspicions.
  std::uint64_t view_hash() const { return view_hash_; }

  /// Drops members dead or left for longer than `age_ms`; returns how many.
  std::size_t reap(std::int64_t now, std::int64_t age_ms);

 private:
  void refresh() const;
  /// Every change goes through here: keeps the hash and the cached views right.
  void update(Member& held, const Member& next);
  static std::uint64_t entry_hash(const Member& m);

  std::string self_;
  std::map<std::string, Member> members_;  // ordered: what reaches the wire is deterministic
  std::unordered_map<std::string, Member*> index_;  // the same members, for O(1) lookups
  std::uint64_t version_ = 0;
  std::uint64_t roster_version_ = 0;  // changes of who is live or known, not of suspicion
  std::uint64_t view_hash_ = 0;
  // Views rebuilt lazily after a change: the hot paths (every packet) read them.
  mutable std::uint64_t cached_roster_ = ~std::uint64_t{0};
  mutable std::vector<const Member*> live_;
  mutable std::vector<const Member*> others_;
};

}  // namespace metaopt
