// Store: one node's replica of every origin's records, and Scuttlebutt anti-entropy over it.
//
// Each node writes only under its own origin. A version is (generation << 32) | seq: the
// generation is the writer's boot generation, which the host makes grow at every start, and seq
// counts that boot's writes densely from 1. A restart therefore never reuses a version, even if
// its last writes were lost before they were persisted.
//
// Per origin the store keeps the newest record of each key and a watermark (origin_log.hpp):
// "for every key of this origin, I hold its current record or its current version is above w".
// The watermark rises when a pushed record continues it densely, and when a peer's delta vouches
// for a higher one. Anti-entropy is the paper's: peers swap digests (origin -> watermark), and
// each answers with what the other lacks, per origin in version order and never across a gap,
// most-behind origins first and origins the peer has never heard of before those.
//
// The store is sans-IO and deterministic: no clock, socket, thread or randomness, and every
// output is built from ordered containers. It is not the wire format (messages.hpp), not
// persistence (the host persists records and hands them back to restore), and not the decision
// of whom to gossip with (engine.hpp). Input from peers never throws: a bad record is refused
// with a status. Not thread-safe; its owner serialises calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/origin_log.hpp"
#include "engine/record.hpp"

namespace metaopt {

inline constexpr std::uint32_t kMaxSeq = 0xFFFFFFFFu;

/// Version of the `seq`-th write of boot `generation`.
constexpr std::uint64_t make_version(std::uint32_t generation, std::uint32_t seq) {
  return (std::uint64_t{generation} << 32) | seq;
}
constexpr std::uint32_t version_generation(std::uint64_t version) {
  return static_cast<std::uint32_t>(version >> 32);
}
constexpr std::uint32_t version_seq(std::uint64_t version) {
  return static_cast<std::uint32_t>(version & kMaxSeq);
}

/// What apply did with a record.
enum class Applied : std::uint8_t {
  applied = 0,   // new: stored
  stale = 1,     // the same or a newer version of its (origin, key) is held
  own = 2,       // under our origin: kept only if an earlier boot wrote it and it is newer than
                 // what we hold for its key; a version we never issued is dropped and counted
                 // in own_conflicts
  rejected = 3,  // malformed: a field over its bound or not UTF-8, an empty origin, seq 0, or a
                 // version the store holds under another key
};

/// The enumerator's name, e.g. "stale".
const char* to_string(Applied applied);

/// Origin -> watermark, for the origins whose watermark is above 0.
using Digest = std::map<std::string, std::uint64_t>;

/// What a peer lacks of one origin: records in increasing version order, and the version the
/// sender vouches for, so the receiver may raise its watermark to it.
struct OriginDelta {
  std::string origin;
  std::vector<Record> records;
  std::uint64_t covered_up_to = 0;
};
using Deltas = std::vector<OriginDelta>;

class Store {
 public:
  /// Throws std::invalid_argument when `self_origin` is empty, over kMaxOriginBytes or not UTF-8.
  Store(std::string self_origin, std::uint32_t generation);

  /// The next record under our origin, stored. Throws std::invalid_argument when key or value is
  /// over its bound or key is not UTF-8, and std::overflow_error when this generation has used
  /// every seq; neither changes the store.
  Record write(std::string key, std::string value, std::uint64_t hlc);

  /// A record pushed by a peer. A record that continues its origin's watermark densely raises
  /// it; one beyond is kept but leaves the watermark alone. Never throws but std::bad_alloc.
  Applied apply(const Record& record);

  /// Records the host persisted in an earlier boot, handed back at start. Our own raise our
  /// watermark to their newest version; other origins' watermarks are not restored (they rise
  /// only by the dense rule), so the first anti-entropy exchange resends what a peer vouches
  /// for and the duplicates are dropped as stale. The host must hand back every own record it
  /// persisted: we vouch for all of them. Throws std::invalid_argument, changing nothing, for a
  /// malformed record or when an own record's generation is not below ours ("generation must
  /// grow across restarts").
  void restore(const std::vector<Record>& persisted);

  /// Our watermark of every origin we have heard of.
  Digest digest() const;

  /// What a peer whose digest is `peer` lacks, within `byte_budget` bytes of encoded records
  /// (at least one record whenever any is owed). For each origin where our watermark is above
  /// the peer's: our records with a version in (peer's, ours], oldest first, and covered_up_to,
  /// our watermark if all were sent, else the last one sent. An origin whose owed records were
  /// all superseded gets an entry with no records, whatever the budget. Origins the peer lacks
  /// come first, then the ones it lacks most records of, then by name. Records above our own
  /// watermark are never sent: we cannot vouch for the gap below them. O(records owed).
  Deltas deltas_for(const Digest& peer, std::size_t byte_budget) const;

  /// Applies a peer's deltas and raises each origin's watermark to covered_up_to, unless the
  /// delta held a rejected record. Returns the records newly applied, in order, including our
  /// own records from earlier boots that we had lost (a restart with an empty disk), which also
  /// raise our own watermark. A version of ours we never issued counts one own conflict per
  /// delta and raises nothing.
  std::vector<Record> apply_deltas(const Deltas& deltas);

  std::optional<Record> get(std::string_view origin, std::string_view key) const;
  /// The records held of `origin`, oldest version first.
  std::vector<Record> records_of(std::string_view origin) const;
  /// Every origin we hold records of or have a watermark for, by name.
  std::vector<std::string> origins() const;

  std::uint64_t watermark(std::string_view origin) const;
  /// The highest version of `origin` we hold or cover, e.g. to judge a rumour of a new version.
  std::uint64_t max_version(std::string_view origin) const;
  /// Whether we hold or cover a version of `origin` above `version`.
  bool has_newer_than(std::string_view origin, std::uint64_t version) const {
    return max_version(origin) > version;
  }
  /// Whether `version` of `origin` is held, or covered by our watermark (held or superseded).
  /// A rumour of a version for which this is false is worth a pull.
  bool has_version(std::string_view origin, std::uint64_t version) const;

  /// Records held, of every origin.
  std::size_t size() const;
  /// Sum of the encoded sizes of the records held.
  std::size_t bytes() const;

  const std::string& origin() const { return self_; }
  std::uint32_t generation() const { return generation_; }
  /// The version of this boot's last write; generation << 32 before the first.
  std::uint64_t own_version() const { return make_version(generation_, seq_); }
  /// How often a peer showed us a version of our origin that we never issued: this generation
  /// (or a later one) was used by another boot of this node. Counts sightings, not versions.
  std::uint64_t own_conflicts() const { return own_conflicts_; }

 private:
  Applied apply_remote(const Record& record);
  Applied recover_own(const Record& record);
  void apply_own_delta(const OriginDelta& delta, std::vector<Record>& recovered);
  OriginLog& log_of(const std::string& origin);
  const OriginLog* find(std::string_view origin) const;

  std::string self_;
  std::uint32_t generation_;
  std::uint32_t seq_ = 0;
  std::uint64_t own_conflicts_ = 0;
  std::map<std::string, OriginLog, std::less<>> logs_;
};

}  // namespace metaopt
