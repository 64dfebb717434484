#include "sim/simulation.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace metaopt::sim {
namespace {

constexpr std::uint16_t kPort = 7946;
constexpr std::int64_t kMinRtoMs = 200;
constexpr std::int64_t kMaxRtoMs = 120000;

std::string addr_of(std::size_t i) {
  return Simulation::node_name(i) + ":" + std::to_string(kPort);
}

}  // namespace

std::string Simulation::node_name(std::size_t i) { return "n" + std::to_string(i); }

Simulation::Simulation(std::size_t nodes, std::uint64_t seed, Config config, NetworkModel network,
                       bool encrypt)
    : config_(config),
      network_(network),
      encrypt_(encrypt),
      rng_(seed),
      keys_(std::make_shared<Keyring>()),
      nodes_(nodes) {
  for (std::size_t i = 0; i < nodes; ++i) addrs_.push_back(addr_of(i));
  keys_->add(1, std::string(32, 'k'));
  keys_->use(1);
  for (std::size_t i = 0; i < nodes; ++i) boot(i, false);
}

void Simulation::boot(std::size_t i, bool keep_records) {
  Node& n = nodes_[i];
  Identity id{node_name(i), addr_of(i), n.generation, {}};
  const std::uint64_t seed = rng_();
  n.engine =
      std::make_unique<Engine>(config_, id, seed, keys_, "sim",
                               encrypt_ ? CryptoMode::aes_256_gcm : CryptoMode::null_simulator);
  if (keep_records) {
    n.engine->restore(n.disk);
  } else {
    n.disk.clear();
  }
  n.up = true;
  n.tick_at = -1;
  schedule_tick(i);
}

void Simulation::join_all() {
  for (std::size_t i = 1; i < nodes_.size(); ++i) {
    nodes_[i].engine->join({addr_of(0)}, now_);
    flush(i);
  }
}

Record Simulation::write(std::size_t i, const std::string& key, const std::string& value,
                         std::optional<std::uint64_t> hlc) {
  Node& n = nodes_.at(i);
  if (!n.up) throw std::invalid_argument("node " + std::to_string(i) + " is down");
  Record r = n.engine->write(key, value, hlc.value_or(static_cast<std::uint64_t>(now_) << 16), now_);
  n.disk.push_back(r);
  first_[{r.origin, r.version}][i] = now_;
  flush(i);
  return r;
}

void Simulation::crash(std::size_t i) {
  nodes_.at(i).up = false;
  nodes_[i].outbox.clear();  // they were in the dead process's memory
  mix(0xC0 + i);
}

std::vector<EngineEvent> Simulation::drain_events(std::size_t i) {
  return std::exchange(nodes_.at(i).outbox, {});
}

void Simulation::restart_from(std::size_t i, std::vector<Record> persisted) {
  Node& n = nodes_.at(i);
  n.disk = std::move(persisted);
  n.outbox.clear();
  ++n.generation;
  boot(i, true);
  n.engine->join({addr_of(i == 0 ? 1 : 0)}, now_);
  flush(i);
}

void Simulation::restart(std::size_t i, bool keep_records) {
  ++nodes_.at(i).generation;
  boot(i, keep_records);
  nodes_[i].engine->join({addr_of(i == 0 ? 1 : 0)}, now_);
  flush(i);
}

void Simulation::pause(std::size_t i, std::int64_t ms) { nodes_.at(i).paused_until = now_ + ms; }

void Simulation::set_slow(std::size_t i, std::int64_t extra_ms) { nodes_.at(i).slow_ms = extra_ms; }

void Simulation::partition(const std::vector<std::vector<std::size_t>>& groups) {
  group_.clear();
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (std::size_t node : groups[g]) group_[node] = g;
  }
}

bool Simulation::reachable(std::size_t a, std::size_t b) const {
  if (group_.empty()) return true;
  auto ga = group_.find(a);
  auto gb = group_.find(b);
  const std::size_t na = ga == group_.end() ? SIZE_MAX : ga->second;
  const std::size_t nb = gb == group_.end() ? SIZE_MAX : gb->second;
  return na == nb;
}

std::size_t Simulation::index_of(const std::string& addr) const {
  // "n<i>:<port>": the simulator's own naming, parsed without allocation-heavy lookups.
  std::size_t i = 0;
  for (std::size_t p = 1; p < addr.size() && addr[p] != ':'; ++p) {
    if (addr[p] < '0' || addr[p] > '9') return SIZE_MAX;
    i = i * 10 + static_cast<std::size_t>(addr[p] - '0');
  }
  return i < nodes_.size() ? i : SIZE_MAX;
}

void Simulation::schedule_tick(std::size_t i) {
  Node& n = nodes_[i];
  if (!n.up) return;
  const std::int64_t at = std::max(n.engine->next_deadline(), now_);
  if (n.tick_at >= 0 && n.tick_at <= at) return;
  n.tick_at = at;
  queue_.push(Event{at, next_seq_++, static_cast<std::uint32_t>(i), 0, n.generation, kTick});
}

void Simulation::run_until(std::int64_t until_ms) {
  while (!queue_.empty() && queue_.top().at <= until_ms) {
    const Event e = queue_.top();
    queue_.pop();
    now_ = e.at;
    deliver(e);
  }
  now_ = std::max(now_, until_ms);
}

