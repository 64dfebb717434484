#include "engine/engine.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "engine/suspicion.hpp"

namespace metaopt {
namespace {

constexpr std::int64_t kMemberSyncMs = 30000;  // membership push-pull, scaled above 32 nodes
constexpr std::int64_t kSyncRetryMs = 5000;    // a sync with no answer may be asked again
constexpr std::int64_t kMemberReplyMs = 5000;  // at most one unsolicited member list this often

EngineEvent::Kind kind_of(MemberState s) {
  switch (s) {
    case MemberState::alive:
      return EngineEvent::Kind::member_alive;
    case MemberState::suspect:
      return EngineEvent::Kind::member_suspect;
    case MemberState::dead:
      return EngineEvent::Kind::member_dead;
    case MemberState::left:
      return EngineEvent::Kind::member_left;
  }
  return EngineEvent::Kind::member_alive;
}

Message as_message(const Member& m) {
  switch (m.state) {
    case MemberState::alive:
      return Alive{m.node, m.addr, m.incarnation, m.meta};
    case MemberState::suspect:
      return Suspect{m.node, m.incarnation, {}};
    case MemberState::dead:
    case MemberState::left:
      break;
  }
  return Dead{m.node, m.incarnation, m.state == MemberState::left ? m.node : std::string{}};
}

std::string encoded(const Message& m) {
  std::string out;
  encode_message(out, m);
  return out;
}

}  // namespace

Engine::Engine(Config config, Identity identity, std::uint64_t seed,
               std::shared_ptr<const Keyring> keys, std::string label, CryptoMode mode)
    : config_(config),
      self_(std::move(identity)),
      rng_(seed),
      keys_(std::move(keys)),
      sealer_(*keys_, label, self_.node, self_.generation, mode),
      opener_(*keys_, label, kDefaultMaxSenders, mode),
      members_(self_.node),
      store_(self_.node, self_.generation),
      member_rumors_(config_.rumor_queue_bytes),
      record_rumors_(config_.rumor_queue_bytes) {
  members_.apply_alive(Alive{self_.node, self_.addr, incarnation_, self_.meta}, 0);
}

void Engine::restore(const std::vector<Record>& persisted) { store_.restore(persisted); }

// ---- local operations ---------------------------------------------------------------------

void Engine::join(const std::vector<std::string>& addrs, std::int64_t now) {
  for (const auto& addr : addrs) {
    if (addr == self_.addr) continue;
    if (std::find(seeds_.begin(), seeds_.end(), addr) == seeds_.end()) seeds_.push_back(addr);
    request_sync(addr, true, now);
  }
}

void Engine::leave(std::int64_t now) {
  left_ = true;
  Dead bye{self_.node, incarnation_, self_.node};
  member_rumors_.push(self_.node, encoded(bye));
  for (const Member* peer : random_peers(config_.gossip_fanout, {}, false, now)) {
    send(peer->addr, {bye});
  }
}

void Engine::set_meta(std::string meta, std::int64_t now) {
  self_.meta = std::move(meta);
  ++incarnation_;
  if (auto m = members_.apply_alive(Alive{self_.node, self_.addr, incarnation_, self_.meta}, now)) {
    changed(*m, true);
  }
}

Record Engine::write(std::string key, std::string value, std::uint64_t hlc, std::int64_t now) {
  Record r = store_.write(std::move(key), std::move(value), hlc);
  gossip_record(r);
  const std::string frame = encoded(RecordMsg{r});
  for (const Member* peer : random_peers(config_.eager_push, {}, false, now)) {
    if (frame.size() <= config_.datagram_budget) {
      send(peer->addr, {RecordMsg{r}});
    } else {
      send_stream(peer->addr, RecordMsg{r});
    }
  }
  return r;
}

std::vector<Outgoing> Engine::take_outgoing() { return std::exchange(outgoing_, {}); }

std::vector<EngineEvent> Engine::take_events() { return std::exchange(events_, {}); }

// ---- time ---------------------------------------------------------------------------------

void Engine::tick(std::int64_t now) {
  if (last_tick_ < 0) stagger(now);
  check_stall(now);
  if (!left_) run_probe(now);
  expire_suspicions(now);
  expire_relays(now);
  if (now >= next_gossip_at_) {
    gossip(now);
    next_gossip_at_ = now + config_.gossip_interval_ms;
  }
  if (now >= next_sync_at_) {
    anti_entropy(now);
    next_sync_at_ = now + config_.anti_entropy_interval_ms;
  }
  if (now >= next_reconnect_at_) {
    reconnect(now);
    next_reconnect_at_ = now + config_.reconnect_interval_ms;
  }
  last_tick_ = now;
}

std::int64_t Engine::next_deadline() const {
  std::int64_t next = std::min({next_gossip_at_, next_sync_at_, next_reconnect_at_});
  if (probe_) {
    next = std::min(next, probe_->indirect_sent ? probe_->end_at : probe_->timeout_at);
  } else {
    next = std::min(next, next_probe_at_);
  }
  for (const auto& [node, s] : suspicions_) {
    next = std::min(next,
                    s.start + suspicion_timeout_ms(s.min_ms, s.max_ms, s.k, s.confirmers.size()));
  }
  for (const auto& [seq, relay] : relays_) next = std::min(next, relay.nack_at);
  return std::max(next, last_tick_ + 1);
}

void Engine::stagger(std::int64_t now) {
  // The first rounds start at a random point of their period (memberlist does the same), so
  // engines started together do not probe, gossip and sync in lockstep.
  auto within = [&](std::int64_t period) {
    std::uniform_int_distribution<std::int64_t> offset(0, std::max<std::int64_t>(period, 1) - 1);
    return now + offset(rng_);
  };
  next_probe_at_ = within(scaled(config_.probe_interval_ms));
  next_gossip_at_ = within(config_.gossip_interval_ms);
  next_sync_at_ = within(config_.anti_entropy_interval_ms);
}

void Engine::check_stall(std::int64_t now) {
  if (last_tick_ < 0 || now - last_tick_ <= config_.stall_threshold_ms) return;
  // We were not running: silence we "observed" meanwhile says nothing about the others.
  ++stats_.stalls;
  bump_health(2);
  probe_.reset();
  grace_until_ = now + config_.grace_ticks * scaled(config_.probe_interval_ms);
  next_probe_at_ = now;
  EngineEvent e;
  e.kind = EngineEvent::Kind::stalled;
  e.node = self_.node;
  events_.push_back(std::move(e));
}

void Engine::run_probe(std::int64_t now) {
  if (probe_ && !probe_->acked && !probe_->indirect_sent && now >= probe_->timeout_at) {
    // No direct ack: ask k others to try (they may have a path we lack).
    const auto helpers = random_peers(config_.indirect_checks, probe_->target, false, now);
    for (const Member* helper : helpers) {
      send(helper->addr, {PingReq{probe_->seq, probe_->target, probe_->addr, self_.addr}});
    }
    if (config_.tcp_fallback) {
      send_stream(probe_->addr, Ping{probe_->seq, probe_->target, self_.addr});
    }
    probe_->indirect_sent = true;
    probe_->nacks_expected = helpers.size();
  }
  if (probe_ && now >= probe_->end_at) finish_probe(now);
  if (!probe_ && now >= next_probe_at_) start_probe(now);
}

const Member* Engine::next_probe_target() {
  // A member we suspect but have not probed since goes first (with the buddy reminder on the
  // ping): if it refuted long ago and we missed that, its answer clears us before we convict.
  if (config_.lifeguard) {
    for (auto& [node, s] : suspicions_) {
      const Member* m = members_.find(node);
      if (!s.probed && m != nullptr && m->state == MemberState::suspect) {
        s.probed = true;
        return m;
      }
    }
  }
  if (probe_index_ >= probe_order_.size()) {
    // A fresh random order each pass: every member is probed once per pass (SWIM 4.3).
    probe_order_.clear();
    for (const Member* m : members_.live_peers()) probe_order_.push_back(m->node);
    std::shuffle(probe_order_.begin(), probe_order_.end(), rng_);
    probe_index_ = 0;
  }
  while (probe_index_ < probe_order_.size()) {
    const Member* target = members_.find(probe_order_[probe_index_++]);
    if (target != nullptr &&
        (target->state == MemberState::alive || target->state == MemberState::suspect)) {
      return target;
    }
  }
  return nullptr;
}

void Engine::start_probe(std::int64_t now) {
  next_probe_at_ = now + scaled(config_.probe_interval_ms);
  const Member* target = next_probe_target();
  if (target == nullptr) return;
  Probe p;
  p.target = target->node;
  p.addr = target->addr;
  p.seq = ++next_seq_;
  p.timeout_at = now + scaled(config_.probe_timeout_ms);
  p.end_at = now + scaled(config_.probe_interval_ms);
  std::vector<Message> messages{Ping{p.seq, p.target, self_.addr}};
  if (target->state == MemberState::suspect && config_.lifeguard) {
    // Buddy system: tell the suspect at once, so it can refute.
    messages.emplace_back(Suspect{target->node, target->incarnation, self_.node});
  }
  send(p.addr, messages);
  ++stats_.probes;
  probe_ = std::move(p);
}

void Engine::finish_probe(std::int64_t now) {
  Probe p = std::move(*probe_);
  probe_.reset();
  if (p.acked) {
    bump_health(-1);
    return;
  }
  ++stats_.probes_failed;
  // Relays that did not even send a nack: the problem may be on our side (Lifeguard).
  bump_health(1 + static_cast<int>(p.nacks_expected - std::min(p.nacks, p.nacks_expected)));
  if (now < grace_until_) return;
  suspect(p.target, now);
}

void Engine::suspect(const std::string& node, std::int64_t now) {
  const Member* m = members_.find(node);
  if (m == nullptr) return;
  if (m->state == MemberState::suspect) {
    // Already suspected by someone: our failed probe is an independent confirmation.
    auto s = suspicions_.find(node);
    if (s != suspicions_.end()) s->second.confirmers.insert(self_.node);
    broadcast_suspect(Suspect{node, m->incarnation, self_.node});
    return;
  }
  if (m->state != MemberState::alive) return;
  auto changed_member = members_.apply_suspect(Suspect{node, m->incarnation, self_.node}, now);
  if (!changed_member) return;
  ++stats_.suspicions;
  suspicions_[node] = new_suspicion(now);
  changed(*changed_member, false);
  broadcast_suspect(Suspect{node, changed_member->incarnation, self_.node});
}

Engine::Suspicion Engine::new_suspicion(std::int64_t now) const {
  Suspicion s;
  s.start = now;
  const std::size_t n = members_.live_count();
  s.min_ms = suspicion_min_ms(config_.suspicion_mult, n, config_.probe_interval_ms);
  s.max_ms = static_cast<std::int64_t>(config_.suspicion_max_mult * static_cast<double>(s.min_ms));
  // Fewer possible confirmers than K: do not wait for confirmations that cannot come.
  s.k = n > 2 ? std::min(config_.suspicion_confirmations, n - 2) : 0;
  if (!config_.lifeguard) s.k = 0;  // plain SWIM: a fixed timeout
  return s;
}

void Engine::broadcast_suspect(const Suspect& m) {
  // Like every update about a member, it replaces what was queued about that member: a stale
  // accusation must not crowd out the refutation that follows it (memberlist invalidation).
  member_rumors_.push(m.node, encoded(m));
}

void Engine::expire_suspicions(std::int64_t now) {
  if (now < grace_until_) return;
  std::vector<std::string> convicted;
  for (const auto& [node, s] : suspicions_) {
    if (now - s.start >= suspicion_timeout_ms(s.min_ms, s.max_ms, s.k, s.confirmers.size())) {
      convicted.push_back(node);
    }
  }
  for (const auto& node : convicted) {
    suspicions_.erase(node);
    const Member* m = members_.find(node);
    if (m == nullptr || m->state != MemberState::suspect) continue;
    if (auto dead = members_.apply_dead(Dead{node, m->incarnation, self_.node}, now)) {
      ++stats_.deaths;
      changed(*dead, true);
    }
  }
}

void Engine::expire_relays(std::int64_t now) {
  for (auto it = relays_.begin(); it != relays_.end();) {
    if (now >= it->second.nack_at) {
      send(it->second.requester_addr, {Nack{it->second.requester_seq}});
      it = relays_.erase(it);
    } else {
      ++it;
    }
  }
}

void Engine::gossip(std::int64_t now) {
  if (member_rumors_.empty() && record_rumors_.empty()) return;
  for (const Member* peer : random_peers(config_.gossip_fanout, {}, true, now)) {
    std::string payload = piggyback(config_.datagram_budget);
    if (payload.empty()) break;
    outgoing_.push_back({peer->addr, sealer_.seal(payload, Channel::datagram), false});
    ++stats_.datagrams_sent;
    stats_.bytes_sent += outgoing_.back().bytes.size();
  }
}

void Engine::anti_entropy(std::int64_t now) {
  // The partner is drawn from live and failed members alike: a failed member that answers is
  // a healed partition or a restarted node, found within seconds instead of at the next
  // reconnect round (and a truly dead one costs one unanswered request per exchange drawn).
  const auto& pool = members_.others();
  if (pool.empty()) return;
  std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 1);
  const Member* peer = pool[pick(rng_)];
  // Membership rides along now and then (scaled with the group, like memberlist's push-pull),
  // and always with a member we hold failed, so that both sides learn what to refute.
  bool with_members = peer->state == MemberState::dead;
  if (now >= next_member_sync_at_) {
    with_members = true;
    const double n = static_cast<double>(members_.live_count());
    const double scale = n > 32 ? std::ceil(std::log2(n) - std::log2(32.0)) + 1 : 1;
    next_member_sync_at_ = now + static_cast<std::int64_t>(kMemberSyncMs * scale);
  }
  request_sync(peer->addr, with_members, now);
}

