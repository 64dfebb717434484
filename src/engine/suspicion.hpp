// Suspicion timeouts (Lifeguard LHA-Suspicion): pure arithmetic, table-tested.
//
// A suspected member is declared dead after a timeout that starts at `max` and shrinks toward
// `min` as independent members confirm the suspicion, so a lone (possibly unhealthy) accuser
// cannot convict quickly, while a corroborated suspicion converges at the nominal speed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace metaopt {

/// Minimum suspicion timeout: mult * max(1, log10(n)) * probe interval.
std::int64_t suspicion_min_ms(double mult, std::size_t n, std::int64_t probe_interval_ms);

/// Timeout after `confirmations` of `k` expected, between min and max:
/// max - (max - min) * log(c + 1) / log(k + 1), never below min. k == 0 gives min.
std::int64_t suspicion_timeout_ms(std::int64_t min_ms, std::int64_t max_ms, std::size_t k,
                                  std::size_t confirmations);

/// Number of retransmissions of one rumour in a group of n: mult * ceil(log10(n + 1)).
std::size_t retransmit_limit(double mult, std::size_t n);

}  // namespace metaopt
