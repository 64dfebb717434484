// Python view of node/node.hpp: the gossip engine on real sockets, on its own network thread.
//
// Conversions only. Every method that takes the node's lock or waits releases the GIL, inside a
// sub-scope after its arguments are converted (pybind11#4748), and the network thread never
// touches Python, so a caller holding the GIL for seconds cannot stall the probes. Destroying a
// Node stops it (gracefully) with the GIL released too. The keyring is copied at construction:
// a Keyring is not thread-safe, and the node's thread must not share one with Python; rotating
// keys means making a new Node. pybind11 maps std::invalid_argument to ValueError and the
// "stopped" / "before start" std::logic_error to RuntimeError.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bindings/register.hpp"
#include "engine/engine.hpp"
#include "engine/keyring.hpp"
#include "node/node.hpp"

namespace py = pybind11;

namespace metaopt {
namespace {

// Destroying a Node joins its thread and may wait for the leave to flush: not with the GIL.
struct NodeDeleter {
  void operator()(Node* node) const {
    py::gil_scoped_release release;
    delete node;
  }
};
using NodeHolder = std::unique_ptr<Node, NodeDeleter>;

const char* kind_name(EngineEvent::Kind kind) {
  switch (kind) {
    case EngineEvent::Kind::member_alive:
      return "member_alive";
    case EngineEvent::Kind::member_suspect:
      return "member_suspect";
    case EngineEvent::Kind::member_dead:
      return "member_dead";
    case EngineEvent::Kind::member_left:
      return "member_left";
    case EngineEvent::Kind::record:
      return "record";
    case EngineEvent::Kind::stalled:
      return "stalled";
    case EngineEvent::Kind::rejected:
      return "rejected";
  }
  return "unknown";
}

std::shared_ptr<const Keyring> copy_keyring(const Keyring& source) {
  auto copy = std::make_shared<Keyring>();
  for (const std::uint8_t id : source.ids()) {
    const MasterKey* key = source.key(id);
    copy->add(id, std::string(reinterpret_cast<const char*>(key->data()), key->size()));
  }
  if (auto primary = source.primary()) copy->use(*primary);
  return copy;
}

NodeHolder make_node(const std::string& node_id, std::uint32_t generation, const Keyring& keyring,
                     std::string label, std::string bind_host, std::uint16_t port,
                     std::optional<std::string> advertise_host,
                     std::optional<std::uint16_t> advertise_port, std::optional<std::uint64_t> seed,
                     const py::object& config, const py::bytes& meta, int rcvbuf_bytes) {
  Identity identity{node_id, {}, generation, std::string(meta)};
  NodeOptions options;
  options.bind_host = std::move(bind_host);
  options.bind_port = port;
  options.advertise_host = advertise_host.value_or("");
  options.advertise_port = advertise_port.value_or(0);
  options.rcvbuf_bytes = rcvbuf_bytes;
  const Config cfg = config_from(config);
  auto keys = copy_keyring(keyring);
  std::random_device entropy;
  const std::uint64_t draw = seed ? *seed : (std::uint64_t{entropy()} << 32) | entropy();
  py::gil_scoped_release release;  // binding sockets may resolve a name
  return NodeHolder(new Node(cfg, std::move(identity), draw, std::move(keys), std::move(label),
                             std::move(options)));
}

py::list drain(Node& node, std::size_t max) {
  std::vector<EngineEvent> events;
  {
    py::gil_scoped_release release;
    events = node.drain_events(max);
  }
  py::list out;
  for (EngineEvent& e : events) out.append(py::cast(std::move(e)));
  return out;
}

py::dict stats_dict(const Node& node) {
  NodeStats stats;
  {
    py::gil_scoped_release release;
    stats = node.stats();
  }
  py::dict out;
  for (const auto& [name, value] : stats) out[py::str(name)] = value;
  return out;
}

py::str event_repr(const EngineEvent& e) {
  if (e.kind == EngineEvent::Kind::record) {
    return py::str("Event(kind='record', node={!r}, key={!r}, version={})")
        .format(e.node, e.record.key, e.record.version);
  }
  return py::str("Event(kind={!r}, node={!r}, addr={!r})")
      .format(kind_name(e.kind), e.node, e.addr);
}

py::str member_repr(const Member& m) {
  return py::str("Member(node={!r}, addr={!r}, state={!r}, incarnation={})")
      .format(m.node, m.addr, to_string(m.state), m.incarnation);
}

void register_event(py::module_& m) {
  py::class_<EngineEvent>(m, "Event", "Something the node's engine noticed; see Node.drain_events.")
      .def_property_readonly(
          "kind", [](const EngineEvent& e) { return kind_name(e.kind); },
          "member_alive, member_suspect, member_dead, member_left, record or stalled.")
      .def_readonly("node", &EngineEvent::node, "The member, or the record's origin.")
      .def_readonly("addr", &EngineEvent::addr)
      .def_property_readonly("meta", [](const EngineEvent& e) { return py::bytes(e.meta); })
      .def_property_readonly(
          "record",
          [](const EngineEvent& e) -> std::optional<Record> {
            if (e.kind != EngineEvent::Kind::record) return std::nullopt;
            return e.record;
          },
          "The record applied, for kind 'record'; else None.")
      .def("__repr__", &event_repr);
}

void register_member(py::module_& m) {
  py::class_<Member>(m, "Member", "One row of a node's member table.")
      .def_readonly("node", &Member::node)
      .def_readonly("addr", &Member::addr)
      .def_property_readonly(
          "state", [](const Member& x) { return to_string(x.state); },
          "alive, suspect, dead or left.")
      .def_readonly("incarnation", &Member::incarnation)
      .def_property_readonly("meta", [](const Member& x) { return py::bytes(x.meta); })
      .def_readonly("since_ms", &Member::since_ms, "When state last changed (node clock, ms).")
      .def_readonly("heard_ms", &Member::heard_ms,
                    "Last authenticated packet from it (node clock, ms); -1 if none yet.")
      .def("__repr__", &member_repr);
}

void register_node_class(py::module_& m) {
  using Release = py::call_guard<py::gil_scoped_release>;
  py::class_<Node, NodeHolder>(m, "Node",
                               "The gossip engine on a UDP socket and a TCP listener sharing one "
                               "port, run by its own network thread.")
      .def(py::init(&make_node), py::arg("node_id"), py::kw_only(), py::arg("generation"),
           py::arg("keyring"), py::arg("label") = "metaopt", py::arg("bind_host") = "127.0.0.1",
           py::arg("port") = 0, py::arg("advertise_host") = py::none(),
           py::arg("advertise_port") = py::none(), py::arg("seed") = py::none(),
           py::arg("config") = py::str("lan"), py::arg("meta") = py::bytes(),
           py::arg("rcvbuf_bytes") = 4 << 20)
      .def("start", &Node::start, Release(), "Start the network thread; no-op when running.")
      .def("stop", &Node::stop, py::arg("graceful") = true, Release(),
           "Leave (graceful) or just close, as a crash would; joins the thread. Idempotent.")
      .def_property_readonly("running",
                             [](const Node& node) {
                               py::gil_scoped_release release;
                               return node.running();
                             })
      .def("join", &Node::join, py::arg("addrs"), Release(),
           "Contact these host:port addresses to join their cluster.")
      .def(
          "write",
          [](Node& node, std::string key, const py::bytes& value, std::uint64_t hlc) {
            std::string bytes(value);
            py::gil_scoped_release release;
            return node.write(std::move(key), std::move(bytes), hlc);
          },
          py::arg("key"), py::arg("value"), py::arg("hlc"),
          "The next record under this node's origin, queued for gossip.")
      .def("restore", &Node::restore, py::arg("records"), Release(),
           "Records persisted by an earlier life of this node; before start only.")
      .def(
          "set_meta",
          [](Node& node, const py::bytes& meta) {
            std::string bytes(meta);
            py::gil_scoped_release release;
            node.set_meta(std::move(bytes));
          },
          py::arg("meta"), "New metadata, announced with a fresh incarnation.")
      .def("drain_events", &drain, py::arg("max") = 1024,
           "Remove and return up to max queued events, oldest first.")
      .def("event_fd", &Node::event_fd,
           "An eventfd, readable while events are queued (loop.add_reader).")
      .def("members", &Node::members, Release(), "The member table, this node included.")
      .def("digest", &Node::digest, Release(), "Origin -> watermark.")
      .def("get", &Node::get, py::arg("origin"), py::arg("key"), Release(),
           "The record held for (origin, key), or None.")
      .def("records", &Node::records, Release(),
           "Every record held, of every origin (to catch up after dropped events).")
      .def("stats", &stats_dict, "Engine and socket counters by name.")
      .def_property_readonly("address", &Node::address, "host:port where others reach us.")
      .def_property_readonly("clock_ms", &Node::now_ms,
                             "Milliseconds since this node was made: the clock of since_ms.")
      .def_property_readonly("node_id", &Node::node_id)
      .def(
          "__enter__",
          [](Node& node) -> Node& {
            py::gil_scoped_release release;
            node.start();
            return node;
          },
          py::return_value_policy::reference)
      .def(
          "__exit__",
          [](Node& node, const py::object&, const py::object&, const py::object&) {
            py::gil_scoped_release release;
            node.stop(true);
          },
          py::arg("exc_type"), py::arg("exc"), py::arg("tb"))
      .def("__repr__", [](const Node& node) {
        return py::str("Node({!r}, address={!r})").format(node.node_id(), node.address());
      });
}

}  // namespace

void register_node(py::module_& m) {
  register_event(m);
  register_member(m);
  register_node_class(m);
}

}  // namespace metaopt
