#include "engine/crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

#include "engine/utf8.hpp"

namespace metaopt {
namespace {

constexpr std::size_t kSenderOffset = 6;  // magic, format, key_id, channel, sender_len
constexpr std::size_t kNonceBytes = 12;   // the header's last 12 bytes
constexpr std::size_t kSenderKeyNameBytes = 1 + 8 + kMaxSenderBytes;
constexpr char kKdfInfoPrefix[] = "metaopt v1";
constexpr std::size_t kKdfInfoPrefixBytes = sizeof(kKdfInfoPrefix) - 1;  // without the NUL
// Counters run 1 .. 2^64 - 2; the last value is never sealed, so the count never wraps.
constexpr std::uint64_t kLastCounter = std::numeric_limits<std::uint64_t>::max() - 1;

std::uint8_t byte_at(std::string_view bytes, std::size_t i) {
  return static_cast<std::uint8_t>(bytes[i]);
}

const unsigned char* as_bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

// Every length handed to OpenSSL is bounded by kMaxPacketPlaintextBytes or a header, far below
// INT_MAX.
int as_int(std::size_t size) { return static_cast<int>(size); }

void append_be64(std::string& out, std::uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xFFu));
  }
}

void store_be64(unsigned char* out, std::uint64_t value) {
  for (std::size_t i = 0; i < 8; ++i) {
    out[i] = static_cast<unsigned char>((value >> (56 - 8 * i)) & 0xFFu);
  }
}

std::uint64_t load_be64(std::string_view bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < 8; ++i) value = (value << 8) | byte_at(bytes, i);
  return value;
}

struct EvpFree {
  void operator()(EVP_CIPHER* p) const { EVP_CIPHER_free(p); }
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
  void operator()(EVP_KDF* p) const { EVP_KDF_free(p); }
  void operator()(EVP_KDF_CTX* p) const { EVP_KDF_CTX_free(p); }
};

template <typename T>
using EvpPtr = std::unique_ptr<T, EvpFree>;

CryptoMode checked(CryptoMode mode) {
  if (mode != CryptoMode::aes_256_gcm && mode != CryptoMode::null_simulator) {
    throw std::invalid_argument("unknown CryptoMode " + std::to_string(static_cast<int>(mode)));
  }
  return mode;
}

std::string checked_label(std::string label) {
  if (label.size() > kMaxLabelBytes) {
    throw std::invalid_argument("a label is at most " + std::to_string(kMaxLabelBytes) +
                                " bytes, not " + std::to_string(label.size()));
  }
  return label;
}

std::string checked_sender(std::string sender) {
  if (sender.empty() || sender.size() > kMaxSenderBytes) {
    throw std::invalid_argument("a sender id is 1 to " + std::to_string(kMaxSenderBytes) +
                                " bytes, not " + std::to_string(sender.size()));
  }
  if (!is_valid_utf8(sender)) throw std::invalid_argument("the sender id is not valid UTF-8");
  return sender;
}

void append_header(std::string& out, std::uint8_t key_id, Channel channel,
                   const std::string& sender, std::uint64_t generation, std::uint64_t counter) {
  out.append(kPacketMagic, sizeof(kPacketMagic));
  out.push_back(static_cast<char>(kPacketFormat));
  out.push_back(static_cast<char>(key_id));
  out.push_back(static_cast<char>(channel));
  out.push_back(static_cast<char>(sender.size()));
  out.append(sender);
  append_be64(out, generation);
  append_be64(out, counter);
}

}  // namespace

/// A packet's fields as views into it; valid while the packet is.
struct PacketView {
  std::string_view header;  // magic to counter
  std::string_view sender;
  std::string_view body;  // the ciphertext
  std::string_view tag;
  std::uint64_t generation = 0;
  std::uint64_t counter = 0;
  std::uint8_t key_id = 0;
  Channel channel = Channel::datagram;
};

