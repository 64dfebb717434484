// Record: the unit that the replicated store keeps and gossip spreads, and its byte encoding.
//
// Each node writes only under its own origin, with a version that grows with every write, so
// (origin, key, version) names a record everywhere. The value is opaque bytes: the core knows
// nothing of what it means. The hlc field is the writer's hybrid logical clock (hlc.hpp).
//
// Encoding, format version 1 (the store keeps these bytes, so change it only by adding a format):
//
//   field        size      contents
//   magic        1 byte    0xB7, kRecordMagic
//   format       1 byte    1, kRecordFormatVersion
//   origin_len   varint    <= 255 (kMaxOriginBytes)
//   origin       bytes     UTF-8
//   key_len      varint    <= 4096 (kMaxKeyBytes)
//   key          bytes     UTF-8
//   version      varint    uint64
//   hlc          varint    uint64
//   value_len    varint    <= 16 MiB (kMaxValueBytes)
//   value        bytes     opaque
//   crc32c       4 bytes   CRC-32C (crc32c.hpp) of every byte before it, little-endian
//
// Varints are minimal unsigned LEB128 (varint.hpp). An encoding holds exactly one record.
//
// The decoder treats its input as hostile: every length is checked against its bound and against
// the bytes left before it is used, nothing is read out of bounds, and the only exception it can
// throw is std::bad_alloc. Any input it accepts re-encodes to the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace metaopt {

inline constexpr std::uint8_t kRecordMagic = 0xB7;
inline constexpr std::uint8_t kRecordFormatVersion = 1;
inline constexpr std::size_t kMaxOriginBytes = 255;
inline constexpr std::size_t kMaxKeyBytes = 4096;
inline constexpr std::size_t kMaxValueBytes = std::size_t{16} << 20;

/// One replicated entry: `value` as written by `origin` under `key` at `version`.
struct Record {
  std::string origin;  // UTF-8 node name
  std::string key;     // UTF-8
  std::uint64_t version = 0;
  std::uint64_t hlc = 0;
  std::string value;  // opaque bytes
};

bool operator==(const Record& a, const Record& b);
bool operator!=(const Record& a, const Record& b);

/// Why decode_record refused its input. Only append: the numbers are part of the store format.
enum class DecodeStatus : std::uint8_t {
  ok = 0,
  truncated = 1,           // the input ends before the record does
  bad_magic = 2,           // the first byte is not kRecordMagic
  bad_format_version = 3,  // a format this build does not know
  too_long = 4,            // a field is over its bound, or a varint over 64 bits or not minimal
  bad_checksum = 5,        // the CRC-32C does not match
  trailing_bytes = 6,      // bytes follow the record
  bad_utf8 = 7,            // origin or key is not well-formed UTF-8
};

/// The enumerator's name, e.g. "bad_checksum".
const char* to_string(DecodeStatus status);

/// Bytes encode_record produces for `record`.
std::size_t encoded_size(const Record& record);

/// Encodes `record`; throws std::invalid_argument when a field is over its bound or origin or
/// key is not UTF-8, so that nothing the decoder would refuse is ever written.
std::string encode_record(const Record& record);

/// Decodes exactly one record from `bytes` into `out`. On any status but ok, `out` is unchanged.
DecodeStatus decode_record(std::string_view bytes, Record& out);

}  // namespace metaopt
