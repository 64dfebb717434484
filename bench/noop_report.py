"""A trial that only reports one metric: the no-op benchmark with the report path included."""

import metaopt

metaopt.report(0, loss=0.1)
