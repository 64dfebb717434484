// CRC-32C (Castagnoli): the checksum that guards every encoded record on disk and on the wire.
//
// Castagnoli's polynomial detects more error patterns than zlib's CRC-32 at record sizes and has
// hardware support on common CPUs (used on x86-64 when present; a table otherwise). This is
// the reflected form (polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF), so results
// match iSCSI, ext4 and LevelDB: crc32c("123456789") == 0xE3069283.
#pragma once

#include <cstdint>
#include <string_view>

namespace metaopt {

/// CRC-32C of `bytes`; pass an earlier result as `crc` to continue over a following chunk.
std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc = 0);

}  // namespace metaopt
