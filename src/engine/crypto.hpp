// Packet protection: the authenticated encryption that wraps every datagram and stream frame the
// engine sends, and the replay checks that every received one passes before the engine sees it.
//
// A Sealer belongs to one sending node; an Opener to one receiving node, for all its peers. Both
// take their keys from a Keyring (keyring.hpp) and a cluster label, e.g. the cluster name, which
// is authenticated with every packet: packets of another cluster fail even under the same key.
//
// Packet, format 1 (datagrams and stream frames alike; change it only by adding a format):
//
//   field        size          contents
//   magic        2 bytes       "MO" (0x4D 0x4F), kPacketMagic
//   format       1 byte        1, kPacketFormat
//   key_id       1 byte        the master key it is sealed under (Keyring)
//   channel      1 byte        0 datagram, 1 stream (Channel)
//   sender_len   1 byte        1..64, kMaxSenderBytes
//   sender       sender_len    the sending node's id, UTF-8
//   generation   8 bytes       big-endian; the sender's restart number, larger after each restart
//   counter      8 bytes       big-endian; 1, 2, 3, ... per packet within one generation
//   ciphertext   rest - 16     AES-256-GCM of the plaintext, as long as it; <= 32 MiB
//   tag          16 bytes      the GCM tag, kPacketTagBytes
//
// Everything from magic to counter is the header. The AEAD's additional data is header || label.
//
// Per-sender key: HKDF-SHA256(ikm = master key, salt = label,
//                             info = "metaopt v1" || sender || generation, 8 bytes big-endian).
// Nonce (12 bytes): the low 32 bits of generation || counter, both big-endian, which are the
// header's last 12 bytes. A (sender, generation) pair has its own key, and the counter never
// repeats within it, so no nonce repeats under a key, and no random-nonce usage limit applies
// (research/gossip.md 6.4). A sender must never reuse a generation after a restart: it persists
// the last one, or takes one that grows with time.
//
// Opening treats the packet as hostile: it checks the header's bounds, the key id, then the replay
// window (replay.hpp) before decrypting, and touches replay state only after the tag verifies.
// It never reads out of bounds and never throws on any input: it returns an OpenStatus and counts
// it. The only exception that can leave open() is std::bad_alloc.
//
// CryptoMode::null_simulator keeps the framing and the replay checks but neither encrypts nor
// authenticates: the plaintext travels as is and the tag is 16 zero bytes. It exists so the
// simulator can run thousands of nodes cheaply; it protects nothing and must never be used on a
// real network.
//
// Lifetime and threads: Sealer and Opener keep a pointer to the Keyring they are given, so key
// rotation takes effect at their next call; the Keyring must outlive them. None of the three is
// thread-safe: their owner serialises every call to a keyring and to what holds it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/keyring.hpp"
#include "engine/lru_map.hpp"
#include "engine/replay.hpp"

namespace metaopt {

inline constexpr char kPacketMagic[2] = {'M', 'O'};
inline constexpr std::uint8_t kPacketFormat = 1;
inline constexpr std::size_t kMaxSenderBytes = 64;
inline constexpr std::size_t kPacketTagBytes = 16;
/// Header bytes besides the sender: magic to sender_len (6), generation and counter (16).
inline constexpr std::size_t kPacketFixedHeaderBytes = 22;
/// Largest plaintext one packet carries: a 16 MiB record and room to spare, well under the
/// int-sized lengths OpenSSL takes.
inline constexpr std::size_t kMaxPacketPlaintextBytes = std::size_t{32} << 20;
/// Longest cluster label, in bytes.
inline constexpr std::size_t kMaxLabelBytes = 1024;
/// Derived per-sender keys an Opener keeps.
inline constexpr std::size_t kSenderKeyCacheSize = 4096;
/// Senders whose replay state an Opener keeps by default.
inline constexpr std::size_t kDefaultMaxSenders = 65536;

/// Bytes a packet adds to its plaintext, for a sender id of `sender_bytes`.
constexpr std::size_t packet_overhead(std::size_t sender_bytes) {
  return kPacketFixedHeaderBytes + sender_bytes + kPacketTagBytes;
}

/// Which transport a packet was sealed for; authenticated, so a datagram cannot pass as a frame.
enum class Channel : std::uint8_t {
  datagram = 0,
  stream = 1,
};

/// Whether packets are really protected.
enum class CryptoMode : std::uint8_t {
  aes_256_gcm = 0,
  null_simulator = 1,  // framing and replay checks only; simulator-only, see above
};

/// Why Opener::open refused a packet. Only append: the numbers name counters that are exported.
enum class OpenStatus : std::uint8_t {
  ok = 0,
  truncated = 1,       // shorter than its header and tag
  bad_magic = 2,       // not "MO"
  bad_format = 3,      // a format this build does not know
  unknown_key = 4,     // its key id is not installed here
  bad_header = 5,      // a channel, sender or counter no sealer writes, or too long
  replayed = 6,        // its counter was seen, or is below the window
  old_generation = 7,  // the sender has since restarted
  auth_failed = 8,     // the tag does not verify: wrong key, wrong label, or altered
};

/// Number of OpenStatus values.
inline constexpr std::size_t kOpenStatusCount = 9;

/// The enumerator's name, e.g. "auth_failed".
const char* to_string(OpenStatus status);

/// An opened packet: its header fields and its authenticated plaintext.
struct Opened {
  std::string sender;
  std::uint64_t generation = 0;
  std::uint64_t counter = 0;
  Channel channel = Channel::datagram;
  std::uint8_t key_id = 0;
  std::string plaintext;
};

class PacketCipher;  // OpenSSL state, defined in crypto.cpp
struct PacketView;   // a parsed header, defined in crypto.cpp

/// A derived per-sender key; wiped when destroyed.
struct SenderKey {
  std::array<std::uint8_t, 32> bytes{};
  SenderKey() = default;
  SenderKey(const SenderKey&) = default;
  SenderKey& operator=(const SenderKey&) = default;
  ~SenderKey();
};

/// Seals one node's outgoing packets under the keyring's primary key.
class Sealer {
 public:
  /// Throws std::invalid_argument unless sender is 1..64 bytes of UTF-8 and label at most
  /// kMaxLabelBytes, and std::runtime_error when OpenSSL offers no AES-256-GCM or HKDF.
  /// `keyring` must outlive the sealer.
  Sealer(const Keyring& keyring, std::string label, std::string sender, std::uint64_t generation,
         CryptoMode mode = CryptoMode::aes_256_gcm);
  ~Sealer();
  Sealer(Sealer&&) noexcept;
  Sealer& operator=(Sealer&&) noexcept;

