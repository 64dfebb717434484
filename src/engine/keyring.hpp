// Keyring: the cluster's master keys, each named by a one-byte key id that every packet carries
// (crypto.hpp), so a receiver picks the key without trial decryption.
//
// One installed key is the primary: the one new packets are sealed under. Any installed key
// opens packets. Rotation follows memberlist and Consul, cluster-wide and in three steps:
//
//   1. add(new_id, key)  on every node: everyone can now open packets under either key;
//   2. use(new_id)       on every node: senders switch to the new key one by one;
//   3. remove(old_id)    on every node, once all use the new key: the old key stops opening.
//
// Skipping a step, or running it before the previous one reached every node, makes some nodes
// drop others' packets as unknown_key until the keyrings agree again.
//
// The keyring only holds keys; where they come from (a file, the environment) is the caller's
// business, and none is ever persisted from here. Key bytes are wiped when removed or destroyed.
// Not thread-safe, and neither copyable nor movable: Sealer and Opener keep a reference to it,
// so its owner serialises calls to it and to everything that holds it.
#pragma once

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace metaopt {

inline constexpr std::size_t kMasterKeyBytes = 32;

/// A master key's bytes.
using MasterKey = std::array<std::uint8_t, kMasterKeyBytes>;

/// The cluster's master keys by key id, one of them primary.
class Keyring {
 public:
  Keyring() = default;
  ~Keyring();
  Keyring(const Keyring&) = delete;
  Keyring& operator=(const Keyring&) = delete;

  /// Installs `key` (exactly 32 bytes) under `key_id`; the first key installed into an empty
  /// keyring becomes the primary. Adding the same bytes again is a no-op, so an install step can
  /// be retried. Throws std::invalid_argument for a key of another length, or when `key_id`
  /// already holds different bytes (remove it first).
  void add(std::uint8_t key_id, const std::string& key);

  /// Makes the installed key `key_id` the primary; throws std::invalid_argument if it is absent.
  void use(std::uint8_t key_id);

  /// Uninstalls `key_id` and returns whether it was installed. Throws std::invalid_argument for
  /// the primary: switch the primary first (use), then remove.
  bool remove(std::uint8_t key_id);

  /// The primary key id; nullopt while the keyring is empty.
  std::optional<std::uint8_t> primary() const;

  /// True when `key_id` is installed.
  bool has(std::uint8_t key_id) const { return installed_.test(key_id); }

  /// Installed key ids, ascending.
  std::vector<std::uint8_t> ids() const;

  /// The key under `key_id`, or nullptr when none is installed. Valid until that key is removed.
  const MasterKey* key(std::uint8_t key_id) const;

  /// Grows whenever a key is added or removed, so holders can drop keys they derived from it.
  std::uint64_t epoch() const { return epoch_; }

 private:
  std::array<MasterKey, 256> keys_{};
  std::bitset<256> installed_;
  std::optional<std::uint8_t> primary_;
  std::uint64_t epoch_ = 0;
};

}  // namespace metaopt
