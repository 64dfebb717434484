// UTF-8 validation for the text fields of records (origin and key).
//
// The engine treats text as bytes, but Python reads these fields as str; checking them where
// records are encoded and decoded keeps a record Python cannot read from ever entering the store.
// The rules are Unicode's well-formed UTF-8 (Table 3-7), the same that Python's strict decoder
// applies: no overlong forms, no surrogates, nothing above U+10FFFF.
#pragma once

#include <string_view>

namespace metaopt {

/// True when `text` is well-formed UTF-8.
bool is_valid_utf8(std::string_view text);

}  // namespace metaopt
