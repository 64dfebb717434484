// Simulation: N engines in virtual time, for tests and benchmarks of the protocol at scale.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <stdexcept>
#include <string>

#include "bindings/register.hpp"
#include "sim/simulation.hpp"

namespace py = pybind11;

namespace metaopt {
namespace {

py::dict to_dict(const sim::NodeReport& r) {
  py::dict d;
  d["node"] = r.node;
  d["up"] = r.up;
  d["bytes_sent"] = r.bytes_sent;
  d["health"] = r.health;
  d["datagrams_sent"] = r.stats.datagrams_sent;
  d["frames_sent"] = r.stats.frames_sent;
  d["packets_received"] = r.stats.packets_received;
  d["packets_rejected"] = r.stats.packets_rejected;
  d["messages_malformed"] = r.stats.messages_malformed;
  d["probes"] = r.stats.probes;
  d["probes_failed"] = r.stats.probes_failed;
  d["fallback_acks"] = r.stats.fallback_acks;
  d["suspicions"] = r.stats.suspicions;
  d["deaths"] = r.stats.deaths;
  d["refutations"] = r.stats.refutations;
  d["stalls"] = r.stats.stalls;
  d["records_applied"] = r.stats.records_applied;
  d["sync_exchanges"] = r.stats.sync_exchanges;
  d["sync_continued"] = r.stats.sync_continued;
  d["rumors_dropped"] = r.stats.rumors_dropped;
  return d;
}

}  // namespace

void register_sim(py::module_& m) {
  using sim::Simulation;
  py::class_<Simulation>(m, "Simulation",
                         "N gossip engines in virtual time over a seeded network model.")
      .def(py::init([](std::size_t nodes, std::uint64_t seed, const py::object& config, double loss,
                       std::int64_t latency_min_ms, std::int64_t latency_max_ms, bool encrypt) {
             if (loss < 0.0 || loss > 1.0) throw std::invalid_argument("loss must be in [0, 1]");
             if (latency_min_ms < 0 || latency_max_ms < latency_min_ms) {
               throw std::invalid_argument("need 0 <= latency_min_ms <= latency_max_ms");
             }
             sim::NetworkModel net{loss, latency_min_ms, latency_max_ms};
             return std::make_unique<Simulation>(nodes, seed, config_from(config), net, encrypt);
           }),
           py::arg("nodes"), py::arg("seed"), py::arg("config") = py::str("lan"),
           py::arg("loss") = 0.0, py::arg("latency_min_ms") = 1, py::arg("latency_max_ms") = 2,
           py::arg("encrypt") = false)
      .def_property_readonly("size", &Simulation::size)
      .def_property_readonly("now", &Simulation::now)
      .def("join_all", &Simulation::join_all)
      .def("run_until", &Simulation::run_until, py::arg("until_ms"),
           py::call_guard<py::gil_scoped_release>())
      .def("run_for", &Simulation::run_for, py::arg("ms"), py::call_guard<py::gil_scoped_release>())
      .def(
          "write",
          [](Simulation& s, std::size_t i, const std::string& key, const py::bytes& value,
             std::optional<std::uint64_t> hlc) { return s.write(i, key, std::string(value), hlc); },
          py::arg("node"), py::arg("key"), py::arg("value"), py::arg("hlc") = py::none())
      .def("keep_events", &Simulation::keep_events, py::arg("on"))
      .def("drain_events", &Simulation::drain_events, py::arg("node"))
      .def("restart_from", &Simulation::restart_from, py::arg("node"), py::arg("records"))
      .def("generation", &Simulation::generation, py::arg("node"))
      .def("crash", &Simulation::crash, py::arg("node"))
      .def("restart", &Simulation::restart, py::arg("node"), py::arg("keep_records"))
      .def("pause", &Simulation::pause, py::arg("node"), py::arg("ms"))
      .def("set_slow", &Simulation::set_slow, py::arg("node"), py::arg("extra_ms"))
      .def("set_loss", &Simulation::set_loss, py::arg("loss"))
      .def("partition", &Simulation::partition, py::arg("groups"))
      .def("heal", &Simulation::heal)
      .def("holders", &Simulation::holders, py::arg("record"))
      .def("first_held", &Simulation::first_held, py::arg("record"), py::arg("node"))
      .def("state_of", &Simulation::state_of, py::arg("observer"), py::arg("node"))
      .def("incarnation_of", &Simulation::incarnation_of, py::arg("observer"), py::arg("node"))
      .def("false_deaths", &Simulation::false_deaths)
      .def("death_times", &Simulation::death_times, py::arg("node"))
      .def("up", &Simulation::up, py::arg("node"))
      .def(
          "report", [](const Simulation& s, std::size_t i) { return to_dict(s.report(i)); },
          py::arg("node"))
      .def("digest", &Simulation::digest, py::arg("node"))
      .def("trace_hash", &Simulation::trace_hash);
}

}  // namespace metaopt
