#include "engine/rumors.hpp"

#include <iterator>
#include <utility>

namespace metaopt {

void RumorQueue::push(const std::string& subject, std::string encoded) {
  auto [pos, fresh] = index_.try_emplace(subject);
  Entry* entry = &*pos;
  if (!fresh) {
    ranked_.erase(entry);  // found by its current rank, before that changes
    bytes_ -= entry->second.encoded.size();
  }
  bytes_ += encoded.size();
  entry->second = Item{0, ++next_order_, std::move(encoded)};
  ranked_.insert(entry);
  while (bytes_ > max_bytes_ && ranked_.size() > 1) {
    forget(std::prev(ranked_.end()));
    ++dropped_;
  }
}

void RumorQueue::forget(std::set<Entry*, ByPriority>::iterator it) {
  Entry* entry = *it;
  ranked_.erase(it);
  bytes_ -= entry->second.encoded.size();
  index_.erase(index_.find(entry->first));
}

std::size_t RumorQueue::fill(std::string& out, std::size_t budget, std::size_t limit) {
  std::size_t used = 0;
  std::size_t misfits = 0;
  std::vector<std::set<Entry*, ByPriority>::iterator> taken;
  for (auto it = ranked_.begin(); it != ranked_.end(); ++it) {
    const std::string& encoded = (*it)->second.encoded;
    if (used + encoded.size() > budget) {
      // A smaller one may still fit, but a long queue is not worth walking to the end for it.
      if (++misfits >= 4) break;
      continue;
    }
    out += encoded;
    used += encoded.size();
    taken.push_back(it);
  }
  for (auto it : taken) {  // re-rank after the walk, not during it
    Entry* entry = *it;
    if (entry->second.sent + 1 >= limit) {
      forget(it);
    } else {
      auto node = ranked_.extract(it);
      ++entry->second.sent;
      ranked_.insert(std::move(node));
    }
  }
  return used;
}

}  // namespace metaopt