void Engine::reconnect(std::int64_t now) {
  std::vector<const Member*> failed;
  for (const auto& [node, m] : members_.all()) {
    if (m.state == MemberState::dead) failed.push_back(&m);
  }
  members_.reap(now, config_.reap_dead_ms);
  const std::size_t live = members_.live_count();
  if (live <= 1 && !seeds_.empty()) {  // alone: go back to the seeds
    join(seeds_, now);
    return;
  }
  if (failed.empty()) return;
  // Serf: try one failed member with probability failed/live, so partitions heal by themselves.
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  if (coin(rng_) > static_cast<double>(failed.size()) / static_cast<double>(live)) return;
  std::uniform_int_distribution<std::size_t> pick(0, failed.size() - 1);
  request_sync(failed[pick(rng_)]->addr, true, now);
}

// ---- receiving ----------------------------------------------------------------------------

void Engine::receive(const std::string& from, std::string_view packet, std::int64_t now) {
  ++stats_.packets_received;
  stats_.bytes_received += packet.size();
  Opened opened;
  if (const OpenStatus status = opener_.open(packet, opened); status != OpenStatus::ok) {
    ++stats_.packets_rejected;
    note_rejected(from, status, now);
    return;
  }
  remind_suspect(from, opened.sender, now);
  bool malformed = false;
  std::vector<Message> messages = decode_messages(opened.plaintext, malformed);
  if (malformed) ++stats_.messages_malformed;
  for (Message& m : messages) handle(from, opened.channel, m, now);
  members_.heard(opened.sender, now);  // after handling: its first alive creates the member
}

