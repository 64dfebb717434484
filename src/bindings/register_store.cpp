// Python view of engine/store.hpp. Conversions only: values cross as bytes, digests as
// dict[str, int], and apply's status as its name. pybind11 maps the engine's
// std::invalid_argument to ValueError and std::overflow_error to OverflowError.
#include <pybind11/operators.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <utility>
#include <vector>

#include "bindings/register.hpp"
#include "engine/store.hpp"

namespace py = pybind11;

namespace metaopt {
namespace {

bool same_delta(const OriginDelta& a, const OriginDelta& b) {
  return a.origin == b.origin && a.records == b.records && a.covered_up_to == b.covered_up_to;
}

py::str delta_repr(const OriginDelta& delta) {
  return py::str("OriginDelta(origin={!r}, records=<{} records>, covered_up_to={})")
      .format(delta.origin, delta.records.size(), delta.covered_up_to);
}

py::str store_repr(const Store& store) {
  return py::str("Store(origin={!r}, generation={}, records={})")
      .format(store.origin(), store.generation(), store.size());
}

void register_delta(py::module_& m) {
  py::class_<OriginDelta>(m, "OriginDelta",
                          "What a peer lacks of one origin: records, oldest first, and the "
                          "version the sender vouches for.")
      .def(py::init([](std::string origin, std::vector<Record> records, std::uint64_t covered) {
             return OriginDelta{std::move(origin), std::move(records), covered};
           }),
           py::arg("origin"), py::arg("records"), py::arg("covered_up_to"))
      .def_readwrite("origin", &OriginDelta::origin)
      .def_readwrite("records", &OriginDelta::records)
      .def_readwrite("covered_up_to", &OriginDelta::covered_up_to)
      .def("__eq__", &same_delta, py::is_operator())
      .def("__repr__", &delta_repr);
}

void register_store_class(py::module_& m) {
  py::class_<Store>(m, "Store", "One node's replica of every origin's records (Scuttlebutt).")
      .def(py::init<std::string, std::uint32_t>(), py::arg("origin"), py::arg("generation"))
      .def(
          "write",
          [](Store& s, std::string key, const py::bytes& value, std::uint64_t hlc) {
            return s.write(std::move(key), std::string(value), hlc);
          },
          py::arg("key"), py::arg("value"), py::arg("hlc"), "The next record under our origin.")
      .def(
          "apply", [](Store& s, const Record& r) { return to_string(s.apply(r)); },
          py::arg("record"), "Apply a pushed record: 'applied', 'stale', 'own' or 'rejected'.")
      .def("restore", &Store::restore, py::arg("records"), "Records persisted by an earlier boot.")
      .def("digest", &Store::digest, "Origin -> watermark, for watermarks above 0.")
      .def("deltas_for", &Store::deltas_for, py::arg("digest"), py::arg("byte_budget"),
           "What a peer with this digest lacks, within byte_budget bytes of records.")
      .def("apply_deltas", &Store::apply_deltas, py::arg("deltas"),
           "Apply a peer's deltas; returns the records newly applied.")
      .def("get", &Store::get, py::arg("origin"), py::arg("key"))
      .def("records_of", &Store::records_of, py::arg("origin"), "Held records, oldest first.")
      .def("origins", &Store::origins)
      .def("watermark", &Store::watermark, py::arg("origin"))
      .def("max_version", &Store::max_version, py::arg("origin"))
      .def("has_newer_than", &Store::has_newer_than, py::arg("origin"), py::arg("version"))
      .def("has_version", &Store::has_version, py::arg("origin"), py::arg("version"))
      .def("__copy__", [](const Store& s) { return Store(s); })
      .def(
          "__deepcopy__", [](const Store& s, const py::dict&) { return Store(s); }, py::arg("memo"))
      .def("__len__", &Store::size)
      .def("__repr__", &store_repr)
      .def_property_readonly("bytes", &Store::bytes)
      .def_property_readonly("origin", &Store::origin)
      .def_property_readonly("generation", &Store::generation)
      .def_property_readonly("own_version", &Store::own_version)
      .def_property_readonly("own_conflicts", &Store::own_conflicts);
}

}  // namespace

void register_store(py::module_& m) {
  m.attr("MAX_SEQ") = kMaxSeq;
  m.def("make_version", &make_version, py::arg("generation"), py::arg("seq"),
        "(generation << 32) | seq.");
  m.def("version_generation", &version_generation, py::arg("version"));
  m.def("version_seq", &version_seq, py::arg("version"));
  register_delta(m);
  register_store_class(m);
}

}  // namespace metaopt
