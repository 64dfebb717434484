// metaopt._core: the compiled gossip core. Each register_* file binds one area of the engine;
// Pythonic conveniences belong in the metaopt package, on top of this module.
#include <pybind11/pybind11.h>

#include "bindings/register.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "metaopt's C++ gossip core (records, hybrid logical clock).";
  m.attr("__version__") = METAOPT_VERSION;
  metaopt::register_hlc(m);
  metaopt::register_record(m);
  metaopt::register_crypto(m);
  metaopt::register_store(m);
  metaopt::register_config(m);
  metaopt::register_sim(m);
  metaopt::register_node(m);
}