void Engine::note_rejected(const std::string& from, OpenStatus status, std::int64_t now) {
  constexpr std::int64_t kRetellMs = 60000;
  const std::string key = from + "|" + to_string(status);
  if (std::int64_t* told = rejections_.touch(key)) {
    if (now - *told < kRetellMs) return;
    *told = now;
  } else {
    bool evicted = false;
    rejections_.insert(key, now, evicted);
  }
  EngineEvent e;
  e.kind = EngineEvent::Kind::rejected;
  e.node = to_string(status);
  e.addr = from;
  events_.push_back(std::move(e));
}

void Engine::handle(const std::string& from, Channel channel, Message& m, std::int64_t now) {
  if (auto* p = std::get_if<Ping>(&m)) return on_ping(from, channel, *p);
  if (auto* p = std::get_if<Ack>(&m)) return on_ack(channel, *p);
  if (auto* p = std::get_if<Nack>(&m)) {
    if (probe_ && probe_->seq == p->seq) ++probe_->nacks;
    return;
  }
  if (auto* p = std::get_if<PingReq>(&m)) return on_ping_req(from, *p, now);
  if (auto* p = std::get_if<Alive>(&m)) return on_alive(*p, now);
  if (auto* p = std::get_if<Suspect>(&m)) {
    correct_stale(from, p->node, p->incarnation);
    return on_suspect(*p, now);
  }
  if (auto* p = std::get_if<Dead>(&m)) {
    correct_stale(from, p->node, p->incarnation);
    return on_dead(*p, now);
  }
  if (auto* p = std::get_if<RecordMsg>(&m)) return on_record(p->record, now);
  if (auto* p = std::get_if<Rumor>(&m)) return on_rumor(from, *p, now);
  if (auto* p = std::get_if<SyncRequest>(&m)) return on_sync_request(from, *p, now);
  if (auto* p = std::get_if<SyncReply>(&m)) return on_sync_reply(from, *p, now);
  if (auto* p = std::get_if<SyncDeltas>(&m)) return on_sync_deltas(from, *p, now);
}

