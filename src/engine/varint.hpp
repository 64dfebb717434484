// Unsigned LEB128 varints: the integer encoding of records and, later, wire messages.
//
// Seven bits per byte, least significant group first, high bit set on every byte but the last.
// Readers accept only the minimal encoding of a value (no redundant trailing zero groups) and
// nothing beyond 64 bits, so each value has exactly one encoding and a decoder that accepts some
// bytes re-encodes them identically.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace metaopt {

/// Longest encoding of a uint64: ceil(64 / 7) bytes.
inline constexpr std::size_t kMaxVarintBytes = 10;

/// Outcome of read_varint.
enum class VarintStatus : std::uint8_t {
  ok = 0,
  truncated,  // the input ended inside the varint
  overlong,   // more than 64 bits, or a non-minimal encoding
};

/// Number of bytes append_varint writes for `value` (1 to kMaxVarintBytes).
std::size_t varint_size(std::uint64_t value);

/// Appends the minimal LEB128 encoding of `value` to `out`.
void append_varint(std::string& out, std::uint64_t value);

/// Reads one varint from the front of `in`; on ok stores it in `value` and drops its bytes from
/// `in`, otherwise leaves both untouched. Never reads past `in`.
VarintStatus read_varint(std::string_view& in, std::uint64_t& value);

}  // namespace metaopt
