#include "engine/rumors.hpp"

#include <utility>

namespace metaopt {

void RumorQueue::push(const std::string& subject, std::string encoded) {
  auto [pos, fresh] = index_.try_emplace(subject);
  Entry* entry = &*pos;
  if (!fresh) ranked_.erase(entry);  // found by its current rank, before that changes
  entry->second = Item{0, ++next_order_, std::move(encoded)};
  ranked_.insert(entry);
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
    auto node = ranked_.extract(it);
    Entry* entry = node.value();
    if (++entry->second.sent >= limit) {
      index_.erase(index_.find(entry->first));
    } else {
      ranked_.insert(std::move(node));
    }
  }
  return used;
}

}  // namespace metaopt
