#include "engine/rumors.hpp"

#include <algorithm>
#include <tuple>

namespace metaopt {

void RumorQueue::push(const std::string& subject, std::string encoded) {
  Item& item = items_[subject];
  item.subject = subject;
  item.encoded = std::move(encoded);
  item.sent = 0;
  item.order = ++next_order_;
}

std::size_t RumorQueue::fill(std::string& out, std::size_t budget, std::size_t limit) {
  std::vector<Item*> ranked;
  ranked.reserve(items_.size());
  for (auto& [subject, item] : items_) ranked.push_back(&item);
  std::sort(ranked.begin(), ranked.end(), [](const Item* a, const Item* b) {
    return std::make_tuple(a->sent, b->order) < std::make_tuple(b->sent, a->order);
  });
  std::size_t used = 0;
  std::vector<std::string> spent;
  for (Item* item : ranked) {
    if (used + item->encoded.size() > budget) continue;  // a smaller one may still fit
    out += item->encoded;
    used += item->encoded.size();
    if (++item->sent >= limit) spent.push_back(item->subject);
  }
  for (const auto& subject : spent) items_.erase(subject);
  return used;
}

}  // namespace metaopt
