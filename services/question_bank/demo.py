"""Demo questions: neutral, marked 【演示】, and answerable from the stem alone, so a person
can play the demo and a test can answer a paper from what the member sees (`solve_demo`)."""
from __future__ import annotations

import random
import re

PREFIX = "【演示】"


def _single(rng, level):
    hi = 10 * level + 10
    a, b = rng.randint(1, hi), rng.randint(1, hi)
    right = a + b
    wrong = set()
    while len(wrong) < 3:
        candidate = right + rng.choice([-3, -2, -1, 1, 2, 3, 10, -10])
        if candidate > 0 and candidate != right:
            wrong.add(candidate)
    options = [str(x) for x in [right, *wrong]]
    rng.shuffle(options)
    return {"type": "single", "stem": f"{PREFIX}{a} + {b} = ?", "options": options,
            "answer": "ABCDEF"[options.index(str(right))]}


def _judge(rng, level):
    n = rng.randint(1, 50 * level)
    claim_even = rng.random() < 0.5
    truth = (n % 2 == 0) == claim_even
    stem = f"{PREFIX}{n} 是{'偶数' if claim_even else '奇数'}。"
    return {"type": "judge", "stem": stem, "options": [], "answer": "对" if truth else "错"}


def _multiple(rng, level):
    count = rng.choice([4, 5])
    while True:
        numbers = rng.sample(range(1, 20 * level + 20), count)
        evens = [x for x in numbers if x % 2 == 0]
        if 0 < len(evens) < count:
            break
    options = [str(x) for x in numbers]
    answer = "".join("ABCDEF"[i] for i, x in enumerate(numbers) if x % 2 == 0)
    return {"type": "multiple", "stem": f"{PREFIX}下列哪些数是偶数？", "options": options,
            "answer": answer}


def demo_questions(level: int, count: int = 30, seed: int = 0) -> list[dict]:
    """Rows in the import's shape; harder levels use bigger numbers."""
    rng = random.Random(f"demo-{level}-{seed}")
    makers = [_single, _judge, _multiple]
    difficulty = "easy" if level <= 4 else "medium" if level <= 8 else "hard"
    rows, seen = [], set()
    for i in range(count):
        row = makers[i % 3](rng, level)
        tries = 0
        while (row["stem"], tuple(row["options"])) in seen:  # distinct, as a real bank is
            tries += 1
            row = makers[i % 3](rng, level)
            if tries > 20:  # a big demo bank runs out of small numbers: number the stem
                row["stem"] += f"（{i}）"
        seen.add((row["stem"], tuple(row["options"])))
        row.update(level=level, explanation="演示题，仅供体验。", difficulty=difficulty,
                   topic="演示", demo=True)
        rows.append(row)
    return rows


def solve_demo(question: dict) -> list[str]:
    """The keys a demo paper question wants, from its stem and options as shown."""
    stem, options = question["stem"], question["options"]
    if question["type"] == "single":
        a, b = map(int, re.findall(r"(\d+) \+ (\d+)", stem)[0])
        return [o["key"] for o in options if o["text"] == str(a + b)]
    if question["type"] == "judge":
        n = int(re.findall(r"(\d+) 是", stem)[0])
        truth = (n % 2 == 0) == ("偶数" in stem)
        return [o["key"] for o in options if o["text"] == ("对" if truth else "错")]
    return sorted(o["key"] for o in options if int(o["text"]) % 2 == 0)