namespace {

// Header checks, cheapest first; a prefix of a good packet is reported as truncated.
OpenStatus parse_packet(std::string_view packet, PacketView& view) {
  if (packet.size() < 2) return OpenStatus::truncated;
  if (packet[0] != kPacketMagic[0] || packet[1] != kPacketMagic[1]) return OpenStatus::bad_magic;
  if (packet.size() < 3) return OpenStatus::truncated;
  if (byte_at(packet, 2) != kPacketFormat) return OpenStatus::bad_format;
  if (packet.size() < kSenderOffset) return OpenStatus::truncated;
  const std::uint8_t channel = byte_at(packet, 4);
  const std::size_t sender_bytes = byte_at(packet, 5);
  if (channel > 1 || sender_bytes == 0 || sender_bytes > kMaxSenderBytes) {
    return OpenStatus::bad_header;
  }
  const std::size_t header_bytes = kPacketFixedHeaderBytes + sender_bytes;
  if (packet.size() < header_bytes + kPacketTagBytes) return OpenStatus::truncated;
  const std::size_t body_bytes = packet.size() - header_bytes - kPacketTagBytes;
  if (body_bytes > kMaxPacketPlaintextBytes) return OpenStatus::bad_header;

  view.sender = packet.substr(kSenderOffset, sender_bytes);
  view.generation = load_be64(packet.substr(kSenderOffset + sender_bytes));
  view.counter = load_be64(packet.substr(kSenderOffset + sender_bytes + 8));
  // No sealer writes these; the UTF-8 check keeps ids Python cannot read out of the engine.
  if (view.counter == 0 || view.counter > kLastCounter || !is_valid_utf8(view.sender)) {
    return OpenStatus::bad_header;
  }
  view.header = packet.substr(0, header_bytes);
  view.body = packet.substr(header_bytes, body_bytes);
  view.tag = packet.substr(header_bytes + body_bytes);
  view.key_id = byte_at(packet, 3);
  view.channel = static_cast<Channel>(channel);
  return OpenStatus::ok;
}

}  // namespace

/// AES-256-GCM and HKDF-SHA256 contexts for one direction, fetched once and reused per packet.
class PacketCipher {
 public:
  /// Throws std::runtime_error when OpenSSL offers no AES-256-GCM or HKDF-SHA256.
  PacketCipher(std::string label, bool encrypting)
      : label_(std::move(label)),
        aes_(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr)),
        ctx_(EVP_CIPHER_CTX_new()) {
    const EvpPtr<EVP_KDF> hkdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
    if (hkdf) kdf_.reset(EVP_KDF_CTX_new(hkdf.get()));  // the context keeps its own reference
    if (!aes_ || !ctx_ || !kdf_ || !bind(encrypting)) {
      throw std::runtime_error("OpenSSL offers no AES-256-GCM or HKDF-SHA256");
    }
  }

  /// The per-sender key for (master, label, sender, generation); false if OpenSSL fails.
  bool derive(const MasterKey& master, std::string_view sender, std::uint64_t generation,
              SenderKey& out) {
    if (sender.size() > kMaxSenderBytes) return false;
    std::array<unsigned char, kKdfInfoPrefixBytes + kMaxSenderBytes + 8> info{};
    std::memcpy(info.data(), kKdfInfoPrefix, kKdfInfoPrefixBytes);
    std::memcpy(info.data() + kKdfInfoPrefixBytes, sender.data(), sender.size());
    store_be64(info.data() + kKdfInfoPrefixBytes + sender.size(), generation);
    // OSSL_PARAM wants non-const pointers even for inputs; nothing writes through them.
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                          const_cast<std::uint8_t*>(master.data()), master.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(),
                                          kKdfInfoPrefixBytes + sender.size() + 8),
        OSSL_PARAM_construct_end()};
    return EVP_KDF_derive(kdf_.get(), out.bytes.data(), out.bytes.size(), params) == 1;
  }

  /// Writes the ciphertext and then the tag of `plaintext` to `out`.
  bool encrypt(const SenderKey& key, std::string_view header, std::string_view plaintext,
               unsigned char* out) {
    int written = 0;
    int final_bytes = 0;
    if (!start(key, header)) return false;
    if (!plaintext.empty() && EVP_CipherUpdate(ctx_.get(), out, &written, as_bytes(plaintext),
                                               as_int(plaintext.size())) != 1) {
      return false;
    }
    return EVP_CipherFinal_ex(ctx_.get(), out + written, &final_bytes) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_AEAD_GET_TAG, as_int(kPacketTagBytes),
                               out + plaintext.size()) == 1;
  }

  /// Writes the plaintext of `view` to `out` (view.body.size() bytes); true if the tag verifies.
  bool decrypt(const SenderKey& key, const PacketView& view, unsigned char* out) {
    std::array<unsigned char, kPacketTagBytes> tag{};
    std::memcpy(tag.data(), view.tag.data(), tag.size());
    int written = 0;
    int final_bytes = 0;
    if (!start(key, view.header)) return false;
    if (!view.body.empty() && EVP_CipherUpdate(ctx_.get(), out, &written, as_bytes(view.body),
                                               as_int(view.body.size())) != 1) {
      return false;
    }
    const bool tag_set =
        EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_AEAD_SET_TAG, as_int(tag.size()), tag.data()) == 1;
    return tag_set && EVP_CipherFinal_ex(ctx_.get(), out + written, &final_bytes) == 1;
  }

 private:
  // The cipher and direction are bound once; per packet only key and nonce change, which
  // OpenSSL does in place (a null cipher in EVP_CipherInit_ex2) instead of rebuilding the
  // context. The digest and salt of HKDF never change either.
  bool bind(bool encrypting) {
    const int direction = encrypting ? 1 : 0;
    if (EVP_CipherInit_ex2(ctx_.get(), aes_.get(), nullptr, nullptr, direction, nullptr) != 1) {
      return false;
    }
    char digest[] = "SHA256";
    OSSL_PARAM params[3];
    std::size_t n = 0;
    params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
    // An empty salt is HKDF's default (HashLen zero bytes), which OpenSSL applies when unset.
    if (!label_.empty()) {
      params[n++] =
          OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, label_.data(), label_.size());
    }
    params[n] = OSSL_PARAM_construct_end();
    return EVP_KDF_CTX_set_params(kdf_.get(), params) == 1;
  }

  // Key, nonce (the header's last 12 bytes), and the additional data header || label.
  bool start(const SenderKey& key, std::string_view header) {
    int unused = 0;
    const unsigned char* nonce = as_bytes(header) + (header.size() - kNonceBytes);
    return EVP_CipherInit_ex2(ctx_.get(), nullptr, key.bytes.data(), nonce, -1, nullptr) == 1 &&
           EVP_CipherUpdate(ctx_.get(), nullptr, &unused, as_bytes(header),
                            as_int(header.size())) == 1 &&
           (label_.empty() || EVP_CipherUpdate(ctx_.get(), nullptr, &unused, as_bytes(label_),
                                               as_int(label_.size())) == 1);
  }

  std::string label_;
  EvpPtr<EVP_CIPHER> aes_;
  EvpPtr<EVP_CIPHER_CTX> ctx_;
  EvpPtr<EVP_KDF_CTX> kdf_;
};

