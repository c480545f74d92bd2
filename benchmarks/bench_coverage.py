"""Coverage of the payoff's intervals on the synthetic generator's hard cases, over many seeds.

    python benchmarks/bench_coverage.py --seeds 40          # the full run (make bench)
    python benchmarks/bench_coverage.py --seeds 2 --smoke   # a few seconds (tests/unit)

Scenarios (analytics.synthetic.HardCases): the standard selection on loyalty with a +10-point
effect; nonlinear selection with effects that differ by customer (ATT != ATC) and a known extra
spend of $20 per recovered returner; no effect under selection; no effect with 30% of the quick
returners given a late gesture; no effect with heavy-tailed spend. For each seed the full
`compute_payoff` runs (B bootstrap draws over customers).

Reported per scenario, with the number of seeds: how often the return uplift's interval covers
the true ATT, and the revenue uplift's interval the true ATT on revenue (truth
"att_revenue_cents": expected revenue in the window with minus without recovery); under no
effect, how often the return uplift, the revenue uplift or the return on spend is shown as
reliable with an interval excluding the truth (a false positive; the truth for ROI is -100 %:
no extra margin, all spend lost); how often the return uplift and the revenue uplift are withheld
(not reliable).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from empowerment.analytics import PayoffRequest, compute_payoff  # noqa: E402
from empowerment.analytics.result import Figure  # noqa: E402
from empowerment.analytics.synthetic import HardCases, make_synthetic  # noqa: E402


@dataclass(frozen=True)
class Scenario:
    name: str
    effect: float
    hard: HardCases


SCENARIOS = (
    Scenario("standard, +10 points", 0.10, HardCases()),
    Scenario("nonlinear, ATT != ATC, +$20 spend", 0.10,
             HardCases(nonlinear_selection=True, heterogeneous=True, extra_spend_cents=2000)),
    Scenario("no effect, selection", 0.0, HardCases()),
    Scenario("no effect, 30% late gestures", 0.0, HardCases(late_share=0.3)),
    Scenario("no effect, heavy-tailed spend", 0.0, HardCases(heavy_tails=True)),
)


def covers(figure: Figure, truth: float) -> bool:
    return figure.low is not None and figure.high is not None and figure.low <= truth <= figure.high


def false_positive(figure: Figure, truth: float) -> bool:
    return figure.shown and not covers(figure, truth)


def run(scenario: Scenario, seeds: int, customers: int, bootstrap: int) -> dict[str, float]:
    counts = {"covered": 0, "revenue_covered": 0, "return_fp": 0, "revenue_fp": 0, "roi_fp": 0, "withheld": 0,
              "revenue_withheld": 0}
    for seed in range(seeds):
        incidents, gestures, transactions, people, truth = make_synthetic(
            customers, seed, true_effect=scenario.effect, hard=scenario.hard)
        result = compute_payoff(incidents, gestures, transactions, people,
                                PayoffRequest(bootstrap=bootstrap, seed=seed, as_of=truth["as_of"]))
        counts["covered"] += covers(result.return_uplift, truth["att_return"])
        counts["withheld"] += not result.return_uplift.shown
        counts["revenue_covered"] += covers(result.revenue_uplift_cents, truth["att_revenue_cents"])
        counts["revenue_withheld"] += not result.revenue_uplift_cents.shown
        if scenario.effect == 0.0:
            counts["return_fp"] += false_positive(result.return_uplift, 0.0)
            counts["revenue_fp"] += false_positive(result.revenue_uplift_cents, 0.0)
            counts["roi_fp"] += false_positive(result.return_on_spend, -1.0)
    return {name: value / seeds for name, value in counts.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--smoke", action="store_true", help="600 customers, 50 draws")
    args = parser.parse_args(argv)
    customers, bootstrap = (600, 50) if args.smoke else (args.customers, args.bootstrap)
    started = time.perf_counter()
    print(f"{args.seeds} seeds x {customers:,} customers, B={bootstrap}")
    print(f"{'scenario':<36}{'seeds':>6}{'covers ATT':>11}{'covers rev':>11}{'withheld':>10}{'rev withheld':>13}"
          f"{'FP return':>11}{'FP revenue':>12}{'FP ROI':>8}")
    for scenario in SCENARIOS:
        rates = run(scenario, args.seeds, customers, bootstrap)
        fp = [f"{rates[k]:.0%}" if scenario.effect == 0.0 else "" for k in ("return_fp", "revenue_fp", "roi_fp")]
        print(f"{scenario.name:<36}{args.seeds:>6}{rates['covered']:>11.0%}{rates['revenue_covered']:>11.0%}"
              f"{rates['withheld']:>10.0%}{rates['revenue_withheld']:>13.0%}{fp[0]:>11}{fp[1]:>12}{fp[2]:>8}",
              flush=True)
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
