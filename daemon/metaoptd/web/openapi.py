"""The OpenAPI 3.1 description of the dashboard's API (served at ``/api/openapi.json``)."""

from __future__ import annotations

from typing import Any

from metaopt import __version__

SORTS = ("created", "-created", "objective", "-objective", "steps", "-steps")
MAX_LIMIT = 1000  # trials in one page
MAX_TOP = 100  # trials on a leaderboard

_ERROR = {
    "description": "what is wrong, in the words the CLI uses",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "string"}},
            }
        }
    },
}
_NAME = {
    "name": "name",
    "in": "path",
    "required": True,
    "description": "the experiment's name",
    "schema": {"type": "string", "minLength": 1},
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_NUMBER_OR_NULL = {"type": ["number", "null"]}
_EXPERIMENT = {
    "type": "object",
    "required": ["name", "status", "algo", "counts", "best_value", "space", "command"],
    "properties": {
        "name": {"type": "string"},
        "status": {"type": "string"},
        "algo": {"type": "string"},
        "max_trials": {"type": "integer"},
        "objective": {"type": ["string", "null"]},
        "maximize": {"type": "boolean"},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "best_trial": {"type": ["string", "null"]},
        "best_value": _NUMBER_OR_NULL,
        "best_params": {"type": ["object", "null"]},
        "message": {"type": "string"},
        "space": {"type": "object", "additionalProperties": {"type": "string"}},
        "command": {"type": "array", "items": {"type": "string"}},
        "cwd": {"type": "string"},
        "created": {"type": "number"},
    },
}
_TRIAL = {
    "type": "object",
    "required": ["id", "status", "params", "objective", "steps", "node", "attempt"],
    "properties": {
        "id": {"type": "string"},
        "status": {"type": "string"},
        "params": {"type": "object"},
        "objective": _NUMBER_OR_NULL,
        "steps": {"type": "integer"},
        "node": {"type": "string"},
        "attempt": {"type": "integer"},
        "slot": {"type": ["string", "null"]},
        "gpu": {"type": ["string", "null"]},
        "created": {"type": "number"},
        "started": _NUMBER_OR_NULL,
        "ended": _NUMBER_OR_NULL,
        "checkpoint_step": {"type": ["integer", "null"]},
        "stderr_tail": {"type": "string"},
    },
}
_SERIES = {
    "type": "object",
    "required": ["experiment", "objective", "maximize", "history", "curves", "samples"],
    "properties": {
        "experiment": {"type": "string"},
        "objective": {"type": ["string", "null"]},
        "maximize": {"type": "boolean"},
        "history": {
            "type": "object",
            "description": "the best value up to each completed trial, in the order of samples",
            "required": ["best"],
            "properties": {"best": {"type": "array", "items": {"type": "number"}}},
        },
        "curves": {
            "type": "array",
            "description": "learning curves of the best trials, and of frozen or short ones",
            "items": {
                "type": "object",
                "required": ["id", "status", "steps", "values"],
                "properties": {
                    "id": {"type": "string"},
                    "status": {"type": "string"},
                    "steps": {"type": "array", "items": {"type": "integer"}},
                    "values": {"type": "array", "items": {"type": "number"}},
                },
            },
        },
        "samples": {
            "type": "object",
            "description": "the completed trials in the order they ended: their ids, objective "
            "values, and each parameter's value (a choice by its index in labels)",
            "required": ["trial_ids", "objective", "params"],
            "properties": {
                "trial_ids": {"type": "array", "items": {"type": "string"}},
                "objective": {"type": "array", "items": {"type": "number"}},
                "params": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "values", "labels", "log"],
                        "properties": {
                            "name": {"type": "string"},
                            "values": {"type": "array", "items": {"type": "number"}},
                            "labels": {"type": "array", "items": {"type": "string"}},
                            "log": {"type": "boolean"},
                        },
                    },
                },
            },
        },
        "failures": {
            "type": "array",
            "description": "failed trials grouped by the last line of their stderr",
            "items": {
                "type": "object",
                "required": ["signature", "count", "trial_ids", "example"],
                "properties": {
                    "signature": {"type": "string"},
                    "count": {"type": "integer"},
                    "trial_ids": {"type": "array", "items": {"type": "string"}},
                    "example": {"type": "string"},
                },
            },
        },
    },
}
_MEMBER = {
    "type": "object",
    "required": ["node", "state", "trials"],
    "properties": {
        "node": {"type": "string"},
        "state": {"type": "string"},
        "address": {"type": ["string", "null"]},
        "since_s": _NUMBER_OR_NULL,
        "running": {"type": "integer"},
        "self": {"type": "boolean"},
        "card": {
            "type": ["object", "null"],
            "description": "its slots, how many are free, its GPUs, as it last announced",
        },
        "trials": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["experiment", "id"],
                "properties": {
                    "experiment": {"type": "string"},
                    "id": {"type": "string"},
                    "gpu": {"type": ["string", "null"]},
                },
            },
        },
    },
}
_AUTH = {"401": _ERROR}
_WRITE = {"401": _ERROR, "403": _ERROR}  # no token; a request from another site
_STATE = _json(
    {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
    "what the daemon did, as `metaopt stop` or `resume` prints it",
)

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "metaoptd dashboard",
        "version": __version__,
        "description": "The experiments and trials this node holds (every node holds them all). "
        "Every write, and beyond loopback every request, needs the node's token "
        "(DATA_DIR/http.token): Authorization: Bearer TOKEN.",
    },
    "components": {
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Experiment": _EXPERIMENT, "Trial": _TRIAL},
    },
    "security": [{}, {"token": []}],
    "paths": {
        "/api/openapi.json": {
            "get": {
                "summary": "this document",
                "responses": {"200": _json({"type": "object"}, "the OpenAPI document")},
            }
        },
        "/api/state": {
            "get": {
                "summary": "what the page polls: a digest that changes with what the node shows",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["digest", "writable", "source"],
                            "properties": {
                                "digest": {"type": "string"},
                                "writable": {"type": "boolean"},
                                "source": {"type": "string"},
                            },
                        },
                        "writable is false for a page served from the store with no daemon",
                    ),
                    **_AUTH,
                },
            }
        },
        "/api/members": {
            "get": {
                "summary": "the cluster's members: state, slots, and the trials each runs",
                "responses": {
                    "200": _json({"type": "array", "items": _MEMBER}, "by node id"),
                    **_AUTH,
                },
            }
        },
        "/api/experiments": {
            "get": {
                "summary": "every experiment, with its counts and best value",
                "responses": {
                    "200": _json(
                        {"type": "array", "items": {"$ref": "#/components/schemas/Experiment"}},
                        "the experiments, oldest first",
                    ),
                    **_AUTH,
                },
            },
            "post": {
                "summary": "schedule an experiment: what `metaopt ARGS` run in cwd would submit",
                "description": "The arguments are checked by the CLI's own code: a malformed "
                "prior or a missing script is refused with the message the CLI prints.",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["cwd"],
                                "description": "args, or line: a command line split as a "
                                "shell splits it",
                                "properties": {
                                    "args": {"type": "array", "items": {"type": "string"}},
                                    "line": {"type": "string"},
                                    "cwd": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": _json(
                        {
                            "type": "object",
                            "required": ["name", "state"],
                            "properties": {
                                "name": {"type": "string"},
                                "state": {"type": "string"},
                            },
                        },
                        "created, resumed, or already running",
                    ),
                    "400": _ERROR,
                    **_WRITE,
                },
            },
        },
        "/api/experiments/{name}/stop": {
            "post": {
                "summary": "stop it: its running trials are interrupted and requeued",
                "parameters": [_NAME],
                "responses": {"200": _STATE, "404": _ERROR, **_WRITE},
            }
        },
        "/api/experiments/{name}/resume": {
            "post": {
                "summary": "start a stopped or broken one again; max_trials extends a done one",
                "parameters": [_NAME],
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": ["object", "null"],
                                "properties": {"max_trials": {"type": "integer", "minimum": 1}},
                            }
                        }
                    },
                },
                "responses": {"200": _STATE, "400": _ERROR, "404": _ERROR, **_WRITE},
            }
        },
        "/api/experiments/{name}": {
            "get": {
                "summary": "one experiment, with its space and command",
                "parameters": [_NAME],
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/Experiment"}, "the experiment"),
                    "404": _ERROR,
                    **_AUTH,
                },
            }
        },
        "/api/experiments/{name}/series": {
            "get": {
                "summary": "the numbers behind the plots (as `metaopt plot` draws them)",
                "parameters": [_NAME],
                "responses": {"200": _json(_SERIES, "the series"), "404": _ERROR, **_AUTH},
            }
        },
        "/api/experiments/{name}/leaderboard": {
            "get": {
                "summary": "the best trials over every experiment of the same script, and the "
                "best value of each experiment, oldest first",
                "parameters": [
                    _NAME,
                    {
                        "name": "top",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
                    },
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["experiments", "maximize", "top", "trend"],
                            "properties": {
                                "experiments": {"type": "array", "items": {"type": "string"}},
                                "maximize": {"type": "boolean"},
                                "top": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["experiment", "id", "value", "params"],
                                        "properties": {
                                            "experiment": {"type": "string"},
                                            "id": {"type": "string"},
                                            "value": {"type": "number"},
                                            "params": {"type": "object"},
                                        },
                                    },
                                },
                                "trend": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["experiment", "best"],
                                        "properties": {
                                            "experiment": {"type": "string"},
                                            "best": {"type": "number"},
                                        },
                                    },
                                },
                            },
                        },
                        "best first; the experiments of the script, this one first",
                    ),
                    "400": _ERROR,
                    "404": _ERROR,
                    **_AUTH,
                },
            }
        },
        "/api/experiments/{name}/importance": {
            "get": {
                "summary": "forest permutation importance of each parameter",
                "parameters": [_NAME],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["importance", "why"],
                            "properties": {
                                "importance": {
                                    "type": ["object", "null"],
                                    "additionalProperties": {"type": "number"},
                                },
                                "why": {"type": "string"},
                            },
                        },
                        "shares summing to 1, largest first; null, and why, when too few "
                        "trials completed",
                    ),
                    "404": _ERROR,
                    **_AUTH,
                },
            }
        },
        "/api/experiments/{name}/trials": {
            "get": {
                "summary": "one page of an experiment's trials",
                "parameters": [
                    _NAME,
                    {
                        "name": "offset",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 0, "default": 0},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 1000,
                            "default": 100,
                        },
                    },
                    {
                        "name": "sort",
                        "in": "query",
                        "description": "objective sorts best first; a leading - reverses",
                        "schema": {
                            "type": "string",
                            "enum": [
                                "created",
                                "-created",
                                "objective",
                                "-objective",
                                "steps",
                                "-steps",
                            ],
                            "default": "created",
                        },
                    },
                    {
                        "name": "status",
                        "in": "query",
                        "description": "only trials with this status (completed, failed...)",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["total", "offset", "limit", "trials"],
                            "properties": {
                                "experiment": {"type": "string"},
                                "objective": {"type": ["string", "null"]},
                                "total": {"type": "integer"},
                                "offset": {"type": "integer"},
                                "limit": {"type": "integer"},
                                "trials": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Trial"},
                                },
                            },
                        },
                        "the page: trials[offset:offset + limit] of total",
                    ),
                    "400": _ERROR,
                    "404": _ERROR,
                    **_AUTH,
                },
            }
        },
    },
}
