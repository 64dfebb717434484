#include "engine/messages.hpp"

#include <type_traits>
#include <utility>

#include "engine/varint.hpp"

namespace metaopt {
namespace {

// ---- writing ----------------------------------------------------------------------------

void put_str(std::string& out, std::string_view s) {
  append_varint(out, s.size());
  out.append(s);
}

void put_record(std::string& out, const Record& r) { put_str(out, encode_record(r)); }

void put_member(std::string& out, const MemberEntry& m) {
  put_str(out, m.node);
  put_str(out, m.addr);
  append_varint(out, m.incarnation);
  out.push_back(static_cast<char>(m.state));
  put_str(out, m.meta);
}

void put_digest(std::string& out, const WireDigest& d) {
  append_varint(out, d.size());
  for (const auto& [origin, version] : d) {
    put_str(out, origin);
    append_varint(out, version);
  }
}

void put_deltas(std::string& out, const std::vector<OriginRecords>& deltas) {
  append_varint(out, deltas.size());
  for (const auto& d : deltas) {
    put_str(out, d.origin);
    append_varint(out, d.covered_up_to);
    append_varint(out, d.records.size());
    for (const auto& r : d.records) put_record(out, r);
  }
}

void put_members(std::string& out, const std::vector<MemberEntry>& members) {
  append_varint(out, members.size());
  for (const auto& m : members) put_member(out, m);
}

void put_body(std::string& out, const Ping& m) {
  append_varint(out, m.seq);
  put_str(out, m.target);
  put_str(out, m.source_addr);
}
void put_body(std::string& out, const Ack& m) { append_varint(out, m.seq); }
void put_body(std::string& out, const Nack& m) { append_varint(out, m.seq); }
void put_body(std::string& out, const PingReq& m) {
  append_varint(out, m.seq);
  put_str(out, m.target);
  put_str(out, m.target_addr);
  put_str(out, m.source_addr);
}
void put_body(std::string& out, const Alive& m) {
  put_str(out, m.node);
  put_str(out, m.addr);
  append_varint(out, m.incarnation);
  put_str(out, m.meta);
}
void put_body(std::string& out, const Suspect& m) {
  put_str(out, m.node);
  append_varint(out, m.incarnation);
  put_str(out, m.from);
}
void put_body(std::string& out, const Dead& m) {
  put_str(out, m.node);
  append_varint(out, m.incarnation);
  put_str(out, m.from);
}
void put_body(std::string& out, const RecordMsg& m) { put_record(out, m.record); }
void put_body(std::string& out, const Rumor& m) {
  put_str(out, m.origin);
  append_varint(out, m.version);
}
void put_body(std::string& out, const SyncRequest& m) {
  put_str(out, m.source_addr);
  append_varint(out, m.digest_hash);
  append_varint(out, m.members_hash);
  put_members(out, m.members);
}
void put_body(std::string& out, const SyncReply& m) {
  put_str(out, m.source_addr);
  out.push_back(m.equal ? 1 : 0);
  put_digest(out, m.digest);
  put_members(out, m.members);
}
void put_body(std::string& out, const SyncDeltas& m) {
  put_str(out, m.source_addr);
  put_deltas(out, m.deltas);
  put_digest(out, m.digest);
  out.push_back(m.want_reply ? 1 : 0);
  out.push_back(m.more ? 1 : 0);
}

MessageType type_of(const Message& m) {
  return static_cast<MessageType>(m.index() + 1);  // variant order follows MessageType
}

// ---- reading ----------------------------------------------------------------------------

/// Bounded reader: after any failure every later read fails too, and `ok` stays false.
struct Reader {
  std::string_view in;
  bool ok = true;

