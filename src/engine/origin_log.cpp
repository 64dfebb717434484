#include "engine/origin_log.hpp"

#include <algorithm>
#include <iterator>

namespace metaopt {

bool ByteBudget::take(std::size_t bytes) {
  if (closed_) return false;
  if (taken_any_ && bytes > left_) {
    closed_ = true;
    return false;
  }
  left_ -= std::min(bytes, left_);
  taken_any_ = true;
  return true;
}

OriginLog::OriginLog(const OriginLog& other)
    : by_key_(other.by_key_), watermark_(other.watermark_), bytes_(other.bytes_) {
  for (auto it = by_key_.begin(); it != by_key_.end(); ++it) {
    by_version_.emplace(it->second.version, it);
  }
}

OriginLog& OriginLog::operator=(const OriginLog& other) {
  if (this != &other) *this = OriginLog(other);
  return *this;
}

OriginLog::Put OriginLog::put(const Record& record) {
  const auto held = by_version_.find(record.version);
  if (held != by_version_.end()) {
    return held->second->first == record.key ? Put::stale : Put::clash;
  }
  auto it = by_key_.find(record.key);
  if (it == by_key_.end()) {
    it = by_key_.emplace(record.key, Entry{}).first;
  } else if (it->second.version >= record.version) {
    return Put::stale;
  } else {
    by_version_.erase(it->second.version);
    bytes_ -= it->second.encoded_bytes;
  }
  it->second = Entry{record.version, record.hlc, record.value, encoded_size(record)};
  bytes_ += it->second.encoded_bytes;
  by_version_.emplace(record.version, it);
  return Put::added;
}

void OriginLog::raise_watermark(std::uint64_t floor) {
  watermark_ = std::max(watermark_, floor);
  // A held record at w + 1 extends what we can vouch for. The successor of a generation's last
  // possible seq has seq 0, which no record has, so this never crosses a generation.
  while (holds_version(watermark_ + 1)) ++watermark_;
}

std::uint64_t OriginLog::max_version() const {
  if (by_version_.empty()) return watermark_;
  return std::max(watermark_, by_version_.rbegin()->first);
}

std::size_t OriginLog::count_owed(std::uint64_t after, std::size_t cap) const {
  if (after >= watermark_) return 0;
  std::size_t count = 0;
  for (auto it = by_version_.upper_bound(after);
       count < cap && it != by_version_.end() && it->first <= watermark_; ++it) {
    ++count;
  }
  return count;
}

std::uint64_t OriginLog::take_owed(const std::string& origin, std::uint64_t after,
                                   ByteBudget& budget, std::vector<Record>& out) const {
  std::uint64_t covered = after;
  for (auto it = by_version_.upper_bound(after); it != by_version_.end(); ++it) {
    if (it->first > watermark_) break;
    if (!budget.take(it->second->second.encoded_bytes)) return covered;
    out.push_back(to_record(origin, it->second));
    covered = it->first;
  }
  return std::max(covered, watermark_);
}

std::optional<Record> OriginLog::get(const std::string& origin, std::string_view key) const {
  const auto it = by_key_.find(key);
  if (it == by_key_.end()) return std::nullopt;
  return to_record(origin, it);
}

void OriginLog::append_all(const std::string& origin, std::vector<Record>& out) const {
  for (const auto& [version, it] : by_version_) out.push_back(to_record(origin, it));
}

Record OriginLog::to_record(const std::string& origin, ByKey::const_iterator it) {
  const Entry& entry = it->second;
  return Record{origin, it->first, entry.version, entry.hlc, entry.value};
}

}  // namespace metaopt