void Engine::remind_suspect(const std::string& from, const std::string& sender, std::int64_t now) {
  // A member we suspect just spoke to us: tell it (buddy system), so that if it refuted long ago
  // and we missed it, its answer clears our suspicion before our timer convicts it.
  const Member* m = members_.find(sender);
  if (!config_.lifeguard || m == nullptr || m->state != MemberState::suspect) return;
  std::int64_t& last = reminded_[sender];
  if (now - last < config_.probe_interval_ms) return;
  last = now;
  send(from, {Suspect{m->node, m->incarnation, self_.node}});
}

void Engine::correct_stale(const std::string& from, const std::string& node,
                           std::uint64_t incarnation) {
  // The sender accuses an incarnation already refuted: it missed the refutation, which gossip
  // no longer carries. Tell it directly, or it may convict a live member.
  const Member* m = members_.find(node);
  if (m == nullptr || m->state != MemberState::alive || m->incarnation <= incarnation) return;
  send(from, {Alive{m->node, m->addr, m->incarnation, m->meta}});
}

void Engine::on_ping(const std::string& from, Channel channel, const Ping& m) {
  if (m.target != self_.node || left_) return;  // a node now elsewhere: let the probe fail
  const std::string& to = m.source_addr.empty() ? from : m.source_addr;
  // A fallback ping came over the stream because datagrams may not get through: answer there.
  if (channel == Channel::stream) return send_stream(to, Ack{m.seq});
  send(to, {Ack{m.seq}});
}

