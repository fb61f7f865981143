"""Time the rotate-and-watch widget's redraw per slider or checkbox change (median over changes).

Writes benchmarks/results/bench_widget.json.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import torch

from gcnn_edu.data import rotated_mnist
from gcnn_edu.files import write_json
from gcnn_edu.gconv import LiftingConv2d
from gcnn_edu.models import P4CNN
from gcnn_edu.runs import device_name
from gcnn_edu.widgets import rotate_and_watch

RESULTS = Path(__file__).parent / "results" / "bench_widget.json"


def main() -> None:
    torch.manual_seed(0)
    digit = rotated_mnist("test")[0][0]
    report: dict[str, object] = {"machine": device_name(torch.device("cpu")), "torch": torch.__version__}
    for name, net in (("p4m lifting layer, 4 channels", LiftingConv2d(1, 4, 5, "p4m")),
                      ("P4CNN", P4CNN())):
        widget = rotate_and_watch(net, digit)
        times = []
        for angle in range(15, 361, 15):
            for change in ("angle", "mirror"):
                start = time.perf_counter()
                if change == "angle":
                    widget.angle.value = angle
                else:
                    widget.mirror.value = not widget.mirror.value
                times.append(time.perf_counter() - start)
        report[name] = {"changes": len(times), "median_s": statistics.median(times), "max_s": max(times)}
    write_json(RESULTS, report)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
