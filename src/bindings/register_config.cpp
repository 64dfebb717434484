// Config: the engine's knobs, readable and writable from Python, and its two presets.
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>

#include "bindings/register.hpp"
#include "engine/config.hpp"

namespace py = pybind11;

namespace metaopt {

Config config_from(const py::object& value) {
  if (py::isinstance<Config>(value)) return value.cast<Config>();
  const auto name = value.cast<std::string>();
  if (name == "lan") return Config::lan();
  if (name == "local") return Config::local();
  throw std::invalid_argument("unknown config preset '" + name + "': use 'lan' or 'local'");
}

void register_config(py::module_& m) {
  py::class_<Config>(m, "Config", "Every knob of the gossip engine; times in milliseconds.")
      .def(py::init<>())
      .def_static("lan", &Config::lan, "memberlist's LAN defaults")
      .def_static("local", &Config::local, "loopback tests: millisecond timers")
      .def_readwrite("probe_interval_ms", &Config::probe_interval_ms)
      .def_readwrite("probe_timeout_ms", &Config::probe_timeout_ms)
      .def_readwrite("indirect_checks", &Config::indirect_checks)
      .def_readwrite("tcp_fallback", &Config::tcp_fallback)
      .def_readwrite("suspicion_mult", &Config::suspicion_mult)
      .def_readwrite("suspicion_max_mult", &Config::suspicion_max_mult)
      .def_readwrite("suspicion_confirmations", &Config::suspicion_confirmations)
      .def_readwrite("max_health", &Config::max_health)
      .def_readwrite("lifeguard", &Config::lifeguard)
      .def_readwrite("gossip_interval_ms", &Config::gossip_interval_ms)
      .def_readwrite("gossip_fanout", &Config::gossip_fanout)
      .def_readwrite("retransmit_mult", &Config::retransmit_mult)
      .def_readwrite("eager_push", &Config::eager_push)
      .def_readwrite("datagram_budget", &Config::datagram_budget)
      .def_readwrite("rumor_queue_bytes", &Config::rumor_queue_bytes)
      .def_readwrite("anti_entropy_interval_ms", &Config::anti_entropy_interval_ms)
      .def_readwrite("anti_entropy_budget", &Config::anti_entropy_budget)
      .def_readwrite("gossip_to_dead_ms", &Config::gossip_to_dead_ms)
      .def_readwrite("reconnect_interval_ms", &Config::reconnect_interval_ms)
      .def_readwrite("reap_dead_ms", &Config::reap_dead_ms)
      .def_readwrite("stall_threshold_ms", &Config::stall_threshold_ms)
      .def_readwrite("grace_ticks", &Config::grace_ticks);
}

}  // namespace metaopt
