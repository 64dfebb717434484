// Simulation: N engines in virtual time over a modelled network, seeded and deterministic.
//
// The engines are the real ones (engine.hpp), fed through the real codec and packet sealing, so
// what the simulation shows is what the protocol does. The network delivers datagrams after a
// random latency or loses them, delivers stream frames reliably and in order (TCP: each loss
// costs a retransmission timeout) unless a partition or a crash is in the way, and holds packets
// for a paused node until it resumes. Faults: crash,
// restart with or without its records, pause (the node's thread stops: it sees a stall when it
// resumes), slowness (extra processing delay per packet), partitions, loss.
//
// Everything comes from one seed; the trace hash folds in every delivery and tick, so two runs
// with the same seed and the same calls produce the same hash.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/engine.hpp"

namespace metaopt::sim {

struct NetworkModel {
  double loss = 0.0;                // datagram loss probability, i.i.d.
  std::int64_t latency_min_ms = 1;  // uniform one-way latency
  std::int64_t latency_max_ms = 2;
};

/// Per-node totals the benchmarks and tests read.
struct NodeReport {
  std::string node;
  bool up = true;
  std::uint64_t bytes_sent = 0;
  EngineStats stats;
  int health = 0;
};

class Simulation {
 public:
  Simulation(std::size_t nodes, std::uint64_t seed, Config config, NetworkModel network,
             bool encrypt = false);

  std::size_t size() const { return nodes_.size(); }
  std::int64_t now() const { return now_; }
  static std::string node_name(std::size_t i);

  /// Every node joins through node 0 (a seed), as a cluster does on its first day.
  void join_all();
  /// Runs events until virtual time `until_ms`.
  void run_until(std::int64_t until_ms);
  void run_for(std::int64_t ms) { run_until(now_ + ms); }

  /// A local write on node i; returns the record (origin = node i). `hlc` is the host's clock
  /// reading for it; without one the simulation uses its virtual time.
  Record write(std::size_t i, const std::string& key, const std::string& value,
               std::optional<std::uint64_t> hlc = std::nullopt);

  /// From now on, keep each node's engine events (records applied, member changes) for the
  /// host to drain, as a daemon drains its node's: the cluster simulation of metaoptd does.
  void keep_events(bool on) { keep_events_ = on; }
  /// Node i's events since the last call, oldest first; lost when the node crashes.
  std::vector<EngineEvent> drain_events(std::size_t i);
  /// Restart node i with a new generation, restoring exactly `persisted`: what its host kept.
  void restart_from(std::size_t i, std::vector<Record> persisted);
  /// Node i's current boot generation (1 at the start, one more at each restart).
  std::uint32_t generation(std::size_t i) const { return nodes_.at(i).generation; }

  void crash(std::size_t i);
  /// Restart node i with a new generation; with `keep_records` it restores what it held.
  void restart(std::size_t i, bool keep_records);
  void pause(std::size_t i, std::int64_t ms);
  void set_slow(std::size_t i, std::int64_t extra_ms);
  void set_loss(double loss) { network_.loss = loss; }
  /// Nodes in different groups cannot reach each other until heal().
  void partition(const std::vector<std::vector<std::size_t>>& groups);
  void heal() { group_.clear(); }

  /// How many live nodes hold (origin, version) or a newer version of that key.
  std::size_t holders(const Record& r) const;
  /// When node j first held record r (-1: never).
  std::int64_t first_held(const Record& r, std::size_t j) const;
  /// What node `observer` thinks of `node`: "alive", "suspect", "dead", "left" or "unknown".
  std::string state_of(std::size_t observer, std::size_t node) const;
  /// The incarnation `observer` holds for `node` (0 when unknown).
  std::uint64_t incarnation_of(std::size_t observer, std::size_t node) const;
  /// (observer, node, time) of every "dead" verdict reached about a node that was up.
  const std::vector<std::tuple<std::size_t, std::size_t, std::int64_t>>& false_deaths() const {
    return false_deaths_;
  }
  /// Time each observer marked `node` dead or left (-1: not yet).
  std::vector<std::int64_t> death_times(std::size_t node) const;
  NodeReport report(std::size_t i) const;
  /// Node i's Scuttlebutt digest: origin -> watermark.
  Digest digest(std::size_t i) const { return nodes_.at(i).engine->store().digest(); }
  std::uint64_t trace_hash() const { return trace_; }
  bool up(std::size_t i) const { return nodes_[i].up; }

 private:
  struct Node {
    std::unique_ptr<Engine> engine;
    bool up = true;
    std::uint32_t generation = 1;
    std::int64_t paused_until = 0;
    std::int64_t slow_ms = 0;
    std::int64_t tick_at = -1;  // the pending tick, if any
    std::vector<Record> disk;   // what the host persisted: own writes and applied records
    std::vector<EngineEvent> outbox;  // events kept for the host (keep_events)
    std::uint64_t bytes_sent = 0;
  };
  // Small, so the queue's sifting moves 32 bytes: a datagram's bytes wait in payloads_.
  struct Event {
    std::int64_t at;
    std::uint64_t seq;
    std::uint32_t node;
    std::uint32_t from;        // sender's index
    std::uint32_t generation;  // a delivery to a restarted node's old life is dropped
    std::uint32_t payload;     // index into payloads_, or kTick
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  static constexpr std::uint32_t kTick = UINT32_MAX;

  void boot(std::size_t i, bool keep_records);
  void schedule_tick(std::size_t i);
  void deliver(const Event& e);
  std::uint32_t store_payload(std::string bytes);
  std::string take_payload(std::uint32_t slot);
  void flush(std::size_t i);
  void collect_events(std::size_t i);
  /// When a stream frame sent now, due at `at` on a perfect path, reaches `to`.
  std::int64_t stream_arrival(std::size_t from, std::size_t to, std::int64_t at,
                              std::uniform_real_distribution<double>& coin);
  bool reachable(std::size_t a, std::size_t b) const;
  std::size_t index_of(const std::string& addr) const;
  void mix(std::uint64_t v);

  Config config_;
  NetworkModel network_;
  bool encrypt_;
  bool keep_events_ = false;
  std::mt19937_64 rng_;
  std::shared_ptr<Keyring> keys_;
  std::vector<Node> nodes_;
  std::vector<std::string> addrs_;  // "n<i>:7946", built once
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  std::vector<std::string> payloads_;      // bytes of the packets in flight
  std::vector<std::uint32_t> free_slots_;  // reusable indexes into payloads_
  std::uint64_t next_seq_ = 0;
  std::int64_t now_ = 0;
  std::map<std::size_t, std::size_t> group_;  // node -> partition group
  // from * N + to -> when the last stream frame on that connection arrives (kept in order)
  std::unordered_map<std::size_t, std::int64_t> stream_ready_;
  // (origin, version) -> node -> when it first held that record
  std::map<std::pair<std::string, std::uint64_t>, std::map<std::size_t, std::int64_t>> first_;
  std::map<std::size_t, std::map<std::size_t, std::int64_t>> deaths_;  // node -> observer -> t
  std::vector<std::tuple<std::size_t, std::size_t, std::int64_t>> false_deaths_;
  std::uint64_t trace_ = 1469598103934665603ULL;
};

}  // namespace metaopt::sim
