// The register_* functions that module.cpp calls, one per exposed area of the engine.
#pragma once

#include <pybind11/pybind11.h>

#include "engine/config.hpp"

namespace metaopt {

/// Hlc, hlc_pack, hlc_physical, hlc_logical.
void register_hlc(pybind11::module_& m);

/// Record, encode_record, decode_record, decode_records, DecodeError and the format constants.
void register_record(pybind11::module_& m);

/// Keyring, Sealer, Opener, OpenedPacket and the packet constants.
void register_crypto(pybind11::module_& m);

/// Store, OriginDelta, make_version, version_generation, version_seq and MAX_SEQ.
void register_store(pybind11::module_& m);

/// Config and its presets.
void register_config(pybind11::module_& m);

/// A Config from a Config object or a preset name ("lan", "local").
Config config_from(const pybind11::object& value);

/// Simulation: N engines in virtual time.
void register_sim(pybind11::module_& m);

/// Node (the engine on real sockets), Event and Member.
void register_node(pybind11::module_& m);

}  // namespace metaopt