void Engine::on_ack(Channel channel, const Ack& m) {
  if (probe_ && probe_->seq == m.seq) {
    if (!probe_->acked && channel == Channel::stream) ++stats_.fallback_acks;
    probe_->acked = true;
    return;
  }
  auto relay = relays_.find(m.seq);
  if (relay != relays_.end()) {
    send(relay->second.requester_addr, {Ack{relay->second.requester_seq}});
    relays_.erase(relay);
  }
}

void Engine::on_ping_req(const std::string& from, const PingReq& m, std::int64_t now) {
  const std::uint64_t seq = ++next_seq_;
  Relay relay;
  relay.requester_addr = m.source_addr.empty() ? from : m.source_addr;
  relay.requester_seq = m.seq;
  relay.nack_at = now + config_.probe_timeout_ms;
  relays_[seq] = std::move(relay);
  send(m.target_addr, {Ping{seq, m.target, self_.addr}});
}

void Engine::on_alive(const Alive& m, std::int64_t now) {
  if (m.node == self_.node) {
    // Someone spreads an older view of us: nothing to do unless it claims a newer incarnation.
    if (m.incarnation > incarnation_) refute(m.incarnation);
    return;
  }
  if (auto changed_member = members_.apply_alive(m, now)) {
    suspicions_.erase(m.node);
    reminded_.erase(m.node);
    changed(*changed_member, true);
  }
}

void Engine::on_suspect(const Suspect& m, std::int64_t now) {
  if (m.node == self_.node) {
    if (!left_ && m.incarnation >= incarnation_) refute(m.incarnation);
    return;
  }
  auto held = suspicions_.find(m.node);
  const Member* member = members_.find(m.node);
  if (held != suspicions_.end() && member != nullptr && member->incarnation == m.incarnation) {
    // An independent accuser shortens the timeout; pass the confirmation on.
    if (!m.from.empty() && m.from != self_.node && held->second.confirmers.insert(m.from).second) {
      broadcast_suspect(m);
    }
    return;
  }
  auto changed_member = members_.apply_suspect(m, now);
  if (!changed_member) return;
  broadcast_suspect(m);
  suspicions_[m.node] = new_suspicion(now);
  changed(*changed_member, false);
}

