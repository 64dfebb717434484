"""Experiments, trials, their statuses, their encoding and the rule that merges origins."""

from metaopt.records._curve import CurveIncrement
from metaopt.records._experiment import Experiment
from metaopt.records._forecast import forecast
from metaopt.records._format import FORMAT
from metaopt.records._format import Unreadable
from metaopt.records._keys import curve_key
from metaopt.records._keys import experiment_key
from metaopt.records._keys import tombstone_key
from metaopt.records._keys import trial_key
from metaopt.records._keys import trials_prefix
from metaopt.records._merge import merge_trial
from metaopt.records._status import ExperimentStatus
from metaopt.records._status import TrialStatus
from metaopt.records._summary import Summary
from metaopt.records._summary import best_trial
from metaopt.records._summary import objective_name
from metaopt.records._summary import ranked_trials
from metaopt.records._summary import summarize
from metaopt.records._summary import summarize_in
from metaopt.records._tombstone import Tombstone
from metaopt.records._trial import Metrics
from metaopt.records._trial import Trial
from metaopt.records._view import HistoryView
from metaopt.records._view import unknown_experiment

__all__ = [
    "FORMAT",
    "CurveIncrement",
    "Experiment",
    "ExperimentStatus",
    "HistoryView",
    "Metrics",
    "Summary",
    "Tombstone",
    "Trial",
    "TrialStatus",
    "Unreadable",
    "best_trial",
    "curve_key",
    "experiment_key",
    "forecast",
    "merge_trial",
    "objective_name",
    "ranked_trials",
    "summarize",
    "summarize_in",
    "tombstone_key",
    "trial_key",
    "trials_prefix",
    "unknown_experiment",
]
