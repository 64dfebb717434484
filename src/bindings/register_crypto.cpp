// Python view of engine/keyring.hpp and engine/crypto.hpp. Conversions only: keys, plaintexts
// and packets cross as bytes, label and sender as str, a refused packet as its status name.
// Sealer and Opener keep their Keyring alive (keep_alive), which is the engine's lifetime rule.
// pybind11 maps std::invalid_argument to ValueError and std::overflow_error to OverflowError.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <string>
#include <utility>

#include "bindings/register.hpp"
#include "engine/crypto.hpp"
#include "engine/keyring.hpp"

namespace py = pybind11;

namespace metaopt {
namespace {

CryptoMode to_mode(bool null_crypto) {
  return null_crypto ? CryptoMode::null_simulator : CryptoMode::aes_256_gcm;
}

Channel to_channel(int channel) {
  if (channel != 0 && channel != 1) {
    throw py::value_error("channel is 0 (datagram) or 1 (stream), not " + std::to_string(channel));
  }
  return static_cast<Channel>(channel);
}

py::tuple open_packet(Opener& opener, const py::bytes& packet) {
  Opened opened;
  const OpenStatus status = opener.open(std::string_view(packet), opened);
  if (status != OpenStatus::ok) return py::make_tuple(to_string(status), py::none());
  return py::make_tuple(to_string(status), std::move(opened));
}

py::dict counters_dict(const Opener& opener) {
  py::dict out;
  for (std::size_t i = 0; i < kOpenStatusCount; ++i) {
    const auto status = static_cast<OpenStatus>(i);
    out[to_string(status)] = opener.counters()[status];
  }
  return out;
}

py::str opened_repr(const Opened& o) {
  return py::str(
             "OpenedPacket(sender={!r}, generation={}, counter={}, channel={}, key_id={}, "
             "plaintext={!r})")
      .format(o.sender, o.generation, o.counter, static_cast<int>(o.channel), o.key_id,
              py::bytes(o.plaintext));
}

void register_keyring(py::module_& m) {
  py::class_<Keyring>(m, "Keyring", "Cluster master keys by one-byte key id; one is primary.")
      .def(py::init<>())
      .def(
          "add",
          [](Keyring& k, std::uint8_t key_id, const py::bytes& key) {
            k.add(key_id, std::string(key));
          },
          py::arg("key_id"), py::arg("key"),
          "Install a 32-byte key; the first one becomes primary. Same bytes again: no-op.")
      .def("use", &Keyring::use, py::arg("key_id"), "Make an installed key the primary.")
      .def("remove", &Keyring::remove, py::arg("key_id"),
           "Uninstall a key; False if absent. ValueError for the primary.")
      .def("primary", &Keyring::primary, "The primary key id, or None when empty.")
      .def("has", &Keyring::has, py::arg("key_id"))
      .def("ids", &Keyring::ids, "Installed key ids, ascending.");
}

void register_sealer(py::module_& m) {
  py::class_<Sealer>(m, "Sealer", "Seals one node's packets under the keyring's primary key.")
      .def(py::init([](const Keyring& keyring, std::string label, std::string sender,
                       std::uint64_t generation, bool null_crypto) {
             return Sealer(keyring, std::move(label), std::move(sender), generation,
                           to_mode(null_crypto));
           }),
           py::arg("keyring"), py::arg("label"), py::arg("sender"), py::arg("generation"),
           py::kw_only(), py::arg("null_crypto") = false, py::keep_alive<1, 2>())
      .def(
          "seal",
          [](Sealer& s, const py::bytes& plaintext, int channel) {
            return py::bytes(s.seal(std::string_view(plaintext), to_channel(channel)));
          },
          py::arg("plaintext"), py::arg("channel") = 0,
          "The packet for plaintext under the next counter; channel 0 datagram, 1 stream.")
      .def("counter", &Sealer::counter, "Counter of the last packet sealed; 0 before the first.")
      .def_property_readonly("sender", &Sealer::sender)
      .def_property_readonly("generation", &Sealer::generation);
}

void register_opener(py::module_& m) {
  py::class_<Opened>(m, "OpenedPacket", "An authenticated packet's header fields and plaintext.")
      .def_readonly("sender", &Opened::sender)
      .def_readonly("generation", &Opened::generation)
      .def_readonly("counter", &Opened::counter)
      .def_property_readonly("channel", [](const Opened& o) { return static_cast<int>(o.channel); })
      .def_readonly("key_id", &Opened::key_id)
      .def_property_readonly("plaintext", [](const Opened& o) { return py::bytes(o.plaintext); })
      .def("__repr__", &opened_repr);

  py::class_<Opener>(m, "Opener", "Opens packets from every sender, refusing forgeries, replays.")
      .def(py::init([](const Keyring& keyring, std::string label, std::size_t max_senders,
                       bool null_crypto) {
             return Opener(keyring, std::move(label), max_senders, to_mode(null_crypto));
           }),
           py::arg("keyring"), py::arg("label"), py::kw_only(),
           py::arg("max_senders") = kDefaultMaxSenders, py::arg("null_crypto") = false,
           py::keep_alive<1, 2>())
      .def("open", &open_packet, py::arg("packet"),
           "(status, OpenedPacket) on success, status 'ok'; (status, None) otherwise.")
      .def("counters", &counters_dict, "Calls to open by status name.")
      .def("tracked_senders", &Opener::tracked_senders, "Senders whose replay state is kept.")
      .def("evicted_senders", &Opener::evicted_senders, "Senders dropped to make room.");
}

}  // namespace

void register_crypto(py::module_& m) {
  m.attr("MAX_SENDER_BYTES") = kMaxSenderBytes;
  m.attr("MAX_LABEL_BYTES") = kMaxLabelBytes;
  m.attr("MAX_PACKET_PLAINTEXT_BYTES") = kMaxPacketPlaintextBytes;
  m.attr("PACKET_TAG_BYTES") = kPacketTagBytes;
  register_keyring(m);
  register_sealer(m);
  register_opener(m);
}

}  // namespace metaopt
