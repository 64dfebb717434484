// The register_* functions that module.cpp calls, one per exposed area of the engine.
#pragma once

#include <pybind11/pybind11.h>

namespace metaopt {

/// Hlc, hlc_pack, hlc_physical, hlc_logical.
void register_hlc(pybind11::module_& m);

/// Record, encode_record, decode_record, decode_records, DecodeError and the format constants.
void register_record(pybind11::module_& m);

}  // namespace metaopt
