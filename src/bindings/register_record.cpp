// Python view of engine/record.hpp. Conversions only: value crosses as bytes, origin and key as
// str, and a refused decode becomes metaopt._core.DecodeError (a ValueError) named after its
// DecodeStatus. Encoding errors stay ValueError, as pybind11 maps std::invalid_argument.
#include <pybind11/operators.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bindings/register.hpp"
#include "engine/record.hpp"

namespace py = pybind11;

namespace metaopt {
namespace {

// Thrown only here; register_exception turns it into metaopt._core.DecodeError.
class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Record make_record(std::string origin, std::string key, std::uint64_t version, std::uint64_t hlc,
                   const py::bytes& value) {
  return Record{std::move(origin), std::move(key), version, hlc, std::string(value)};
}

py::str record_repr(const Record& record) {
  return py::str("Record(origin={!r}, key={!r}, version={}, hlc={}, value={!r})")
      .format(record.origin, record.key, record.version, record.hlc, py::bytes(record.value));
}

// `where` prefixes the message, so a batch can say which item failed.
Record decode_or_throw(std::string_view bytes, const std::string& where) {
  Record record;
  const DecodeStatus status = decode_record(bytes, record);
  if (status != DecodeStatus::ok) {
    throw DecodeError(where + to_string(status));
  }
  return record;
}

std::vector<Record> decode_all(const py::iterable& items) {
  std::vector<Record> records;
  for (const py::handle item : items) {
    const std::string where = "item " + std::to_string(records.size());
    if (!py::isinstance<py::bytes>(item)) {
      throw py::type_error(where + " is " + Py_TYPE(item.ptr())->tp_name + ", not bytes");
    }
    const std::string_view bytes = py::reinterpret_borrow<py::bytes>(item);
    records.push_back(decode_or_throw(bytes, where + ": "));
  }
  return records;
}

void register_record_class(py::module_& m) {
  py::class_<Record>(m, "Record", "One replicated entry: value bytes written by origin.")
      .def(py::init(&make_record), py::arg("origin"), py::arg("key"), py::arg("version"),
           py::arg("hlc"), py::arg("value"))
      .def_readwrite("origin", &Record::origin)
      .def_readwrite("key", &Record::key)
      .def_readwrite("version", &Record::version)
      .def_readwrite("hlc", &Record::hlc)
      .def_property(
          "value", [](const Record& r) { return py::bytes(r.value); },
          [](Record& r, const py::bytes& value) { r.value = std::string(value); })
      .def(py::self == py::self)
      .def("__repr__", &record_repr);
}

}  // namespace

void register_record(py::module_& m) {
  m.attr("FORMAT_VERSION") = kRecordFormatVersion;
  m.attr("MAX_ORIGIN_BYTES") = kMaxOriginBytes;
  m.attr("MAX_KEY_BYTES") = kMaxKeyBytes;
  m.attr("MAX_VALUE_BYTES") = kMaxValueBytes;
  py::register_exception<DecodeError>(m, "DecodeError", PyExc_ValueError);
  register_record_class(m);

  m.def(
      "encode_record", [](const Record& r) { return py::bytes(encode_record(r)); },
      py::arg("record"), "Encode a record; ValueError when a field is over its bound.");
  m.def(
      "decode_record",
      [](const py::bytes& data) { return decode_or_throw(std::string_view(data), ""); },
      py::arg("data"), "Decode one record; DecodeError names the reason, e.g. 'bad_checksum'.");
  m.def("decode_records", &decode_all, py::arg("items"),
        "Decode many records; DecodeError names the first bad item, e.g. 'item 3: truncated'.");
}

}  // namespace metaopt
