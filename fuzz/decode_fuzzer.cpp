// libFuzzer target: everything that reads bytes from the network or the disk.
//
// The same input goes to the record decoder, the message decoder and the packet opener (real
// AES-GCM and the simulator's null mode). None may crash, read out of bounds or hang, and what
// they accept must survive a round trip. Run by .ci/fuzz for a bounded time on every commit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/crypto.hpp"
#include "engine/keyring.hpp"
#include "engine/messages.hpp"
#include "engine/record.hpp"

namespace {

metaopt::Keyring& keyring() {
  static metaopt::Keyring* keys = [] {
    auto* k = new metaopt::Keyring;  // lives for the whole run, as the openers that use it
    k->add(1, std::string(32, 'k'));
    return k;
  }();
  return *keys;
}

void check_record(std::string_view bytes) {
  metaopt::Record record;
  if (metaopt::decode_record(bytes, record) != metaopt::DecodeStatus::ok) return;
  if (metaopt::encode_record(record) != bytes) std::abort();  // accepted means canonical
}

void check_messages(std::string_view bytes) {
  bool malformed = false;
  for (const metaopt::Message& m : metaopt::decode_messages(bytes, malformed)) {
    std::string again;
    metaopt::encode_message(again, m);
    bool malformed_again = false;
    if (metaopt::decode_messages(again, malformed_again).size() != 1 || malformed_again) {
      std::abort();  // what we decode, we can encode and decode again
    }
  }
}

void check_open(std::string_view bytes, metaopt::CryptoMode mode) {
  static metaopt::Opener real(keyring(), "fuzz", 64, metaopt::CryptoMode::aes_256_gcm);
  static metaopt::Opener null(keyring(), "fuzz", 64, metaopt::CryptoMode::null_simulator);
  metaopt::Opened opened;
  auto& opener = mode == metaopt::CryptoMode::aes_256_gcm ? real : null;
  if (opener.open(bytes, opened) == metaopt::OpenStatus::ok) check_messages(opened.plaintext);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  check_record(bytes);
  check_messages(bytes);
  check_open(bytes, metaopt::CryptoMode::aes_256_gcm);
  check_open(bytes, metaopt::CryptoMode::null_simulator);
  return 0;
}