const char* to_string(OpenStatus status) {
  switch (status) {
    case OpenStatus::ok:
      return "ok";
    case OpenStatus::truncated:
      return "truncated";
    case OpenStatus::bad_magic:
      return "bad_magic";
    case OpenStatus::bad_format:
      return "bad_format";
    case OpenStatus::unknown_key:
      return "unknown_key";
    case OpenStatus::bad_header:
      return "bad_header";
    case OpenStatus::replayed:
      return "replayed";
    case OpenStatus::old_generation:
      return "old_generation";
    case OpenStatus::auth_failed:
      return "auth_failed";
  }
  return "unknown";  // a value cast from a byte this build does not know
}

SenderKey::~SenderKey() { OPENSSL_cleanse(bytes.data(), bytes.size()); }

// --- Sealer ---------------------------------------------------------------------------------

Sealer::Sealer(const Keyring& keyring, std::string label, std::string sender,
               std::uint64_t generation, CryptoMode mode)
    : keyring_(&keyring),
      sender_(checked_sender(std::move(sender))),
      generation_(generation),
      mode_(checked(mode)) {
  std::string valid_label = checked_label(std::move(label));
  if (mode_ == CryptoMode::aes_256_gcm) {
    cipher_ = std::make_unique<PacketCipher>(std::move(valid_label), true);
  }
}

Sealer::~Sealer() = default;
Sealer::Sealer(Sealer&&) noexcept = default;
Sealer& Sealer::operator=(Sealer&&) noexcept = default;

std::string Sealer::seal(std::string_view plaintext, Channel channel) {
  if (plaintext.size() > kMaxPacketPlaintextBytes) {
    throw std::invalid_argument("a packet carries at most " +
                                std::to_string(kMaxPacketPlaintextBytes) + " bytes, not " +
                                std::to_string(plaintext.size()));
  }
  if (channel != Channel::datagram && channel != Channel::stream) {
    throw std::invalid_argument("unknown channel " + std::to_string(static_cast<int>(channel)));
  }
  const std::optional<std::uint8_t> key_id = keyring_->primary();
  if (!key_id) throw std::logic_error("the keyring holds no key to seal with");
  if (counter_ >= kLastCounter) {
    throw std::overflow_error("packet counter exhausted; restart with a new generation");
  }
  ++counter_;  // before encrypting: a counter is spent even if sealing fails, never reused

  const std::size_t header_bytes = kPacketFixedHeaderBytes + sender_.size();
  std::string packet;
  packet.reserve(header_bytes + plaintext.size() + kPacketTagBytes);
  append_header(packet, *key_id, channel, sender_, generation_, counter_);
  if (mode_ == CryptoMode::null_simulator) {
    packet.append(plaintext);
    packet.append(kPacketTagBytes, '\0');
    return packet;
  }
  const SenderKey& key = current_key(*key_id, *keyring_->key(*key_id));
  packet.resize(header_bytes + plaintext.size() + kPacketTagBytes);
  auto* body = reinterpret_cast<unsigned char*>(packet.data() + header_bytes);
  if (!cipher_->encrypt(key, std::string_view(packet).substr(0, header_bytes), plaintext, body)) {
    throw std::runtime_error("AES-256-GCM encryption failed");
  }
  return packet;
}