void Engine::on_dead(const Dead& m, std::int64_t now) {
  if (m.node == self_.node) {
    if (!left_ && m.incarnation >= incarnation_) refute(m.incarnation);
    return;
  }
  if (auto changed_member = members_.apply_dead(m, now)) {
    suspicions_.erase(m.node);
    changed(*changed_member, true);
  }
}

void Engine::refute(std::uint64_t accused_incarnation) {
  incarnation_ = std::max(incarnation_, accused_incarnation) + 1;
  ++stats_.refutations;
  bump_health(1);  // being suspected is evidence that our own messages are slow
  const Alive me{self_.node, self_.addr, incarnation_, self_.meta};
  members_.apply_alive(me, last_tick_);
  member_rumors_.push(self_.node, encoded(me));
}

void Engine::on_record(const Record& r, std::int64_t now) {
  (void)now;
  if (store_.apply(r) != Applied::applied) return;
  ++stats_.records_applied;
  gossip_record(r);
  EngineEvent e;
  e.kind = EngineEvent::Kind::record;
  e.node = r.origin;
  e.record = r;
  events_.push_back(std::move(e));
}

void Engine::on_rumor(const std::string& from, const Rumor& m, std::int64_t now) {
  if (m.origin == self_.node || store_.max_version(m.origin) >= m.version) return;
  const Member* sender = nullptr;
  for (const Member* peer : members_.live_peers()) {
    if (peer->addr == from) sender = peer;
  }
  request_sync(sender != nullptr ? sender->addr : from, false, now);
}

void Engine::on_sync_request(const std::string& from, const SyncRequest& m, std::int64_t now) {
  ++stats_.sync_exchanges;
  if (!m.members.empty()) apply_members(m.members, now);
  SyncReply reply;
  reply.source_addr = self_.addr;
  // Views that differ are settled by sending ours whole, at most every kMemberReplyMs: at a
  // thousand members some refutation is always in flight, and gossip settles most of them.
  const bool differ =
      m.members_hash != members_hash() && now - last_member_reply_ >= kMemberReplyMs;
  if (!m.members.empty() || differ) {
    reply.members = member_entries();
    last_member_reply_ = now;
  }
  reply.equal = m.digest_hash == digest_hash();
  if (!reply.equal) reply.digest = store_.digest();
  send_stream(m.source_addr.empty() ? from : m.source_addr, reply);
}

void Engine::on_sync_reply(const std::string& from, const SyncReply& m, std::int64_t now) {
  const std::string& peer = m.source_addr.empty() ? from : m.source_addr;
  sync_pending_.erase(peer);
  if (!m.members.empty()) apply_members(m.members, now);
  if (m.equal) return;
  // Send what the peer lacks, with our digest so it answers with what we lack.
  SyncDeltas out;
  out.source_addr = self_.addr;
  out.more = fill_deltas(m.digest, out.deltas);
  out.digest = store_.digest();
  out.want_reply = true;
  send_stream(peer, out);
}

void Engine::on_sync_deltas(const std::string& from, const SyncDeltas& m, std::int64_t now) {
  const std::string& peer = m.source_addr.empty() ? from : m.source_addr;
  apply_deltas(m.deltas, now);
  if (m.want_reply) {
    SyncDeltas out;
    out.source_addr = self_.addr;
    out.more = fill_deltas(m.digest, out.deltas);
    send_stream(peer, out);
  }
  if (m.more) {
    // A backlog larger than one exchange's budget (a joining or returning member): go on at
    // once rather than at the next anti-entropy round, so it drains at stream speed.
    ++stats_.sync_continued;
    sync_pending_.erase(peer);
    request_sync(peer, false, now);
  }
}

// ---- membership and records helpers ------------------------------------------------------

void Engine::changed(const Member& member, bool broadcast) {
  if (broadcast) member_rumors_.push(member.node, encoded(as_message(member)));
  if (member.node == self_.node) return;
  EngineEvent e;
  e.kind = kind_of(member.state);
  e.node = member.node;
  e.addr = member.addr;
  e.meta = member.meta;
  events_.push_back(std::move(e));
}

