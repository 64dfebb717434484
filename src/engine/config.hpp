// Config: every knob of the gossip engine, with the two presets the project uses.
//
// Times are milliseconds of the host's monotonic clock. The defaults follow memberlist's LAN
// profile and ../shared/research/gossip.md section 6.6; each comment says what the knob does.
#pragma once

#include <cstddef>
#include <cstdint>

namespace metaopt {

struct Config {
  // --- failure detection (SWIM + Lifeguard) ---------------------------------------------
  std::int64_t probe_interval_ms = 1000;  // one probe of one member per interval (x health)
  std::int64_t probe_timeout_ms = 500;    // wait this long for a direct ack before asking others
  std::size_t indirect_checks = 3;        // k members asked to ping-req a silent target
  // With the indirect probes, also ping the target over the stream channel (memberlist's TCP
  // fallback): a reliable transport rarely loses both ping and ack, so lossy links cause far
  // fewer false suspicions, and a target reachable only over TCP is not convicted.
  bool tcp_fallback = true;
  double suspicion_mult = 4;                // min suspicion = mult * max(1, log10 N) * interval
  double suspicion_max_mult = 6;            // max suspicion = max_mult * min suspicion
  std::size_t suspicion_confirmations = 3;  // K independent accusers shrink it to the minimum
  int max_health = 8;                       // Lifeguard local health multiplier saturates here (S)
  // Lifeguard as a whole: local health, nacks, confirmations, the buddy system. Off gives plain
  // SWIM with a fixed suspicion timeout (the minimum), for comparisons.
  bool lifeguard = true;

  // --- dissemination ---------------------------------------------------------------------
  std::int64_t gossip_interval_ms = 200;  // piggyback-only gossip rounds
  std::size_t gossip_fanout = 3;          // members per gossip round
  double retransmit_mult = 4;             // a rumour is sent retransmit_mult*ceil(log10(N+1)) times
  std::size_t eager_push = 2;             // members that get a new local record at once
  std::size_t datagram_budget = 1200;     // plaintext bytes per datagram (fits common MTUs)
  std::size_t rumor_queue_bytes = 1 << 20;  // per rumour queue; past it the stalest are dropped

  // --- anti-entropy (Scuttlebutt over the stream channel) ---------------------------------
  std::int64_t anti_entropy_interval_ms = 1000;  // one digest exchange with one member
  std::size_t anti_entropy_budget = 256 * 1024;  // bytes of records per exchange and direction

  // --- dead members and partitions ---------------------------------------------------------
  std::int64_t gossip_to_dead_ms = 30000;          // dead members still get gossip this long
  std::int64_t reconnect_interval_ms = 30000;      // try to rejoin one failed member this often
  std::int64_t reap_dead_ms = 72LL * 3600 * 1000;  // forget failed members after this

  // --- observer grace: a stalled engine must not accuse others ------------------------------
  std::int64_t stall_threshold_ms = 2000;  // a tick this late means *we* were stalled
  int grace_ticks = 3;                     // normal probe periods before accusing again

  /// memberlist's LAN defaults.
  static Config lan() { return Config{}; }

  /// Loopback tests: millisecond timers, the same protocol.
  static Config local() {
    Config c;
    c.probe_interval_ms = 100;
    c.probe_timeout_ms = 40;
    c.gossip_interval_ms = 20;
    c.anti_entropy_interval_ms = 100;
    c.gossip_to_dead_ms = 3000;
    c.reconnect_interval_ms = 1000;
    c.stall_threshold_ms = 400;
    return c;
  }
};

}  // namespace metaopt
