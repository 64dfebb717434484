#include "engine/keyring.hpp"

#include <openssl/crypto.h>

#include <cstring>
#include <stdexcept>

namespace metaopt {
namespace {

std::string id_text(std::uint8_t key_id) { return "key id " + std::to_string(key_id); }

MasterKey to_key(const std::string& bytes) {
  if (bytes.size() != kMasterKeyBytes) {
    throw std::invalid_argument("a master key is " + std::to_string(kMasterKeyBytes) +
                                " bytes, not " + std::to_string(bytes.size()));
  }
  MasterKey key;
  std::memcpy(key.data(), bytes.data(), kMasterKeyBytes);
  return key;
}

}  // namespace

Keyring::~Keyring() { OPENSSL_cleanse(keys_.data(), sizeof(keys_)); }

void Keyring::add(std::uint8_t key_id, const std::string& key) {
  MasterKey bytes = to_key(key);
  if (has(key_id)) {
    // Constant time: the comparison is about keys, and costs nothing here.
    const bool same = CRYPTO_memcmp(bytes.data(), keys_[key_id].data(), kMasterKeyBytes) == 0;
    OPENSSL_cleanse(bytes.data(), bytes.size());
    if (same) return;
    throw std::invalid_argument(id_text(key_id) + " already holds another key; remove it first");
  }
  keys_[key_id] = bytes;
  OPENSSL_cleanse(bytes.data(), bytes.size());
  installed_.set(key_id);
  if (!primary_) primary_ = key_id;
  ++epoch_;
}

void Keyring::use(std::uint8_t key_id) {
  if (!has(key_id)) throw std::invalid_argument(id_text(key_id) + " is not installed");
  primary_ = key_id;
}

bool Keyring::remove(std::uint8_t key_id) {
  if (!has(key_id)) return false;
  if (primary_ == key_id) {
    throw std::invalid_argument(id_text(key_id) + " is the primary; use another key first");
  }
  OPENSSL_cleanse(keys_[key_id].data(), kMasterKeyBytes);
  installed_.reset(key_id);
  ++epoch_;
  return true;
}

std::optional<std::uint8_t> Keyring::primary() const { return primary_; }

std::vector<std::uint8_t> Keyring::ids() const {
  std::vector<std::uint8_t> out;
  for (std::size_t id = 0; id < installed_.size(); ++id) {
    if (installed_.test(id)) out.push_back(static_cast<std::uint8_t>(id));
  }
  return out;
}

const MasterKey* Keyring::key(std::uint8_t key_id) const {
  return has(key_id) ? &keys_[key_id] : nullptr;
}

}  // namespace metaopt
