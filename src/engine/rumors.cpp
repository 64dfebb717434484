#include "engine/rumors.hpp"

#include <utility>

namespace metaopt {

void RumorQueue::push(const std::string& subject, std::string encoded) {
  auto held = index_.find(subject);
  if (held != index_.end()) {
    ranked_.erase(held->second);
    index_.erase(held);
  }
  Item item{0, ++next_order_, subject, std::move(encoded)};
  index_.emplace(subject, ranked_.insert(std::move(item)).first);
}

std::size_t RumorQueue::fill(std::string& out, std::size_t budget, std::size_t limit) {
  std::size_t used = 0;
  std::size_t misfits = 0;
  std::vector<Ranked::iterator> taken;
  for (auto it = ranked_.begin(); it != ranked_.end(); ++it) {
    if (used + it->encoded.size() > budget) {
      // A smaller one may still fit, but a long queue is not worth walking to the end for it.
      if (++misfits >= 4) break;
      continue;
    }
    out += it->encoded;
    used += it->encoded.size();
    taken.push_back(it);
  }
  for (Ranked::iterator it : taken) {  // re-rank after the walk, not during it
    auto node = ranked_.extract(it);
    const std::string subject = node.value().subject;
    if (++node.value().sent >= limit) {
      index_.erase(subject);
    } else {
      index_[subject] = ranked_.insert(std::move(node)).position;
    }
  }
  return used;
}

}  // namespace metaopt
