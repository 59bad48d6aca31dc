"""Drawing a call list for Slack: CPU per answer of a 75-line list, as the renderer writes it
(plain Block Kit dicts) beside the same blocks built through ``slack_sdk``'s block models, the
way the renderer drew them before (each text, button and block a model object, validated and
written out by ``to_dict``). A list that is reused unchanged costs little more than this to
answer, so it bounds how many lists a second one process can send.

    python -m bench render [--rows 75] [--repeat 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from slack_sdk.models.blocks import Block

from bot.slack.render import render
from commands.messages import Button, ButtonStyle, Field, Reply, Row


def call_list(rows: int) -> Reply:
    """A list as `list` answers it: per line a title, two reason lines, a balance and three buttons."""
    lines = tuple(
        Row(
            title=f"{i}. Cedar Ridge Dental Group {i} (DEMO-C{10000 + i})",
            detail="final invoice 3 days past due; $910 over 90 days\ncrosses 60 days past due on Wednesday",
            fields=(Field("Balance", f"${i},250.00"), Field("DPD", str(30 + i))),
            buttons=(
                Button("Log call", "log_call", {"customer": f"DEMO-C{10000 + i}"}, ButtonStyle.PRIMARY),
                Button("Promise", "promise", {"customer": f"DEMO-C{10000 + i}"}),
                Button("Paid", "paid", {"customer": f"DEMO-C{10000 + i}"}),
            ),
        )
        for i in range(1, rows + 1)
    )
    return Reply(title=f"Your call list for Mon 7 Dec 2026 ({rows} accounts)", rows=lines, private=True)


def through_models(reply: Reply) -> list[list[dict[str, Any]]]:
    """The same blocks, each read into slack_sdk's models and written out again."""
    return [[Block.parse(block).to_dict() for block in message.blocks] for message in render(reply)]


def cpu_ms(draw: Any, reply: Reply, repeat: int) -> float:
    """Median CPU milliseconds of one drawing."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        draw(reply)
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=75)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args(argv)
    reply = call_list(args.rows)
    assert through_models(reply) == [m.blocks for m in render(reply)], "the models write the same blocks"
    for _ in range(20):  # warm up both
        render(reply)
        through_models(reply)
    dicts, models = [], []
    for _ in range(3):  # alternate, so a noisy neighbour hits both alike
        dicts.append(cpu_ms(render, reply, args.repeat))
        models.append(cpu_ms(through_models, reply, args.repeat))
    best_dicts, best_models = min(dicts), min(models)
    print(
        f"{args.rows}-line list, {len(render(reply))} messages; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}\n"
        f"  plain dicts: {' / '.join(f'{d:.2f}' for d in dicts)} ms CPU (median of {args.repeat}, three rounds)\n"
        f"  slack_sdk models: {' / '.join(f'{m:.2f}' for m in models)} ms\n"
        f"  models / dicts: {best_models / best_dicts:.1f}x (best rounds)"
    )


if __name__ == "__main__":
    main()