void Engine::apply_members(const std::vector<MemberEntry>& entries, std::int64_t now) {
  for (const MemberEntry& e : entries) {
    const bool accused = e.state == MemberState::suspect || e.state == MemberState::dead;
    if (e.node == self_.node) {
      // The other side of a healed partition holds us dead: refute, or we stay dead there.
      if (accused && !left_ && e.incarnation >= incarnation_) refute(e.incarnation);
      continue;
    }
    const Member* held = members_.find(e.node);
    if (accused && held != nullptr && held->state == MemberState::alive &&
        held->incarnation == e.incarnation) {
      // We hear from it, the peer holds it dead: only the member itself can settle that, by
      // refuting, so remind it (as the buddy system does for suspects).
      send(held->addr, {Suspect{e.node, e.incarnation, self_.node}});
    }
    // Otherwise a remote entry is news about a member, never an accusation of ours: memberlist
    // treats a remote dead as at most a suspicion; we let our own probes decide.
    on_alive(Alive{e.node, e.addr, e.incarnation, e.meta}, now);
    if (e.state == MemberState::left) on_dead(Dead{e.node, e.incarnation, e.node}, now);
  }
}

std::vector<MemberEntry> Engine::member_entries() const {
  std::vector<MemberEntry> out;
  for (const auto& [node, m] : members_.all()) {
    out.push_back({m.node, m.addr, m.incarnation, m.state, m.meta});
  }
  return out;
}

void Engine::gossip_record(const Record& r) {
  const std::string whole = encoded(RecordMsg{r});
  const std::string subject = r.origin + '\0' + r.key;
  // Small records travel whole; a large one travels as a rumour that makes receivers pull it.
  if (whole.size() <= config_.datagram_budget / 2) {
    record_rumors_.push(subject, whole);
  } else {
    record_rumors_.push(subject, encoded(Rumor{r.origin, r.version}));
  }
}

void Engine::apply_deltas(const std::vector<OriginRecords>& deltas, std::int64_t now) {
  (void)now;
  Deltas in;
  in.reserve(deltas.size());
  for (const auto& d : deltas) in.push_back(OriginDelta{d.origin, d.records, d.covered_up_to});
  for (Record& r : store_.apply_deltas(in)) {
    ++stats_.records_applied;
    EngineEvent e;
    e.kind = EngineEvent::Kind::record;
    e.node = r.origin;
    e.record = std::move(r);
    events_.push_back(std::move(e));
  }
}

bool Engine::fill_deltas(const WireDigest& peer, std::vector<OriginRecords>& out) const {
  out = deltas_for(peer);
  // More is owed when some origin we are ahead on was left out, or cut short, by the budget.
  std::map<std::string, std::uint64_t> covered;
  for (const auto& d : out) covered[d.origin] = std::max(covered[d.origin], d.covered_up_to);
  for (const auto& [origin, ours] : store_.digest()) {
    auto theirs = peer.find(origin);
    const std::uint64_t have = theirs == peer.end() ? 0 : theirs->second;
    if (ours > have && covered[origin] < ours) return true;
  }
  return false;
}

std::vector<OriginRecords> Engine::deltas_for(const WireDigest& peer) const {
  std::vector<OriginRecords> out;
  for (auto& d : store_.deltas_for(peer, config_.anti_entropy_budget)) {
    out.push_back(OriginRecords{std::move(d.origin), std::move(d.records), d.covered_up_to});
  }
  // Records we hold above our own watermark (pushed to us, e.g. the first record of a new
  // generation) cannot be vouched for, but they are real: pass them on as plain pushes
  // (covered_up_to 0 raises nothing), or a member that missed the gossip waits for the
  // watermark to creep through anti-entropy hop by hop.
  for (const std::string& origin : store_.origins()) {
    const std::uint64_t wm = store_.watermark(origin);
    auto known = peer.find(origin);
    const std::uint64_t floor = std::max(wm, known == peer.end() ? 0 : known->second);
    if (store_.max_version(origin) <= floor) continue;
    OriginRecords extra{origin, {}, 0};
    for (Record& r : store_.records_of(origin)) {
      if (r.version > floor) extra.records.push_back(std::move(r));
    }
    if (!extra.records.empty()) out.push_back(std::move(extra));
  }
  return out;
}

