// Messages: what the engine says to other engines, and their bounded binary encoding.
//
// A datagram's plaintext is a compound of messages (probes, membership updates, record rumours
// and small records) that fits the datagram budget; a stream frame carries one anti-entropy
// message, which may be large. Each message is `type (1 byte) | length (varint) | body`, so a
// reader skips types it does not know (newer peers) instead of failing the whole packet.
// Decoding treats the bytes as hostile: every length is bounded and checked before use, and a
// malformed message drops the rest of its packet, never the engine.
//
// Only append to MessageType: the numbers are the wire format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/record.hpp"

namespace metaopt {

inline constexpr std::size_t kMaxNodeIdBytes = 64;
inline constexpr std::size_t kMaxAddrBytes = 255;
inline constexpr std::size_t kMaxMetaBytes = 512;
inline constexpr std::size_t kMaxListItems = 1 << 20;  // members or records in one message

enum class MessageType : std::uint8_t {
  ping = 1,
  ack = 2,
  nack = 3,
  ping_req = 4,
  alive = 5,
  suspect = 6,
  dead = 7,
  record = 8,
  rumor = 9,
  sync_request = 10,
  sync_reply = 11,
  sync_deltas = 12,
};

enum class MemberState : std::uint8_t { alive = 0, suspect = 1, dead = 2, left = 3 };

/// "alive", "suspect", "dead" or "left".
const char* to_string(MemberState state);

/// Probe of `target` (its id, so a new node at a recycled address does not answer for it).
struct Ping {
  std::uint64_t seq = 0;
  std::string target;
  std::string source_addr;  // where the prober listens: a member may not know it yet
};
struct Ack {
  std::uint64_t seq = 0;
};
/// Sent by a relay that did not hear the target in time: evidence the requester is healthy.
struct Nack {
  std::uint64_t seq = 0;
};
/// Ask the receiver to probe `target` at `target_addr` and relay the ack under `seq`.
struct PingReq {
  std::uint64_t seq = 0;
  std::string target;
  std::string target_addr;
  std::string source_addr;
};
struct Alive {
  std::string node;
  std::string addr;
  std::uint64_t incarnation = 0;
  std::string meta;
};
struct Suspect {
  std::string node;
  std::uint64_t incarnation = 0;
  std::string from;
};
/// `from == node` is a graceful leave.
struct Dead {
  std::string node;
  std::uint64_t incarnation = 0;
  std::string from;
};
/// A whole record, pushed (eager push of a fresh local write).
struct RecordMsg {
  Record record;
};
/// "`origin` has reached `version`": receivers that lack it start an anti-entropy exchange.
struct Rumor {
  std::string origin;
  std::uint64_t version = 0;
};

/// One member as seen by the sender, for membership push-pull.
struct MemberEntry {
  std::string node;
  std::string addr;
  std::uint64_t incarnation = 0;
  MemberState state = MemberState::alive;
  std::string meta;
};
/// Records of one origin in version order; the sender vouches for everything up to covered_up_to.
struct OriginRecords {
  std::string origin;
  std::vector<Record> records;
  std::uint64_t covered_up_to = 0;
};
using WireDigest = std::map<std::string, std::uint64_t>;

// Anti-entropy, over the stream channel. An idle cluster exchanges only digest hashes:
//   A -> B  SyncRequest{hash(A), members hash, members?}
//   B -> A  SyncReply{equal | digest(B), members if A sent its own or the member hashes differ}
//   A -> B  SyncDeltas{what B lacks, digest(A), want_reply}
//   B -> A  SyncDeltas{what A lacks}
// Members ride along on joins and every push-pull period (membership push-pull).

struct SyncRequest {
  std::string source_addr;
  std::uint64_t digest_hash = 0;
  std::uint64_t members_hash = 0;  // views that differ are exchanged whole in the reply
  std::vector<MemberEntry> members;
};
struct SyncReply {
  std::string source_addr;  // where the replier listens: a stream's peer port is ephemeral
  bool equal = false;
  WireDigest digest;  // empty when equal
  std::vector<MemberEntry> members;
};
struct SyncDeltas {
  std::string source_addr;
  std::vector<OriginRecords> deltas;
  WireDigest digest;  // the sender's, when it wants deltas back
  bool want_reply = false;
  bool more = false;  // the byte budget cut these deltas short: ask again at once
};

using Message = std::variant<Ping, Ack, Nack, PingReq, Alive, Suspect, Dead, RecordMsg, Rumor,
                             SyncRequest, SyncReply, SyncDeltas>;

/// Appends one message, framed, to `out`.
void encode_message(std::string& out, const Message& message);

/// Bytes encode_message would append.
std::size_t encoded_message_size(const Message& message);

/// Decodes every message of a compound. Stops at the first malformed one and reports it through
/// `malformed` (the ones before it are returned); unknown types are skipped.
std::vector<Message> decode_messages(std::string_view bytes, bool& malformed);

}  // namespace metaopt
