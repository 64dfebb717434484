// Python view of engine/hlc.hpp. Conversions only; pybind11 maps the engine's
// std::invalid_argument to ValueError and std::overflow_error to OverflowError.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings/register.hpp"
#include "engine/hlc.hpp"

namespace py = pybind11;

namespace metaopt {

void register_hlc(py::module_& m) {
  py::class_<Hlc>(m, "Hlc", "Hybrid logical clock; every call takes the caller's wall-clock ms.")
      .def(py::init<std::uint64_t>(), py::arg("max_offset_ms") = kHlcDefaultMaxOffsetMs)
      .def("now", &Hlc::now, py::arg("wall_ms"), "Timestamp for a local or send event.")
      .def("update", &Hlc::update, py::arg("remote"), py::arg("wall_ms"),
           "Merge a peer's timestamp; None if it is more than max_offset_ms ahead.")
      .def("last", &Hlc::last, "The latest timestamp handed out or restored.")
      .def("restore", &Hlc::restore, py::arg("ts"), "Raise the clock to at least ts.");

  m.def("hlc_pack", &hlc_pack, py::arg("physical_ms"), py::arg("logical"),
        "Pack 48-bit milliseconds and a 16-bit counter into one timestamp.");
  m.def("hlc_physical", &hlc_physical, py::arg("ts"), "Milliseconds part of a timestamp.");
  m.def("hlc_logical", &hlc_logical, py::arg("ts"), "Logical counter of a timestamp.");
}

}  // namespace metaopt