std::uint64_t Engine::digest_hash() const {
  // FNV-1a over (origin, watermark, highest version held) in origin order. The highest version
  // is there so that two members with equal watermarks still talk when one holds records above
  // its watermark (a fresh generation's first records) that the other lacks.
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xFF;
      h *= 1099511628211ULL;
    }
  };
  for (const std::string& origin : store_.origins()) {
    for (char c : origin) mix(static_cast<unsigned char>(c));
    mix(store_.watermark(origin));
    mix(store_.max_version(origin));
  }
  return h;
}

std::uint64_t Engine::members_hash() const {
  // Suspicion is left out of it: transient, local and settled by SWIM itself, and at a thousand
  // members with some loss there is always one somewhere.
  return members_.view_hash();
}

void Engine::request_sync(const std::string& addr, bool with_members, std::int64_t now) {
  auto pending = sync_pending_.find(addr);
  if (pending != sync_pending_.end() && now - pending->second < kSyncRetryMs) return;
  sync_pending_[addr] = now;
  SyncRequest req;
  req.source_addr = self_.addr;
  req.digest_hash = digest_hash();
  req.members_hash = members_hash();
  if (with_members) req.members = member_entries();
  send_stream(addr, req);
}

// ---- sending ------------------------------------------------------------------------------

void Engine::send(const std::string& to, const std::vector<Message>& messages) {
  std::string payload;
  for (const Message& m : messages) encode_message(payload, m);
  if (payload.size() < config_.datagram_budget) {
    payload += piggyback(config_.datagram_budget - payload.size());
  }
  outgoing_.push_back({to, sealer_.seal(payload, Channel::datagram), false});
  ++stats_.datagrams_sent;
  stats_.bytes_sent += outgoing_.back().bytes.size();
}

void Engine::send_stream(const std::string& to, const Message& message) {
  outgoing_.push_back({to, sealer_.seal(encoded(message), Channel::stream), true});
  ++stats_.frames_sent;
  stats_.bytes_sent += outgoing_.back().bytes.size();
}

std::string Engine::piggyback(std::size_t budget) {
  // Membership first, within half the room; records next; membership again with what is left.
  std::string out;
  const std::size_t limit = retransmits();
  std::size_t used = member_rumors_.fill(out, budget / 2, limit);
  used += record_rumors_.fill(out, budget - used, limit);
  member_rumors_.fill(out, budget - used, limit);
  return out;
}

std::vector<const Member*> Engine::random_peers(std::size_t n, const std::string& exclude,
                                                bool include_recent_dead, std::int64_t now) {
  const auto& pool = include_recent_dead ? members_.others() : members_.live_peers();
  auto eligible = [&](const Member* m) {
    if (m->node == exclude) return false;
    if (m->state == MemberState::alive || m->state == MemberState::suspect) return true;
    return include_recent_dead && m->state == MemberState::dead &&
           now - m->since_ms < config_.gossip_to_dead_ms;
  };
  std::vector<const Member*> out;
  if (pool.empty() || n == 0) return out;
  // Rejection sampling from our seed: O(n) per call on the hot path instead of O(members).
  std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 1);
  for (std::size_t tries = 0; out.size() < n && tries < 8 * n + 8; ++tries) {
    const Member* m = pool[pick(rng_)];
    if (eligible(m) && std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
  }
  if (out.size() < n) {  // few eligible members: finish with a scan, still in seeded order
    std::vector<const Member*> rest;
    for (const Member* m : pool) {
      if (eligible(m) && std::find(out.begin(), out.end(), m) == out.end()) rest.push_back(m);
    }
    std::shuffle(rest.begin(), rest.end(), rng_);
    for (std::size_t i = 0; i < rest.size() && out.size() < n; ++i) out.push_back(rest[i]);
  }
  return out;
}

std::size_t Engine::retransmits() const {
  return retransmit_limit(config_.retransmit_mult, members_.live_count());
}

void Engine::bump_health(int delta) {
  if (!config_.lifeguard) return;
  health_ = std::clamp(health_ + delta, 0, config_.max_health - 1);
}

}  // namespace metaopt
