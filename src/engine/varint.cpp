#include "engine/varint.hpp"

namespace metaopt {
namespace {

constexpr std::uint8_t kContinue = 0x80;
constexpr std::uint8_t kPayload = 0x7F;

}  // namespace

std::size_t varint_size(std::uint64_t value) {
  std::size_t size = 1;
  for (; value > kPayload; value >>= 7) {
    ++size;
  }
  return size;
}

void append_varint(std::string& out, std::uint64_t value) {
  for (; value > kPayload; value >>= 7) {
    out.push_back(static_cast<char>((value & kPayload) | kContinue));
  }
  out.push_back(static_cast<char>(value));
}

VarintStatus read_varint(std::string_view& in, std::uint64_t& value) {
  std::uint64_t result = 0;
  for (std::size_t i = 0; i < kMaxVarintBytes; ++i) {
    if (i == in.size()) {
      return VarintStatus::truncated;
    }
    const auto byte = static_cast<std::uint8_t>(in[i]);
    // The tenth byte holds bit 63 only: anything more overflows 64 bits or continues further.
    if (i == kMaxVarintBytes - 1 && byte > 1) {
      return VarintStatus::overlong;
    }
    result |= static_cast<std::uint64_t>(byte & kPayload) << (7 * i);
    if ((byte & kContinue) == 0) {
      if (byte == 0 && i > 0) {
        return VarintStatus::overlong;  // a zero last group: the same value fits in fewer bytes
      }
      value = result;
      in.remove_prefix(i + 1);
      return VarintStatus::ok;
    }
  }
  return VarintStatus::overlong;  // not reached: the tenth byte always returns above
}

}  // namespace metaopt
