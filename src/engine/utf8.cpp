#include "engine/utf8.hpp"

#include <cstddef>
#include <cstdint>

namespace metaopt {
namespace {

// What a lead byte announces: the sequence length (0 for a byte that cannot lead) and the range
// allowed for the second byte, which is where overlongs, surrogates and values past U+10FFFF
// are excluded. Every later byte is a plain continuation byte, 0x80..0xBF.
struct Lead {
  std::size_t length;
  std::uint8_t second_min;
  std::uint8_t second_max;
};

constexpr Lead classify(std::uint8_t byte) {
  if (byte < 0x80) return {1, 0, 0};
  if (byte < 0xC2) return {0, 0, 0};  // continuation byte, or overlong two-byte lead
  if (byte < 0xE0) return {2, 0x80, 0xBF};
  if (byte == 0xE0) return {3, 0xA0, 0xBF};  // below 0xA0 would be overlong
  if (byte == 0xED) return {3, 0x80, 0x9F};  // above 0x9F would be a surrogate
  if (byte < 0xF0) return {3, 0x80, 0xBF};
  if (byte == 0xF0) return {4, 0x90, 0xBF};  // below 0x90 would be overlong
  if (byte < 0xF4) return {4, 0x80, 0xBF};
  if (byte == 0xF4) return {4, 0x80, 0x8F};  // above 0x8F would pass U+10FFFF
  return {0, 0, 0};
}

bool in_range(char c, std::uint8_t min, std::uint8_t max) {
  const auto byte = static_cast<std::uint8_t>(c);
  return byte >= min && byte <= max;
}

// True when a well-formed sequence of `lead.length` bytes starts at text[at].
bool is_valid_sequence(std::string_view text, std::size_t at, Lead lead) {
  if (lead.length == 0 || lead.length > text.size() - at) return false;
  if (lead.length == 1) return true;
  if (!in_range(text[at + 1], lead.second_min, lead.second_max)) return false;
  for (std::size_t i = 2; i < lead.length; ++i) {
    if (!in_range(text[at + i], 0x80, 0xBF)) return false;
  }
  return true;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  std::size_t at = 0;
  while (at < text.size()) {
    const Lead lead = classify(static_cast<std::uint8_t>(text[at]));
    if (!is_valid_sequence(text, at, lead)) return false;
    at += lead.length;
  }
  return true;
}

}  // namespace metaopt
