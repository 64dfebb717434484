// Engine: one node of the gossip protocol as a deterministic state machine (sans-IO).
//
// Bytes in (`receive`), time in (`tick`), local writes in (`write`); datagrams, stream frames and
// events out (`take_outgoing`, `take_events`). It opens no socket, reads no clock, starts no
// thread and draws randomness only from its seed, so the same inputs always give the same
// outputs: the Node drives it on real sockets, the Simulation drives a thousand of them in
// virtual time.
//
// Protocol: SWIM membership (round-robin probes, k indirect probes, suspicion with incarnation
// refutation) with Lifeguard (local health scaling the probe period, nacks, suspicion timeouts
// that shrink with independent confirmations, the buddy system) and observer grace (a tick that
// comes late means this node stalled: it does not turn its own stall into accusations).
// Records: single writer per origin (store.hpp); a fresh local record is pushed to a few members
// at once and gossiped on datagrams (records small enough ride whole, larger ones as rumours
// that make receivers pull); Scuttlebutt anti-entropy over the stream channel repairs whatever
// gossip missed and brings joining or returning members up to date.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/config.hpp"
#include "engine/crypto.hpp"
#include "engine/lru_map.hpp"
#include "engine/membership.hpp"
#include "engine/messages.hpp"
#include "engine/rumors.hpp"
#include "engine/store.hpp"

namespace metaopt {

/// Bytes to send: a datagram, or a frame on the reliable stream channel to `to`.
struct Outgoing {
  std::string to;  // "host:port"
  std::string bytes;
  bool stream = false;
};

struct EngineEvent {
  enum class Kind : std::uint8_t {
    member_alive = 0,
    member_suspect = 1,
    member_dead = 2,
    member_left = 3,
    record = 4,    // a record from another origin was applied
    stalled = 5,   // this engine noticed a gap in its own ticks
    rejected = 6,  // packets from `addr` were dropped, `node` says why (OpenStatus name); at
                   // most once a minute per address and reason
  };
  Kind kind = Kind::member_alive;
  std::string node;
  std::string addr;
  std::string meta;
  Record record;
};

struct EngineStats {
  std::uint64_t datagrams_sent = 0;
  std::uint64_t frames_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t packets_received = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t packets_rejected = 0;  // failed to open: forged, replayed, wrong key, damaged
  std::uint64_t messages_malformed = 0;
  std::uint64_t probes = 0;
  std::uint64_t probes_failed = 0;
  std::uint64_t fallback_acks = 0;  // probes answered only over the stream: UDP may be broken
  std::uint64_t suspicions = 0;     // raised by this node
  std::uint64_t deaths = 0;         // declared by this node's own suspicion timers
  std::uint64_t refutations = 0;
  std::uint64_t stalls = 0;
  std::uint64_t records_applied = 0;
  std::uint64_t sync_exchanges = 0;
  std::uint64_t sync_continued = 0;  // exchanges resumed at once because a budget cut them
  std::uint64_t rumors_dropped = 0;  // queued rumours dropped to bound memory (AE covers them)
};

struct Identity {
  std::string node;              // unique, stable across restarts
  std::string addr;              // where others reach it
  std::uint32_t generation = 1;  // grows at every start (persisted by the host)
  std::string meta;              // opaque, e.g. slots and load
};

class Engine {
 public:
  Engine(Config config, Identity identity, std::uint64_t seed, std::shared_ptr<const Keyring> keys,
         std::string label, CryptoMode mode = CryptoMode::aes_256_gcm);

  /// Records the host persisted, before anything else; see Store::restore.
  void restore(const std::vector<Record>& persisted);
  /// Contact these addresses (seeds, or members found by discovery) to join.
  void join(const std::vector<std::string>& addrs, std::int64_t now);
  /// Tell everyone this node leaves; they mark it left instead of dead.
  void leave(std::int64_t now);
  /// New metadata for this node, announced with a fresh incarnation.
  void set_meta(std::string meta, std::int64_t now);
  /// A local write: the next record under this node's origin, already queued for gossip.
  Record write(std::string key, std::string value, std::uint64_t hlc, std::int64_t now);

  void receive(const std::string& from, std::string_view packet, std::int64_t now);
  void tick(std::int64_t now);
  /// When `tick` has work to do next.
  std::int64_t next_deadline() const;

  std::vector<Outgoing> take_outgoing();
  std::vector<EngineEvent> take_events();

  const Identity& identity() const { return self_; }
  const Membership& membership() const { return members_; }
  const Store& store() const { return store_; }
  /// Packets opened, by status: why the rejected ones were dropped.
  const Opener::Counters& open_counters() const { return opener_.counters(); }
  EngineStats stats() const {
    EngineStats s = stats_;
    s.rumors_dropped = member_rumors_.dropped() + record_rumors_.dropped();
    return s;
  }
  int health() const { return health_; }
  std::uint64_t incarnation() const { return incarnation_; }

