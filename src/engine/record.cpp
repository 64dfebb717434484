#include "engine/record.hpp"

#include <stdexcept>
#include <utility>

#include "engine/crc32c.hpp"
#include "engine/utf8.hpp"
#include "engine/varint.hpp"

namespace metaopt {
namespace {

constexpr std::size_t kHeaderBytes = 2;    // magic, format version
constexpr std::size_t kChecksumBytes = 4;  // CRC-32C, little-endian

// --- encoding -----------------------------------------------------------------------------

void check_field(const char* name, std::string_view field, std::size_t max_bytes) {
  if (field.size() > max_bytes) {
    throw std::invalid_argument(std::string(name) + " is " + std::to_string(field.size()) +
                                " bytes; the limit is " + std::to_string(max_bytes));
  }
}

void check_text(const char* name, std::string_view field) {
  if (!is_valid_utf8(field)) {
    throw std::invalid_argument(std::string(name) + " is not valid UTF-8");
  }
}

void check_encodable(const Record& record) {
  check_field("origin", record.origin, kMaxOriginBytes);
  check_field("key", record.key, kMaxKeyBytes);
  check_field("value", record.value, kMaxValueBytes);
  check_text("origin", record.origin);
  check_text("key", record.key);
}

void append_field(std::string& out, std::string_view field) {
  append_varint(out, field.size());
  out.append(field);
}

void append_le32(std::string& out, std::uint32_t word) {
  for (int shift = 0; shift < 32; shift += 8) {
    out.push_back(static_cast<char>((word >> shift) & 0xFFu));
  }
}

// --- decoding -----------------------------------------------------------------------------

DecodeStatus check_header(std::string_view bytes) {
  if (bytes.empty()) return DecodeStatus::truncated;
  if (static_cast<std::uint8_t>(bytes[0]) != kRecordMagic) return DecodeStatus::bad_magic;
  if (bytes.size() < kHeaderBytes) return DecodeStatus::truncated;
  if (static_cast<std::uint8_t>(bytes[1]) != kRecordFormatVersion) {
    return DecodeStatus::bad_format_version;
  }
  return DecodeStatus::ok;
}

DecodeStatus read_u64(std::string_view& in, std::uint64_t& value) {
  switch (read_varint(in, value)) {
    case VarintStatus::ok:
      return DecodeStatus::ok;
    case VarintStatus::truncated:
      return DecodeStatus::truncated;
    case VarintStatus::overlong:
      break;
  }
  return DecodeStatus::too_long;
}

// A length bounded by max_bytes, then that many bytes. The bound is checked before the bytes
// left, so a hostile length is reported as too_long and never sizes an allocation.
DecodeStatus read_field(std::string_view& in, std::size_t max_bytes, std::string& field) {
  std::uint64_t length = 0;
  const DecodeStatus status = read_u64(in, length);
  if (status != DecodeStatus::ok) return status;
  if (length > max_bytes) return DecodeStatus::too_long;
  const auto size = static_cast<std::size_t>(length);
  if (size > in.size()) return DecodeStatus::truncated;
  field.assign(in.data(), size);
  in.remove_prefix(size);
  return DecodeStatus::ok;
}

DecodeStatus read_body(std::string_view& in, Record& record) {
  DecodeStatus status = read_field(in, kMaxOriginBytes, record.origin);
  if (status == DecodeStatus::ok) status = read_field(in, kMaxKeyBytes, record.key);
  if (status == DecodeStatus::ok) status = read_u64(in, record.version);
  if (status == DecodeStatus::ok) status = read_u64(in, record.hlc);
  if (status == DecodeStatus::ok) status = read_field(in, kMaxValueBytes, record.value);
  return status;
}

std::uint32_t load_le32(std::string_view bytes) {
  std::uint32_t word = 0;
  for (std::size_t i = 0; i < kChecksumBytes; ++i) {
    word |= std::uint32_t{static_cast<std::uint8_t>(bytes[i])} << (8 * i);
  }
  return word;
}

// `rest` is what follows the value: exactly the checksum of everything before it.
DecodeStatus check_trailer(std::string_view bytes, std::string_view rest) {
  if (rest.size() < kChecksumBytes) return DecodeStatus::truncated;
  if (rest.size() > kChecksumBytes) return DecodeStatus::trailing_bytes;
  const std::string_view covered = bytes.substr(0, bytes.size() - kChecksumBytes);
  if (crc32c(covered) != load_le32(rest)) return DecodeStatus::bad_checksum;
  return DecodeStatus::ok;
}

// Checked after the checksum, so corruption is reported as such and not as bad text.
DecodeStatus check_text(const Record& record) {
  if (!is_valid_utf8(record.origin) || !is_valid_utf8(record.key)) return DecodeStatus::bad_utf8;
  return DecodeStatus::ok;
}

}  // namespace

bool operator==(const Record& a, const Record& b) {
  return a.origin == b.origin && a.key == b.key && a.version == b.version && a.hlc == b.hlc &&
         a.value == b.value;
}

bool operator!=(const Record& a, const Record& b) { return !(a == b); }

const char* to_string(DecodeStatus status) {
  switch (status) {
    case DecodeStatus::ok:
      return "ok";
    case DecodeStatus::truncated:
      return "truncated";
    case DecodeStatus::bad_magic:
      return "bad_magic";
    case DecodeStatus::bad_format_version:
      return "bad_format_version";
    case DecodeStatus::too_long:
      return "too_long";
    case DecodeStatus::bad_checksum:
      return "bad_checksum";
    case DecodeStatus::trailing_bytes:
      return "trailing_bytes";
    case DecodeStatus::bad_utf8:
      return "bad_utf8";
  }
  return "unknown";  // a value cast from a byte this build does not know
}

std::size_t encoded_size(const Record& record) {
  return kHeaderBytes + varint_size(record.origin.size()) + record.origin.size() +
         varint_size(record.key.size()) + record.key.size() + varint_size(record.version) +
         varint_size(record.hlc) + varint_size(record.value.size()) + record.value.size() +
         kChecksumBytes;
}

std::string encode_record(const Record& record) {
  check_encodable(record);
  std::string out;
  out.reserve(encoded_size(record));
  out.push_back(static_cast<char>(kRecordMagic));
  out.push_back(static_cast<char>(kRecordFormatVersion));
  append_field(out, record.origin);
  append_field(out, record.key);
  append_varint(out, record.version);
  append_varint(out, record.hlc);
  append_field(out, record.value);
  append_le32(out, crc32c(out));
  return out;
}

DecodeStatus decode_record(std::string_view bytes, Record& out) {
  DecodeStatus status = check_header(bytes);
  if (status != DecodeStatus::ok) return status;
  std::string_view rest = bytes.substr(kHeaderBytes);
  Record record;
  status = read_body(rest, record);
  if (status == DecodeStatus::ok) status = check_trailer(bytes, rest);
  if (status == DecodeStatus::ok) status = check_text(record);
  if (status == DecodeStatus::ok) out = std::move(record);
  return status;
}

}  // namespace metaopt
