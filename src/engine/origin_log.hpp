// OriginLog: the records of one origin that a store holds, and that origin's watermark.
//
// It keeps only the newest record per key: an older version is superseded and dropped, as in
// Scuttlebutt, where a peer only ever needs a key's current value. The records are indexed
// twice: by key, which owns the data, and by version, which points back at the key's entry and
// lets anti-entropy walk them in version order without copying keys.
//
// The watermark w is Scuttlebutt's invariant: for every key of this origin, we hold its current
// record, or its current version is above w. It only rises, either to a bound that another node
// vouched for or over held records that continue it densely (w + 1, w + 2, ...). Records above w
// are kept, since they are real data, but nothing above w is ever offered to peers.
//
// This is not the store: it knows nothing of which origin is ours, of generations, or of peers
// (store.hpp). Not thread-safe; its owner serialises calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/record.hpp"

namespace metaopt {

/// Bytes left for the records of one delta message. The first record is always taken, however
/// large, so that a tiny budget still makes progress. After that a record is taken only if it
/// fits, and the first one that does not closes the budget for good: a later record could only
/// be sent across a gap.
class ByteBudget {
 public:
  explicit ByteBudget(std::size_t bytes) : left_(bytes) {}

  /// Spends `bytes` and returns true, or closes the budget and returns false.
  bool take(std::size_t bytes);
  bool closed() const { return closed_; }

 private:
  std::size_t left_;
  bool taken_any_ = false;
  bool closed_ = false;
};

class OriginLog {
 public:
  OriginLog() = default;
  /// Copies rebuild the version index, which points into the copied-from log.
  OriginLog(const OriginLog& other);
  OriginLog& operator=(const OriginLog& other);
  // A moved std::map keeps its nodes, so the index moves along with what it points at.
  OriginLog(OriginLog&&) noexcept = default;
  OriginLog& operator=(OriginLog&&) noexcept = default;
  ~OriginLog() = default;

  enum class Put : std::uint8_t {
    added,  // kept; it superseded any older version of its key
    stale,  // the same or a newer version of its key is held
    clash,  // its version is held under another key: one writer never does that
  };

  /// Keeps `record` if it is newer than what is held for its key. Does not move the watermark
  /// and does not look at the record's origin.
  Put put(const Record& record);

  /// Raises the watermark to at least `floor`, then over held records that follow it densely.
  void raise_watermark(std::uint64_t floor);

  std::uint64_t watermark() const { return watermark_; }
  /// The highest version held or covered by the watermark.
  std::uint64_t max_version() const;
  bool holds_version(std::uint64_t version) const { return by_version_.count(version) != 0; }

  /// How many held records have a version in (after, watermark], counted up to `cap` (the walk
  /// costs one step per record, and every exchange ranks every origin).
  std::size_t count_owed(std::uint64_t after, std::size_t cap) const;
  /// Appends the held records with a version in (after, watermark], oldest first, while
  /// `budget` takes them. Returns the version they cover: the watermark if all were taken,
  /// else the last one taken (`after` if none).
  std::uint64_t take_owed(const std::string& origin, std::uint64_t after, ByteBudget& budget,
                          std::vector<Record>& out) const;

  std::optional<Record> get(const std::string& origin, std::string_view key) const;
  /// Appends every held record, oldest version first.
  void append_all(const std::string& origin, std::vector<Record>& out) const;

  std::size_t size() const { return by_key_.size(); }
  /// Sum of the encoded sizes of the held records.
  std::size_t bytes() const { return bytes_; }

 private:
  // The origin and key are not repeated here: the map key and the owner hold them.
  struct Entry {
    std::uint64_t version = 0;
    std::uint64_t hlc = 0;
    std::string value;
    std::size_t encoded_bytes = 0;
  };
  using ByKey = std::map<std::string, Entry, std::less<>>;

  static Record to_record(const std::string& origin, ByKey::const_iterator it);

  ByKey by_key_;
  // Iterators into by_key_ stay valid until their element is erased, and std::map never moves
  // its nodes, so the index costs one small node per record and no copy of the key.
  std::map<std::uint64_t, ByKey::iterator> by_version_;
  std::uint64_t watermark_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace metaopt
