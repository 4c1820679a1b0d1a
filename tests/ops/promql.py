"""The metric names a PromQL expression reads (enough PromQL for our rules and dashboards)."""

from __future__ import annotations

import re

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*")
_LANGUAGE = frozenset(
    {
        # aggregations and keywords
        *("sum", "min", "max", "avg", "count", "topk", "bottomk", "quantile", "stddev"),
        *("and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"),
        *("group_left", "group_right", "inf", "nan"),
        # functions
        *("rate", "irate", "increase", "delta", "deriv", "changes", "resets", "absent"),
        *("histogram_quantile", "clamp_min", "clamp_max", "vector", "scalar", "time"),
        *("abs", "round", "ceil", "floor", "label_replace", "predict_linear", "sort"),
        *("max_over_time", "min_over_time", "avg_over_time", "sum_over_time", "last_over_time"),
    }
)


def metric_names(expr: str) -> set[str]:
    """Identifiers of `expr` that are not PromQL: the metrics (series names) it selects."""
    text = _STRINGS.sub(" ", expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGES.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    return {name for name in _IDENTIFIER.findall(text) if name.lower() not in _LANGUAGE}
