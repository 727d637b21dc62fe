"""R10: statistics that let organisers tune a level's bank, in the manner of Moodle's quiz
statistics. Pure functions over running sums, so each attempt event updates a question in
O(1) and nothing needs the attempts' history.

For a question on a graded paper, x is 1 when it was answered right, else 0, and y is the
number of the paper's *other* questions answered right. Then:

- facility index = mean x (the share of graded attempts that got it right);
- discrimination index = Pearson's r between x and y over the attempts (Moodle's
  "discrimination index": does getting this item right go with doing well on the rest?).

Under R12's rule (every question right to pass) a question with low facility blocks passes
on its own; one with low or negative discrimination is probably ambiguous or wrongly keyed.
Flags are only raised once a question has been graded `min_graded` times. The thresholds
are the STATS_* knobs (kernel/knobs.py has their defaults: 20 graded; a facility under 0.5
blocks passes under R12's 20/20; Moodle calls a discrimination under 0.2 "very weak" and a
negative one "invalid").
"""
from __future__ import annotations

import math


def add(stat, right: bool, rest_right: int) -> None:
    """Fold one graded appearance into a stat row (attributes as in models.QuestionStat)."""
    x = 1 if right else 0
    stat.shown += 1
    stat.graded += 1
    stat.right += x
    stat.sum_rest += rest_right
    stat.sum_rest_sq += rest_right * rest_right
    stat.sum_right_rest += x * rest_right


def remove(stat, right: bool, rest_right: int) -> None:
    """Take one graded appearance back out (a regrade replaces it with its corrected one)."""
    x = 1 if right else 0
    stat.shown -= 1
    stat.graded -= 1
    stat.right -= x
    stat.sum_rest -= rest_right
    stat.sum_rest_sq -= rest_right * rest_right
    stat.sum_right_rest -= x * rest_right


def facility(stat) -> float | None:
    return stat.right / stat.graded if stat.graded else None


def discrimination(stat) -> float | None:
    """Pearson's r of x and y; None while either has no spread (all right, or n < 2)."""
    n = stat.graded
    if n < 2:
        return None
    sx, sy = stat.right, stat.sum_rest
    var_x = n * sx - sx * sx  # Σx² = Σx for 0/1
    var_y = n * stat.sum_rest_sq - sy * sy
    if var_x <= 0 or var_y <= 0:
        return None
    return (n * stat.sum_right_rest - sx * sy) / math.sqrt(var_x * var_y)


def flags(stat, *, min_graded: int, facility_floor: float,
          discrimination_floor: float) -> list[str]:
    if stat.graded < min_graded:
        return []
    found = []
    f, d = facility(stat), discrimination(stat)
    if f is not None and f < facility_floor:
        found.append("blocks_passes")
    if d is not None and d < discrimination_floor:
        found.append("discriminates_badly")
    return found


def describe(stat, **limits) -> dict:
    """A question's figures and flags; `limits` are `flags`'s thresholds."""
    f, d = facility(stat), discrimination(stat)
    return {
        "shown": stat.shown, "graded": stat.graded, "right": stat.right,
        "wrong": stat.graded - stat.right,
        "facility": None if f is None else round(f, 4),
        "discrimination": None if d is None else round(d, 4),
        "flags": flags(stat, **limits),
    }
