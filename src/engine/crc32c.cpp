#include "engine/crc32c.hpp"

#include <array>

namespace metaopt {
namespace {

constexpr std::uint32_t kPolynomial = 0x82F63B78u;  // 0x1EDC6F41 bit-reversed

// Remainder of each possible byte, so the main loop does one lookup per byte instead of eight
// shift-and-xor steps. Built at compile time.
constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t byte = 0; byte < 256; ++byte) {
    std::uint32_t remainder = byte;
    for (int bit = 0; bit < 8; ++bit) {
      remainder = (remainder & 1u) != 0 ? (remainder >> 1) ^ kPolynomial : remainder >> 1;
    }
    table[byte] = remainder;
  }
  return table;
}

constexpr std::array<std::uint32_t, 256> kTable = make_table();

}  // namespace

std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc) {
  crc = ~crc;
  for (const char c : bytes) {
    const auto index = (crc ^ static_cast<std::uint8_t>(c)) & 0xFFu;
    crc = kTable[index] ^ (crc >> 8);
  }
  return ~crc;
}

}  // namespace metaopt