  std::uint64_t num() {
    std::uint64_t v = 0;
    if (ok && read_varint(in, v) != VarintStatus::ok) ok = false;
    return ok ? v : 0;
  }
  std::string str(std::size_t max) {
    const std::uint64_t n = num();
    if (!ok || n > max || n > in.size()) {
      ok = false;
      return {};
    }
    std::string s(in.substr(0, static_cast<std::size_t>(n)));
    in.remove_prefix(static_cast<std::size_t>(n));
    return s;
  }
  std::size_t count() {
    const std::uint64_t n = num();
    // Each item takes at least one byte: a count beyond the bytes left is a lie.
    if (!ok || n > kMaxListItems || n > in.size()) ok = false;
    return ok ? static_cast<std::size_t>(n) : 0;
  }
  Record record() {
    Record r;
    const std::string bytes = str(kMaxValueBytes + 8192);
    if (ok && decode_record(bytes, r) != DecodeStatus::ok) ok = false;
    return r;
  }
  bool flag() {
    if (!ok || in.empty() || static_cast<std::uint8_t>(in.front()) > 1) {
      ok = false;
      return false;
    }
    const bool v = in.front() == 1;
    in.remove_prefix(1);
    return v;
  }
  MemberEntry member() {
    MemberEntry m;
    m.node = str(kMaxNodeIdBytes);
    m.addr = str(kMaxAddrBytes);
    m.incarnation = num();
    const std::uint64_t state = ok && !in.empty() ? static_cast<std::uint8_t>(in.front()) : 255;
    if (state > static_cast<std::uint8_t>(MemberState::left)) ok = false;
    if (ok) in.remove_prefix(1);
    m.state = static_cast<MemberState>(state & 3);
    m.meta = str(kMaxMetaBytes);
    return m;
  }
  std::vector<MemberEntry> members() {
    std::vector<MemberEntry> out(count());
    for (auto& m : out) m = member();
    return out;
  }
  WireDigest digest() {
    WireDigest d;
    const std::size_t n = count();
    for (std::size_t i = 0; i < n && ok; ++i) {
      std::string origin = str(kMaxOriginBytes);
      d[std::move(origin)] = num();
    }
    return d;
  }
  std::vector<OriginRecords> deltas() {
    std::vector<OriginRecords> out(count());
    for (auto& d : out) {
      d.origin = str(kMaxOriginBytes);
      d.covered_up_to = num();
      d.records.resize(count());
      for (auto& r : d.records) r = record();
    }
    return out;
  }
};

std::optional<Message> read_body(MessageType type, Reader& r) {
  switch (type) {
    case MessageType::ping: {
      Ping m{r.num(), r.str(kMaxNodeIdBytes), {}};
      m.source_addr = r.str(kMaxAddrBytes);
      return m;
    }
    case MessageType::ack:
      return Ack{r.num()};
    case MessageType::nack:
      return Nack{r.num()};
    case MessageType::ping_req: {
      PingReq m;
      m.seq = r.num();
      m.target = r.str(kMaxNodeIdBytes);
      m.target_addr = r.str(kMaxAddrBytes);
      m.source_addr = r.str(kMaxAddrBytes);
      return m;
    }
    case MessageType::alive: {
      Alive m;
      m.node = r.str(kMaxNodeIdBytes);
      m.addr = r.str(kMaxAddrBytes);
      m.incarnation = r.num();
      m.meta = r.str(kMaxMetaBytes);
      return m;
    }
    case MessageType::suspect: {
      Suspect m;
      m.node = r.str(kMaxNodeIdBytes);
      m.incarnation = r.num();
      m.from = r.str(kMaxNodeIdBytes);
      return m;
    }
    case MessageType::dead: {
      Dead m;
      m.node = r.str(kMaxNodeIdBytes);
      m.incarnation = r.num();
      m.from = r.str(kMaxNodeIdBytes);
      return m;
    }
    case MessageType::record:
      return RecordMsg{r.record()};
    case MessageType::rumor: {
      Rumor m;
      m.origin = r.str(kMaxOriginBytes);
      m.version = r.num();
      return m;
    }
    case MessageType::sync_request: {
      SyncRequest m;
      m.source_addr = r.str(kMaxAddrBytes);
      m.digest_hash = r.num();
      m.members_hash = r.num();
      m.members = r.members();
      return m;
    }
    case MessageType::sync_reply: {
      SyncReply m;
      m.source_addr = r.str(kMaxAddrBytes);
      m.equal = r.flag();
      m.digest = r.digest();
      m.members = r.members();
      return m;
    }
    case MessageType::sync_deltas: {
      SyncDeltas m;
      m.source_addr = r.str(kMaxAddrBytes);
      m.deltas = r.deltas();
      m.digest = r.digest();
      m.want_reply = r.flag();
      m.more = r.flag();
      return m;
    }
  }
  return std::nullopt;  // a type from a newer peer
}

}  // namespace

const char* to_string(MemberState state) {
  switch (state) {
    case MemberState::alive:
      return "alive";
    case MemberState::suspect:
      return "suspect";
    case MemberState::dead:
      return "dead";
    case MemberState::left:
      return "left";
  }
  return "unknown";
}

void encode_message(std::string& out, const Message& message) {
  std::string body;
  std::visit([&body](const auto& m) { put_body(body, m); }, message);
  out.push_back(static_cast<char>(type_of(message)));
  put_str(out, body);
}

std::size_t encoded_message_size(const Message& message) {
  std::string out;
  encode_message(out, message);
  return out.size();
}

std::vector<Message> decode_messages(std::string_view bytes, bool& malformed) {
  std::vector<Message> out;
  malformed = false;
  Reader frame{bytes};
  while (!frame.in.empty()) {
    const auto type = static_cast<MessageType>(static_cast<std::uint8_t>(frame.in.front()));
    frame.in.remove_prefix(1);
    const std::string body = frame.str(frame.in.size());
    if (!frame.ok) {
      malformed = true;
      break;
    }
    Reader r{body};
    std::optional<Message> m = read_body(type, r);
    if (!m) continue;  // unknown type: skip it, keep the rest
    if (!r.ok || !r.in.empty()) {
      malformed = true;
      break;
    }
    out.push_back(std::move(*m));
  }
  return out;
}

}  // namespace metaopt
