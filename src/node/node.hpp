// Node: the gossip engine on real sockets, driven by its own network thread.
//
// One UDP socket and one TCP listener share a port: datagrams carry probes, rumours and small
// records, TCP carries the engine's stream frames (anti-entropy; see tcp.hpp). One thread owns
// the sockets and runs an epoll loop over them, a timerfd armed to the engine's next deadline,
// and an eventfd that API calls write to wake it. Time is CLOCK_MONOTONIC in milliseconds since
// the Node was made, read whenever the engine is called, so a late tick is seen as the stall it
// is (the engine's observer grace depends on that).
//
// Threads: every public method is thread-safe. The engine sits behind one mutex; the network
// thread takes it for each batch of received packets and each tick, API calls take it briefly
// (a write, a snapshot) and then wake the thread to send what the engine queued. Nothing here
// touches Python: a caller that holds a lock of its own (the GIL) for seconds delays only
// itself, never the probes. Events go to a bounded queue with an eventfd (drain_events,
// event_fd). Exceptions never leave the network thread: they are counted in stats()["errors"]
// and each distinct message is written once to stderr (the engine has no warning event).
//
// Life: made (sockets bound, address known) -> start() -> stop(). restore() only before start;
// join, write and set_meta work before start (sent once it runs) and raise after stop; the
// snapshots (members, digest, get, stats) work always. A stopped Node does not start again.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/config.hpp"
#include "engine/engine.hpp"
#include "engine/keyring.hpp"
#include "node/address.hpp"
#include "node/counters.hpp"
#include "node/event_queue.hpp"
#include "node/poller.hpp"
#include "node/tcp.hpp"
#include "node/udp.hpp"

namespace metaopt {

struct NodeOptions {
  std::string bind_host = "127.0.0.1";     // a name or a numeric address; wildcards allowed
  std::uint16_t bind_port = 0;             // 0: an ephemeral port
  std::string advertise_host;              // where others reach us; empty: bind_host
  std::uint16_t advertise_port = 0;        // 0: the bound port
  int rcvbuf_bytes = 4 << 20;              // asked for the UDP socket; stats: what was granted
  std::int64_t connect_timeout_ms = 3000;  // frames to a peer not connected by then are dropped
  std::int64_t idle_timeout_ms = 120000;   // TCP connections quiet this long are closed
  std::size_t max_events = std::size_t{1} << 20;  // queued for drain_events; more are dropped
  std::int64_t leave_flush_ms = 200;              // a graceful stop sends for at most this long
};

/// Counters by name: the engine's, then the Node's (see counters.hpp), in a fixed order.
using NodeStats = std::vector<std::pair<std::string, std::uint64_t>>;

class Node {
 public:
  /// Binds the sockets and makes the engine; `identity.addr` is replaced by the advertised
  /// address. Throws std::invalid_argument for a bad option or identity (e.g. a wildcard bind
  /// without advertise_host) and std::runtime_error (or std::system_error) when a socket
  /// cannot be bound.
  Node(Config config, Identity identity, std::uint64_t seed, std::shared_ptr<const Keyring> keys,
       std::string label, NodeOptions options = {});
  /// stop(true).
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  /// Starts the network thread; does nothing when running. std::logic_error after stop.
  void start();
  /// Graceful: announce leaving, send for up to leave_flush_ms, close. Not graceful: close at
  /// once, as a crash would. Joins the thread; does nothing when already stopped.
  void stop(bool graceful = true);
  bool running() const;

  /// Contact these "host:port" addresses (resolved here, so names are fine) to join.
  void join(const std::vector<std::string>& addrs);
  /// The next record under our origin, queued for gossip.
  Record write(std::string key, std::string value, std::uint64_t hlc);
  /// Records persisted by an earlier life; before start only (std::logic_error otherwise).
  void restore(const std::vector<Record>& records);
  /// New metadata, announced with a fresh incarnation.
  void set_meta(std::string meta);

  /// Removes and returns up to `max` queued events, oldest first.
  std::vector<EngineEvent> drain_events(std::size_t max);
  /// Readable (non-blocking eventfd) while events are queued; drain_events resets it.
  int event_fd() const { return events_.fd(); }

  /// The member table, ourselves included.
  std::vector<Member> members() const;
  /// Milliseconds since this node was made: the clock of a member's since_ms and heard_ms.
  std::int64_t now_ms() const;
  Digest digest() const;
  std::optional<Record> get(const std::string& origin, const std::string& key) const;
  /// Every record held, of every origin: what a host that missed events (the queue was full)
  /// stores again to be whole.
  std::vector<Record> records() const;
  NodeStats stats() const;
  /// "host:port" as others reach us.
  const std::string& address() const { return address_; }
  const std::string& node_id() const { return node_id_; }

 private:
  enum class Phase { made, running, stopped };

  void run();
  void loop();
  /// What one wakeup read: datagrams and stream frames, handed to the engine in that order.
  struct Batch {
    std::vector<Inbound> datagrams;
    std::vector<Inbound> frames;
    void clear() {
      datagrams.clear();
      frames.clear();
    }
  };

  void dispatch(const epoll_event& ev, std::int64_t now, Batch& batch);
  void service(Batch& batch);
  void leave_and_flush();
  void transmit(std::vector<Outgoing>& out, std::int64_t now);
  void publish(std::vector<EngineEvent>&& events);
  void arm_timer(std::int64_t deadline_ms);
  void wake();
  void report(const std::string& what);
  template <typename F>
  void guarded(F&& f);
  void check_usable() const;  // under mu_

  // Fixed at construction.
  NodeOptions options_;
  std::string node_id_;
  std::string address_;
  int family_ = AF_INET;  // of our sockets; join resolves names to it
  std::int64_t start_ns_ = 0;
  NodeCounters counters_;
  EventQueue events_;
  Poller poller_;
  Fd wake_;
  Fd timer_;

  // The engine and the phase, shared: under mu_.
  mutable std::mutex mu_;
  std::unique_ptr<Engine> engine_;
  Phase phase_ = Phase::made;

  // Start and stop, serialised by lifecycle_mu_.
  std::mutex lifecycle_mu_;
  std::thread thread_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> graceful_{true};

  // The network thread's own (after start).
  std::unique_ptr<UdpChannel> udp_;
  std::unique_ptr<StreamPool> streams_;
  AddressBook book_;
  std::set<std::string> reported_;
};

}  // namespace metaopt
