"""question_bank: paper draws from a 2,000-question level (target: under 5 ms a paper) and
question import speed, next to baselines measured in the same run.

    .venv/bin/python bench/question_draw.py [--questions 2000] [--draws 300]

Through the embedded platform's RPC (in-memory bus, SQLite):
- `ping` RPC: the baseline, what any call costs;
- `draw_paper` with the bank cached (the usual case: the level's bank version unchanged);
- `draw_paper` right after an edit (the bank reloaded from the database);
and in-process, without RPC: the draw itself (sample, shuffle, relabel). Then a 2,000-row
question sheet imported (JSON) in rows per second, next to reading and checking the same rows
with no database.
"""
import warnings

warnings.filterwarnings("ignore")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import base64  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import argparse  # noqa: E402
import time  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._platform import embedded  # noqa: E402
from challenge.demo import load_campaign  # noqa: E402
from kernel import sheets  # noqa: E402
from services.question_bank import draw  # noqa: E402
from services.question_bank.demo import demo_questions  # noqa: E402
from services.question_bank.questions import SHEET_COLUMNS, parse_row  # noqa: E402


def ms(samples, q=0.5):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def timed(fn):
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--draws", type=int, default=300)
    args = parser.parse_args()
    rows = demo_questions(1, count=args.questions, seed=7)
    data = json.dumps(rows, ensure_ascii=False).encode()

    parse_only = timed(lambda: [parse_row(r, {1}) for r in sheets.read_rows(
        data, "q.json", SHEET_COLUMNS)])
    bank = [dict(r, id=str(i), answer=[0], options=r["options"] or [])
            for i, r in enumerate(rows)]
    rng = random.SystemRandom()
    in_process = [timed(lambda: draw.paper(draw.pick(bank, 1, 20, None, rng), rng))
                  for _ in range(args.draws)]

    with embedded() as (platform, rpc):
        campaign = load_campaign(rpc, 2018, "system")
        cid = campaign["campaign_id"]
        content = base64.b64encode(data).decode()
        import_took = timed(lambda: rpc.question_bank.import_sheet(cid, content, "q.json"))
        again_took = timed(lambda: rpc.question_bank.import_sheet(cid, content, "q.json"))
        ping = [timed(rpc.question_bank.ping) for _ in range(args.draws)]
        rpc.question_bank.draw_paper(cid, 1)  # the first draw loads the bank
        cached = [timed(lambda: rpc.question_bank.draw_paper(cid, 1))
                  for _ in range(args.draws)]
        question = rpc.question_bank.list_questions(cid, limit=1)["items"][0]
        cold = []
        for i in range(20):
            rpc.question_bank.update_question("bench", question["id"],
                                              {"explanation": f"edit {i}"})
            cold.append(timed(lambda: rpc.question_bank.draw_paper(cid, 1)))

    base = statistics.median(ping) * 1000
    print(f"question bank: one level of {args.questions} questions, papers of 20; "
          "embedded platform (in-memory bus, SQLite)")
    print(f"{'what':<40}{'p50 ms':>9}{'p95 ms':>9}{'x ping':>9}")
    for name, samples in (("ping RPC (baseline)", ping),
                          ("draw_paper RPC, bank cached", cached),
                          ("draw_paper RPC, after an edit", cold),
                          ("draw in-process (no RPC, no database)", in_process)):
        print(f"{name:<40}{ms(samples):>9.2f}{ms(samples, 0.95):>9.2f}"
              f"{ms(samples) / base:>8.1f}x")
    print(f"draw_paper's own cost (p50 minus ping): {ms(cached) - base:.2f} ms (target < 5 ms)")
    print(f"import of {args.questions} questions (JSON): {import_took:.2f} s = "
          f"{args.questions / import_took:,.0f} rows/s; re-import (all unchanged) "
          f"{again_took:.2f} s; reading and checking alone (baseline) {parse_only:.3f} s = "
          f"{args.questions / parse_only:,.0f} rows/s")


if __name__ == "__main__":
    main()