void Simulation::deliver(const Event& e) {
  Node& n = nodes_[e.node];
  const bool tick = e.payload == kTick;
  // Dropped: for a node down or restarted since, or a tick superseded by an earlier one.
  if (!n.up || e.generation != n.generation || (tick && n.tick_at != e.at)) {
    if (!tick) take_payload(e.payload);
    return;
  }
  if (now_ < n.paused_until) {  // a stopped process: everything waits until it runs again
    Event later = e;
    later.at = n.paused_until;
    later.seq = next_seq_++;
    if (tick) n.tick_at = later.at;
    queue_.push(later);
    return;
  }
  mix(static_cast<std::uint64_t>(e.at));
  mix(e.node);
  if (tick) {
    n.tick_at = -1;
    n.engine->tick(now_);
  } else {
    const std::string bytes = take_payload(e.payload);
    mix(bytes.size());
    n.engine->receive(addrs_[e.from], bytes, now_);
  }
  collect_events(e.node);
  flush(e.node);
}

std::uint32_t Simulation::store_payload(std::string bytes) {
  if (free_slots_.empty()) {
    payloads_.push_back(std::move(bytes));
    return static_cast<std::uint32_t>(payloads_.size() - 1);
  }
  const std::uint32_t slot = free_slots_.back();
  free_slots_.pop_back();
  payloads_[slot] = std::move(bytes);
  return slot;
}

std::string Simulation::take_payload(std::uint32_t slot) {
  free_slots_.push_back(slot);
  return std::move(payloads_[slot]);
}

void Simulation::flush(std::size_t i) {
  Node& n = nodes_[i];
  for (Outgoing& out : n.engine->take_outgoing()) {
    n.bytes_sent += out.bytes.size();
    const std::size_t dest = index_of(out.to);
    if (dest == SIZE_MAX || !reachable(i, dest)) continue;
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    if (!out.stream && coin(rng_) < network_.loss) continue;
    std::uniform_int_distribution<std::int64_t> latency(network_.latency_min_ms,
                                                        network_.latency_max_ms);
    std::int64_t at = now_ + latency(rng_) + nodes_[dest].slow_ms;
    if (out.stream) at = stream_arrival(i, dest, at, coin);
    queue_.push(Event{at, next_seq_++, static_cast<std::uint32_t>(dest),
                      static_cast<std::uint32_t>(i), nodes_[dest].generation,
                      store_payload(std::move(out.bytes))});
  }
  schedule_tick(i);
}

std::int64_t Simulation::stream_arrival(std::size_t from, std::size_t to, std::int64_t at,
                                        std::uniform_real_distribution<double>& coin) {
  // TCP on a lossy path: a lost frame waits for the retransmission timeout (Linux: 200 ms at
  // least, doubling each time), and a connection delivers in order, so a frame never passes
  // the one before it. One loss draw per frame models small frames; big ones would lose more.
  for (std::int64_t rto = kMinRtoMs; rto <= kMaxRtoMs && coin(rng_) < network_.loss; rto *= 2) {
    at += rto;
  }
  if (stream_ready_.size() > 4 * nodes_.size()) {
    for (auto it = stream_ready_.begin(); it != stream_ready_.end();) {
      it = it->second <= now_ ? stream_ready_.erase(it) : std::next(it);
    }
  }
  std::int64_t& ready = stream_ready_[from * nodes_.size() + to];
  ready = std::max(at, ready);
  return ready;
}

void Simulation::collect_events(std::size_t i) {
  Node& n = nodes_[i];
  for (EngineEvent& e : n.engine->take_events()) {
    if (keep_events_) n.outbox.push_back(e);
    if (e.kind == EngineEvent::Kind::record) {
      auto& when = first_[{e.record.origin, e.record.version}];
      when.emplace(i, now_);
      n.disk.push_back(std::move(e.record));
    } else if (e.kind == EngineEvent::Kind::member_dead ||
               e.kind == EngineEvent::Kind::member_left) {
      const std::size_t about = index_of(e.node + ":");
      if (about == SIZE_MAX) continue;
      deaths_[about].emplace(i, now_);
      if (nodes_[about].up && e.kind == EngineEvent::Kind::member_dead) {
        false_deaths_.emplace_back(i, about, now_);
      }
    } else if (e.kind == EngineEvent::Kind::member_alive) {
      const std::size_t about = index_of(e.node + ":");
      if (about != SIZE_MAX) deaths_[about].erase(i);
    }
  }
}

std::size_t Simulation::holders(const Record& r) const {
  std::size_t count = 0;
  for (const Node& n : nodes_) {
    if (!n.up) continue;
    auto held = n.engine->store().get(r.origin, r.key);
    if (held && held->version >= r.version) ++count;
  }
  return count;
}

std::int64_t Simulation::first_held(const Record& r, std::size_t j) const {
  auto it = first_.find({r.origin, r.version});
  if (it == first_.end()) return -1;
  auto when = it->second.find(j);
  return when == it->second.end() ? -1 : when->second;
}

std::string Simulation::state_of(std::size_t observer, std::size_t node) const {
  const Member* m = nodes_.at(observer).engine->membership().find(node_name(node));
  return m == nullptr ? "unknown" : to_string(m->state);
}

std::uint64_t Simulation::incarnation_of(std::size_t observer, std::size_t node) const {
  const Member* m = nodes_.at(observer).engine->membership().find(node_name(node));
  return m == nullptr ? 0 : m->incarnation;
}

std::vector<std::int64_t> Simulation::death_times(std::size_t node) const {
  std::vector<std::int64_t> out(nodes_.size(), -1);
  auto it = deaths_.find(node);
  if (it == deaths_.end()) return out;
  for (const auto& [observer, t] : it->second) out[observer] = t;
  return out;
}

NodeReport Simulation::report(std::size_t i) const {
  const Node& n = nodes_.at(i);
  return NodeReport{node_name(i), n.up, n.bytes_sent, n.engine->stats(), n.engine->health()};
}

void Simulation::mix(std::uint64_t v) {
  for (int b = 0; b < 8; ++b) {
    trace_ ^= (v >> (8 * b)) & 0xFF;
    trace_ *= 1099511628211ULL;
  }
}

}  // namespace metaopt::sim
