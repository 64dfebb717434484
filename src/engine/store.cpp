#include "engine/store.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "engine/utf8.hpp"

namespace metaopt {
namespace {

// --- checks -------------------------------------------------------------------------------

// Why `origin` cannot name a writer, or nullptr.
const char* origin_problem(std::string_view origin) {
  if (origin.empty()) return "origin is empty";
  if (origin.size() > kMaxOriginBytes) return "origin is over MAX_ORIGIN_BYTES";
  if (!is_valid_utf8(origin)) return "origin is not valid UTF-8";
  return nullptr;
}

// Why the store refuses `record`, or nullptr. The bounds are record.hpp's, so whatever is
// stored can be encoded; seq 0 is no write's.
const char* record_problem(const Record& record) {
  if (const char* problem = origin_problem(record.origin)) return problem;
  if (record.key.size() > kMaxKeyBytes) return "key is over MAX_KEY_BYTES";
  if (!is_valid_utf8(record.key)) return "key is not valid UTF-8";
  if (record.value.size() > kMaxValueBytes) return "value is over MAX_VALUE_BYTES";
  if (version_seq(record.version) == 0) return "version has seq 0";
  return nullptr;
}

void check_size(const char* name, std::string_view field, std::size_t max_bytes) {
  if (field.size() > max_bytes) {
    throw std::invalid_argument(std::string(name) + " is " + std::to_string(field.size()) +
                                " bytes; the limit is " + std::to_string(max_bytes));
  }
}

// --- delta selection ----------------------------------------------------------------------

// One origin the peer lacks records of, with what decides its place in the reply.
// Origins owing more than this many records rank as equally far behind (then by name): exact
// counts would walk every owed record on each exchange, quadratic over a long catch-up.
constexpr std::size_t kOwedCountCap = 1024;

struct Owed {
  const std::string* origin;
  const OriginLog* log;
  std::uint64_t peer_watermark;
  std::size_t records;  // held records in (peer_watermark, our watermark]
};

// Scuttle-depth with Chitchat's twist: unknown origins first, then most records owed, then name.
bool owed_before(const Owed& a, const Owed& b) {
  const bool a_known = a.peer_watermark != 0;
  const bool b_known = b.peer_watermark != 0;
  return std::tie(a_known, b.records, *a.origin) < std::tie(b_known, a.records, *b.origin);
}

std::uint64_t lookup(const Digest& digest, const std::string& origin) {
  const auto it = digest.find(origin);
  return it == digest.end() ? 0 : it->second;
}

}  // namespace

const char* to_string(Applied applied) {
  switch (applied) {
    case Applied::applied:
      return "applied";
    case Applied::stale:
      return "stale";
    case Applied::own:
      return "own";
    case Applied::rejected:
      return "rejected";
  }
  return "unknown";  // a value cast from a byte this build does not know
}

Store::Store(std::string self_origin, std::uint32_t generation)
    : self_(std::move(self_origin)), generation_(generation) {
  if (const char* problem = origin_problem(self_)) throw std::invalid_argument(problem);
}

// --- writing and applying -----------------------------------------------------------------

Record Store::write(std::string key, std::string value, std::uint64_t hlc) {
  check_size("key", key, kMaxKeyBytes);
  check_size("value", value, kMaxValueBytes);
  if (!is_valid_utf8(key)) throw std::invalid_argument("key is not valid UTF-8");
  if (seq_ == kMaxSeq) {
    throw std::overflow_error("generation " + std::to_string(generation_) +
                              " has used every seq; restart with a new generation");
  }
  Record record{self_, std::move(key), make_version(generation_, seq_ + 1), hlc, std::move(value)};
  OriginLog& own = log_of(self_);
  own.put(record);  // always added: no held own version reaches this generation's next seq
  ++seq_;
  own.raise_watermark(record.version);
  return record;
}

Applied Store::apply(const Record& record) {
  if (record_problem(record) != nullptr) return Applied::rejected;
  if (record.origin != self_) return apply_remote(record);
  if (record.version > own_version()) {
    ++own_conflicts_;
    return Applied::own;
  }
  return recover_own(record);
}

Applied Store::apply_remote(const Record& record) {
  OriginLog& log = log_of(record.origin);
  switch (log.put(record)) {
    case OriginLog::Put::added:
      log.raise_watermark(0);  // the dense successor rule: extends w if record is w + 1
      return Applied::applied;
    case OriginLog::Put::stale:
      return Applied::stale;
    case OriginLog::Put::clash:
      break;
  }
  return Applied::rejected;
}

// An own record at or below own_version(). This boot's are stale by definition: we hold each
// one we wrote or a newer version of its key. An earlier boot's may be one we lost, so it is
// kept when newer than what we hold, and is reported as `own` since it is not a peer's news.
Applied Store::recover_own(const Record& record) {
  if (version_generation(record.version) == generation_) return Applied::stale;
  return log_of(self_).put(record) == OriginLog::Put::added ? Applied::own : Applied::stale;
}

void Store::restore(const std::vector<Record>& persisted) {
  std::uint64_t own_max = 0;
  for (std::size_t i = 0; i < persisted.size(); ++i) {
    const Record& record = persisted[i];
    if (const char* problem = record_problem(record)) {
      throw std::invalid_argument("persisted record " + std::to_string(i) + ": " + problem);
    }
    if (record.origin == self_) own_max = std::max(own_max, record.version);
  }
  if (own_max != 0 && version_generation(own_max) >= generation_) {
    throw std::invalid_argument(
        "generation must grow across restarts: a persisted own record has generation " +
        std::to_string(version_generation(own_max)) + ", this store runs generation " +
        std::to_string(generation_));
  }
  for (const Record& record : persisted) {
    if (record.origin == self_) {
      log_of(self_).put(record);
    } else {
      apply_remote(record);
    }
  }
  if (own_max != 0) log_of(self_).raise_watermark(own_max);
}

// --- anti-entropy -------------------------------------------------------------------------

Digest Store::digest() const {
  Digest out;
  for (const auto& [origin, log] : logs_) {
    if (log.watermark() > 0) out.emplace(origin, log.watermark());
  }
  return out;
}

Deltas Store::deltas_for(const Digest& peer, std::size_t byte_budget) const {
  std::vector<Owed> owed;
  for (const auto& [origin, log] : logs_) {
    const std::uint64_t theirs = lookup(peer, origin);
    if (log.watermark() > theirs) {
      owed.push_back({&origin, &log, theirs, log.count_owed(theirs, kOwedCountCap)});
    }
  }
  std::sort(owed.begin(), owed.end(), owed_before);

  Deltas out;
  ByteBudget budget(byte_budget);
  for (const Owed& o : owed) {
    OriginDelta delta{*o.origin, {}, o.log->watermark()};
    if (o.records > 0) {
      // No-gap: a truncated origin is covered only up to its last record sent.
      delta.covered_up_to = o.log->take_owed(*o.origin, o.peer_watermark, budget, delta.records);
      if (delta.records.empty()) continue;
    }
    out.push_back(std::move(delta));
  }
  return out;
}

std::vector<Record> Store::apply_deltas(const Deltas& deltas) {
  std::vector<Record> applied;
  for (const OriginDelta& delta : deltas) {
    if (delta.origin == self_) {
      apply_own_delta(delta, applied);
      continue;
    }
    bool intact = origin_problem(delta.origin) == nullptr;
    for (const Record& record : delta.records) {
      const Applied result = record.origin == delta.origin ? apply(record) : Applied::rejected;
      if (result == Applied::applied) applied.push_back(record);
      if (result == Applied::rejected) intact = false;
    }
    // The sender vouched for everything up to covered_up_to, but not if it sent us garbage.
    if (intact && delta.covered_up_to > watermark(delta.origin)) {
      log_of(delta.origin).raise_watermark(delta.covered_up_to);
    }
  }
  return applied;
}

void Store::apply_own_delta(const OriginDelta& delta, std::vector<Record>& recovered) {
  bool conflict = delta.covered_up_to > own_version();
  bool intact = true;
  for (const Record& record : delta.records) {
    if (record.origin != self_ || record_problem(record) != nullptr) {
      intact = false;
      continue;
    }
    if (record.version > own_version()) {
      conflict = true;
    } else if (recover_own(record) == Applied::own) {
      recovered.push_back(record);  // ours from an earlier boot that we had lost: the host keeps it
    }
  }
  if (conflict) {
    ++own_conflicts_;
    return;
  }
  // The peer vouches for everything of our earlier boots up to covered_up_to, so after a
  // restart with an empty disk our watermark (and digest) catches up with everyone else's.
  if (intact && delta.covered_up_to > watermark(self_)) {
    log_of(self_).raise_watermark(delta.covered_up_to);
  }
}

// --- queries ------------------------------------------------------------------------------

std::optional<Record> Store::get(std::string_view origin, std::string_view key) const {
  const auto it = logs_.find(origin);
  if (it == logs_.end()) return std::nullopt;
  return it->second.get(it->first, key);
}

std::vector<Record> Store::records_of(std::string_view origin) const {
  std::vector<Record> out;
  const auto it = logs_.find(origin);
  if (it != logs_.end()) it->second.append_all(it->first, out);
  return out;
}

std::vector<std::string> Store::origins() const {
  std::vector<std::string> out;
  for (const auto& entry : logs_) out.push_back(entry.first);
  return out;
}

std::uint64_t Store::watermark(std::string_view origin) const {
  const OriginLog* log = find(origin);
  return log == nullptr ? 0 : log->watermark();
}

std::uint64_t Store::max_version(std::string_view origin) const {
  const OriginLog* log = find(origin);
  return log == nullptr ? 0 : log->max_version();
}

bool Store::has_version(std::string_view origin, std::uint64_t version) const {
  const OriginLog* log = find(origin);
  return log != nullptr && (version <= log->watermark() || log->holds_version(version));
}

std::size_t Store::size() const {
  std::size_t total = 0;
  for (const auto& entry : logs_) total += entry.second.size();
  return total;
}

std::size_t Store::bytes() const {
  std::size_t total = 0;
  for (const auto& entry : logs_) total += entry.second.bytes();
  return total;
}

OriginLog& Store::log_of(const std::string& origin) {
  auto it = logs_.find(origin);
  if (it == logs_.end()) it = logs_.emplace(origin, OriginLog{}).first;
  return it->second;
}

const OriginLog* Store::find(std::string_view origin) const {
  const auto it = logs_.find(origin);
  return it == logs_.end() ? nullptr : &it->second;
}

}  // namespace metaopt
