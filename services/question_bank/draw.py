"""R10: a paper is a uniformly random draw from the level's active questions (by the
difficulty mix where set), with question order and option order shuffled per paper."""
from __future__ import annotations

KEYS = "ABCDEF"


class BankTooSmall(Exception):
    def __init__(self, level: int, missing: int, bucket: str | None = None):
        where = f" ({bucket})" if bucket else ""
        super().__init__(
            f"level {level}'s bank is {missing} question(s) short of the draw{where}"
        )
        self.level, self.missing, self.bucket = level, missing, bucket


def pick(questions: list[dict], level: int, count: int, mix: dict | None, rng) -> list[dict]:
    """`count` questions without replacement; with a mix, that many of each difficulty."""
    if not mix:
        if len(questions) < count:
            raise BankTooSmall(level, count - len(questions))
        chosen = rng.sample(questions, count)
    else:
        chosen = []
        for difficulty, wanted in sorted(mix.items()):
            bucket = [q for q in questions if q["difficulty"] == difficulty]
            if len(bucket) < wanted:
                raise BankTooSmall(level, wanted - len(bucket), difficulty)
            chosen.extend(rng.sample(bucket, wanted))
    rng.shuffle(chosen)
    return chosen


def shown_options(question: dict) -> list[str]:
    return ["对", "错"] if question["type"] == "judge" else list(question["options"])


def paper(chosen: list[dict], rng) -> tuple[list[dict], dict]:
    """The questions as shown (options shuffled, relabelled A, B, ...) and the key."""
    shown, key = [], {}
    for number, q in enumerate(chosen, 1):
        texts = shown_options(q)
        order = list(range(len(texts)))
        if q["type"] != "judge":  # 对/错 stay in their usual order
            rng.shuffle(order)
        options = [{"key": KEYS[pos], "text": texts[i]} for pos, i in enumerate(order)]
        right = {KEYS[pos] for pos, i in enumerate(order) if i in q["answer"]}
        shown.append({"id": q["id"], "number": number, "type": q["type"],
                      "stem": q["stem"], "options": options})
        key[q["id"]] = sorted(right)
    return shown, key


def short_by(count: int, mix: dict | None, buckets: dict[str, int]) -> int:
    """How many active questions the bank lacks for one paper (0: every draw can be made):
    the draw's count, or each bucket of the mix, against the active questions it has. A
    level with any shortfall refuses every start (BankTooSmall)."""
    if mix:
        return sum(max(0, wanted - buckets.get(difficulty, 0))
                   for difficulty, wanted in mix.items())
    return max(0, count - sum(buckets.values()))


def shortfalls(level: int, count: int, mix: dict | None, buckets: dict[str, int]) -> list[str]:
    """What an organiser must fix before the level opens: the draw (or a mix bucket) needs
    more active questions than the bank has. The same words as the draw's refusal."""
    found = []
    if mix:
        for difficulty, wanted in sorted(mix.items()):
            have = buckets.get(difficulty, 0)
            if have < wanted:
                found.append(str(BankTooSmall(level, wanted - have, difficulty)))
    elif sum(buckets.values()) < count:
        found.append(str(BankTooSmall(level, count - sum(buckets.values()))))
    return found
