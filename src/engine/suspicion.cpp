#include "engine/suspicion.hpp"

#include <algorithm>
#include <cmath>

namespace metaopt {

std::int64_t suspicion_min_ms(double mult, std::size_t n, std::int64_t probe_interval_ms) {
  const double scale = std::max(1.0, std::log10(static_cast<double>(std::max<std::size_t>(n, 1))));
  return static_cast<std::int64_t>(mult * scale * static_cast<double>(probe_interval_ms));
}

std::int64_t suspicion_timeout_ms(std::int64_t min_ms, std::int64_t max_ms, std::size_t k,
                                  std::size_t confirmations) {
  if (k == 0 || max_ms <= min_ms) return min_ms;
  const double frac =
      std::log(static_cast<double>(confirmations) + 1.0) / std::log(static_cast<double>(k) + 1.0);
  const double timeout = static_cast<double>(max_ms) - static_cast<double>(max_ms - min_ms) * frac;
  return std::max(min_ms, static_cast<std::int64_t>(std::floor(timeout)));
}

std::size_t retransmit_limit(double mult, std::size_t n) {
  const double scale = std::ceil(std::log10(static_cast<double>(n) + 1.0));
  return static_cast<std::size_t>(mult * std::max(1.0, scale));
}

}  // namespace metaopt