 private:
  struct Probe {
    std::string target;
    std::string addr;
    std::uint64_t seq = 0;
    std::int64_t timeout_at = 0;
    std::int64_t end_at = 0;
    bool acked = false;
    bool indirect_sent = false;
    std::size_t nacks_expected = 0;
    std::size_t nacks = 0;
  };
  struct Relay {
    std::string requester_addr;
    std::uint64_t requester_seq = 0;
    std::int64_t nack_at = 0;
  };
  struct Suspicion {
    std::int64_t start = 0;
    std::int64_t min_ms = 0;
    std::int64_t max_ms = 0;
    std::size_t k = 0;
    std::set<std::string> confirmers;
    bool probed = false;  // we probed the suspect ourselves since suspecting it
  };

  // time-driven work
  void stagger(std::int64_t now);
  void check_stall(std::int64_t now);
  void run_probe(std::int64_t now);
  void start_probe(std::int64_t now);
  const Member* next_probe_target();
  void finish_probe(std::int64_t now);
  void expire_suspicions(std::int64_t now);
  void expire_relays(std::int64_t now);
  void gossip(std::int64_t now);
  void anti_entropy(std::int64_t now);
  void reconnect(std::int64_t now);

  // message handling
  void handle(const std::string& from, Channel channel, Message& m, std::int64_t now);
  /// Tells the host (an event) that packets from `from` are dropped, now and then.
  void note_rejected(const std::string& from, OpenStatus status, std::int64_t now);
  void remind_suspect(const std::string& from, const std::string& sender, std::int64_t now);
  void correct_stale(const std::string& from, const std::string& node, std::uint64_t incarnation);
  void on_ping(const std::string& from, Channel channel, const Ping& m);
  void on_ack(Channel channel, const Ack& m);
  void on_ping_req(const std::string& from, const PingReq& m, std::int64_t now);
  void on_alive(const Alive& m, std::int64_t now);
  void on_suspect(const Suspect& m, std::int64_t now);
  void on_dead(const Dead& m, std::int64_t now);
  void on_record(const Record& r, std::int64_t now);
  void on_rumor(const std::string& from, const Rumor& m, std::int64_t now);
  void on_sync_request(const std::string& from, const SyncRequest& m, std::int64_t now);
  void on_sync_reply(const std::string& from, const SyncReply& m, std::int64_t now);
  void on_sync_deltas(const std::string& from, const SyncDeltas& m, std::int64_t now);

  // membership changes
  void changed(const Member& member, bool broadcast);
  void suspect(const std::string& node, std::int64_t now);
  void broadcast_suspect(const Suspect& m);
  Suspicion new_suspicion(std::int64_t now) const;
  void refute(std::uint64_t accused_incarnation);
  void apply_members(const std::vector<MemberEntry>& entries, std::int64_t now);
  std::vector<MemberEntry> member_entries() const;

  // records
  void gossip_record(const Record& r);
  void apply_deltas(const std::vector<OriginRecords>& deltas, std::int64_t now);
  std::vector<OriginRecords> deltas_for(const WireDigest& peer) const;
  /// Fills `out` with what the peer lacks; true when the budget left some of it for later.
  bool fill_deltas(const WireDigest& peer, std::vector<OriginRecords>& out) const;
  std::uint64_t digest_hash() const;
  std::uint64_t members_hash() const;
  void request_sync(const std::string& addr, bool with_members, std::int64_t now);

  // sending
  void send(const std::string& to, const std::vector<Message>& messages);
  void send_stream(const std::string& to, const Message& message);
  std::string piggyback(std::size_t budget);
  std::vector<const Member*> random_peers(std::size_t n, const std::string& exclude,
                                          bool include_recent_dead, std::int64_t now);
  std::size_t retransmits() const;
  std::int64_t scaled(std::int64_t ms) const { return ms * (health_ + 1); }
  void bump_health(int delta);

  Config config_;
  Identity self_;
  std::mt19937_64 rng_;
  std::shared_ptr<const Keyring> keys_;
  Sealer sealer_;
  Opener opener_;
  Membership members_;
  Store store_;
  RumorQueue member_rumors_;
  RumorQueue record_rumors_;

  std::uint64_t incarnation_ = 0;
  int health_ = 0;
  std::uint64_t next_seq_ = 0;
  std::optional<Probe> probe_;
  std::vector<std::string> probe_order_;
  std::size_t probe_index_ = 0;
  std::map<std::uint64_t, Relay> relays_;
  std::map<std::string, Suspicion> suspicions_;
  std::map<std::string, std::int64_t> reminded_;      // suspect -> when we last told it
  std::map<std::string, std::int64_t> sync_pending_;  // addr -> when requested
  std::vector<std::string> seeds_;

  std::int64_t last_tick_ = -1;
  std::int64_t grace_until_ = 0;
  std::int64_t next_probe_at_ = 0;
  std::int64_t next_gossip_at_ = 0;
  std::int64_t next_sync_at_ = 0;
  std::int64_t next_member_sync_at_ = 0;
  std::int64_t next_reconnect_at_ = 0;
  std::int64_t last_member_reply_ = -1000000;
  bool left_ = false;

  std::vector<Outgoing> outgoing_;
  std::vector<EngineEvent> events_;
  LruMap<std::int64_t> rejections_{256};  // "addr|reason" -> when last told, for `rejected`
  EngineStats stats_;
};

}  // namespace metaopt
