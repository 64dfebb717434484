// LruMap: a map from byte-string keys to values that holds at most `capacity` entries and, when
// full, drops the least recently used one to make room.
//
// Recency changes only through touch() and insert(); find() looks without touching, so a caller
// can inspect an entry for a packet it has not yet authenticated without letting that packet
// reorder anything. Eviction follows the recency list alone, never hash order, so the same calls
// always evict the same entries. Once the map is full, an insertion reuses the evicted entry's
// list and hash nodes, so steady-state use allocates nothing but key growth.
//
// Not thread-safe.
#pragma once

#include <cstddef>
#include <iterator>
#include <list>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>

namespace metaopt {

template <typename Value>
class LruMap {
 public:
  /// Throws std::invalid_argument when capacity is 0.
  explicit LruMap(std::size_t capacity) : capacity_(capacity) {
    if (capacity == 0) throw std::invalid_argument("LruMap capacity must be at least 1");
  }

  /// The value under `key`, or nullptr; recency is unchanged.
  Value* find(const std::string& key) {
    const auto it = index_.find(key);
    return it == index_.end() ? nullptr : &it->second->second;
  }

  /// The value under `key`, made the most recently used; nullptr when absent.
  Value* touch(const std::string& key) {
    const auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }

  /// Stores `value` under `key` as the most recently used entry, replacing any value there.
  /// Sets `evicted` when another entry was dropped to make room.
  Value& insert(const std::string& key, Value value, bool& evicted) {
    evicted = false;
    if (Value* existing = touch(key)) {
      *existing = std::move(value);
      return *existing;
    }
    if (order_.size() < capacity_) {
      order_.emplace_front(key, std::move(value));
      index_.emplace(key, order_.begin());
      return order_.front().second;
    }
    evicted = true;
    return reuse_oldest(key, std::move(value));
  }

  /// Number of entries held.
  std::size_t size() const { return order_.size(); }

  /// Most entries ever held at once.
  std::size_t capacity() const { return capacity_; }

  /// Drops every entry.
  void clear() {
    index_.clear();
    order_.clear();
  }

 private:
  using Order = std::list<std::pair<std::string, Value>>;

  // Moves the oldest entry to the front and rekeys it, reusing both of its nodes.
  Value& reuse_oldest(const std::string& key, Value value) {
    order_.splice(order_.begin(), order_, std::prev(order_.end()));
    auto& entry = order_.front();
    auto node = index_.extract(entry.first);
    entry.first = key;
    entry.second = std::move(value);
    node.key() = key;
    index_.insert(std::move(node));
    return entry.second;
  }

  std::size_t capacity_;
  Order order_;  // most recently used first
  std::unordered_map<std::string, typename Order::iterator> index_;
};

}  // namespace metaopt