// Derives once per primary key: again only when the primary or the keyring's keys change.
const SenderKey& Sealer::current_key(std::uint8_t key_id, const MasterKey& master) {
  if (key_id_ != key_id || key_epoch_ != keyring_->epoch()) {
    key_id_.reset();
    if (!cipher_->derive(master, sender_, generation_, key_)) {
      throw std::runtime_error("HKDF-SHA256 failed");
    }
    key_id_ = key_id;
    key_epoch_ = keyring_->epoch();
  }
  return key_;
}

// --- Opener ---------------------------------------------------------------------------------

Opener::Opener(const Keyring& keyring, std::string label, std::size_t max_senders, CryptoMode mode)
    : keyring_(&keyring),
      mode_(checked(mode)),
      replay_(max_senders),
      keys_(kSenderKeyCacheSize),
      keys_epoch_(keyring.epoch()) {
  std::string valid_label = checked_label(std::move(label));
  if (mode_ == CryptoMode::aes_256_gcm) {
    cipher_ = std::make_unique<PacketCipher>(std::move(valid_label), false);
  }
  key_name_.reserve(kSenderKeyNameBytes);
}

Opener::~Opener() = default;
Opener::Opener(Opener&&) noexcept = default;
Opener& Opener::operator=(Opener&&) noexcept = default;

OpenStatus Opener::open(std::string_view packet, Opened& out) {
  const OpenStatus status = open_packet(packet, out);
  const auto index = static_cast<std::size_t>(status);
  if (index < counters_.by_status.size()) ++counters_.by_status[index];
  return status;
}

OpenStatus Opener::open_packet(std::string_view packet, Opened& out) {
  PacketView view;
  const OpenStatus parsed = parse_packet(packet, view);
  if (parsed != OpenStatus::ok) return parsed;
  const MasterKey* master = keyring_->key(view.key_id);
  if (master == nullptr) return OpenStatus::unknown_key;
  // One window per (sender, channel): a sender numbers both channels from one counter (so
  // nonces never repeat), but a stream frame can be overtaken by many later datagrams, and one
  // shared 64-wide window would then refuse it as a replay.
  std::string& stream_key = replay_key_;
  stream_key.assign(view.sender);
  stream_key.push_back('\0');
  stream_key.push_back(static_cast<char>(view.channel));
  switch (replay_.check(stream_key, view.generation, view.counter)) {
    case ReplayVerdict::fresh:
      break;
    case ReplayVerdict::replayed:
      return OpenStatus::replayed;
    case ReplayVerdict::old_generation:
      return OpenStatus::old_generation;
  }
  if (!authenticate(view, *master)) return OpenStatus::auth_failed;

  replay_.accept(stream_key, view.generation, view.counter);
  out.sender.assign(view.sender);
  out.generation = view.generation;
  out.counter = view.counter;
  out.channel = view.channel;
  out.key_id = view.key_id;
  out.plaintext.assign(plaintext_);
  return OpenStatus::ok;
}

bool Opener::authenticate(const PacketView& view, const MasterKey& master) {
  if (mode_ == CryptoMode::null_simulator) {
    static constexpr char kZeroTag[kPacketTagBytes] = {};
    plaintext_.assign(view.body);
    return view.tag == std::string_view(kZeroTag, kPacketTagBytes);
  }
  if (keys_epoch_ != keyring_->epoch()) {  // a key was added or removed: drop what came of it
    keys_.clear();
    keys_epoch_ = keyring_->epoch();
  }
  key_name_.assign(1, static_cast<char>(view.key_id));
  append_be64(key_name_, view.generation);
  key_name_.append(view.sender);

  SenderKey derived;
  const SenderKey* key = sender_key(view, master, derived);
  if (key == nullptr) return false;
  plaintext_.resize(view.body.size());
  if (!cipher_->decrypt(*key, view, reinterpret_cast<unsigned char*>(plaintext_.data()))) {
    return false;
  }
  // Only keys that opened a packet are kept, so forgeries cannot flush the cache.
  if (key == &derived) {
    bool evicted = false;
    keys_.insert(key_name_, derived, evicted);
  } else {
    keys_.touch(key_name_);
  }
  return true;
}

// The cached key named key_name_, else a new one derived into `fresh`; nullptr if HKDF fails.
const SenderKey* Opener::sender_key(const PacketView& view, const MasterKey& master,
                                    SenderKey& fresh) {
  if (const SenderKey* cached = keys_.find(key_name_)) return cached;
  if (!cipher_->derive(master, view.sender, view.generation, fresh)) return nullptr;
  return &fresh;
}

}  // namespace metaopt