  /// The packet carrying `plaintext`, under the next counter. Throws std::invalid_argument for a
  /// plaintext over kMaxPacketPlaintextBytes or a channel that is not a Channel, std::logic_error
  /// when the keyring is empty, and std::overflow_error once 2^64 - 2 packets have been sealed
  /// (take a new generation). A throw after the checks still uses up the counter.
  std::string seal(std::string_view plaintext, Channel channel);

  /// The counter of the last packet sealed; 0 before the first.
  std::uint64_t counter() const { return counter_; }

  const std::string& sender() const { return sender_; }
  std::uint64_t generation() const { return generation_; }

 private:
  const SenderKey& current_key(std::uint8_t key_id, const MasterKey& master);

  const Keyring* keyring_;
  std::string sender_;
  std::uint64_t generation_;
  CryptoMode mode_;
  std::uint64_t counter_ = 0;
  std::unique_ptr<PacketCipher> cipher_;  // null in null_simulator mode
  SenderKey key_;                         // derived from key_id_'s master at key_epoch_
  std::optional<std::uint8_t> key_id_;
  std::uint64_t key_epoch_ = 0;
};

/// Opens packets from every sender, refusing forgeries and replays.
class Opener {
 public:
  /// How many open() calls ended in each status.
  struct Counters {
    std::array<std::uint64_t, kOpenStatusCount> by_status{};
    std::uint64_t operator[](OpenStatus status) const {
      return by_status[static_cast<std::size_t>(status)];
    }
  };

  /// Tracks replay state for at most max_senders senders. Throws std::invalid_argument when
  /// max_senders is 0 or label is over kMaxLabelBytes, and std::runtime_error when OpenSSL
  /// offers no AES-256-GCM or HKDF. `keyring` must outlive the opener.
  Opener(const Keyring& keyring, std::string label, std::size_t max_senders = kDefaultMaxSenders,
         CryptoMode mode = CryptoMode::aes_256_gcm);
  ~Opener();
  Opener(Opener&&) noexcept;
  Opener& operator=(Opener&&) noexcept;

  /// Checks and decrypts `packet`. On ok fills `out`; on any other status leaves it unchanged.
  /// Every call is counted under its status.
  OpenStatus open(std::string_view packet, Opened& out);

  const Counters& counters() const { return counters_; }

  /// Senders whose replay state is kept now.
  std::size_t tracked_senders() const { return replay_.size(); }

  /// Senders dropped from the replay state to make room, since construction.
  std::uint64_t evicted_senders() const { return replay_.evicted(); }

 private:
  OpenStatus open_packet(std::string_view packet, Opened& out);
  bool authenticate(const PacketView& view, const MasterKey& master);
  const SenderKey* sender_key(const PacketView& view, const MasterKey& master, SenderKey& fresh);

  const Keyring* keyring_;
  CryptoMode mode_;
  ReplayTable replay_;
  std::string replay_key_;  // (sender, channel), reused to avoid an allocation per packet
  std::unique_ptr<PacketCipher> cipher_;  // null in null_simulator mode
  LruMap<SenderKey> keys_;                // by key_id || generation || sender
  std::uint64_t keys_epoch_;              // the keyring epoch keys_ was derived at
  std::string key_name_;                  // reused lookup key for keys_
  std::string plaintext_;                 // decryption scratch; nothing unauthenticated escapes
  Counters counters_;
};

}  // namespace metaopt
