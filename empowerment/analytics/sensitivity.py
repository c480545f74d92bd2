"""How strong hidden bias would have to be to explain a figure away.

- **E-value** (VanderWeele & Ding 2017, Annals of Internal Medicine 167:268): for a risk ratio RR
  (taken above 1), E = RR + sqrt(RR x (RR - 1)): the strength of association, on the risk-ratio
  scale, that an unmeasured factor would need with both recovery and return to explain the
  observed association away. The return uplift becomes a risk ratio as p1 / (p1 - uplift), p1 the
  recovered episodes' return rate; for the interval, the limit nearer no effect (E = 1 when the
  interval includes no effect).
- **ROI tipping point**: the share of the estimated extra margin that hidden bias would have to
  account for to bring the return on spend to zero: 1 - spend / extra margin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from empowerment.analytics.result import Figure


@dataclass(frozen=True)
class Sensitivity:
    e_value: float | None  # for the return uplift's estimate
    e_value_limit: float | None  # for its interval's limit nearer no effect (1.0 when it includes zero)
    roi_tipping_share: float | None  # of the extra margin; None when ROI is not shown or not above zero


def e_value(risk_ratio: float) -> float:
    ratio = risk_ratio if risk_ratio >= 1 else 1.0 / risk_ratio
    return ratio + math.sqrt(ratio * (ratio - 1.0))


def _risk_ratio(recovered_rate: float, uplift: float) -> float | None:
    baseline = recovered_rate - uplift
    if baseline <= 0 or recovered_rate <= 0:
        return None
    return recovered_rate / baseline


def sensitivity(uplift: Figure, recovered_rate: float | None, margin: Figure, spend_cents: int) -> Sensitivity:
    point = limit = tipping = None
    if uplift.shown and recovered_rate is not None and uplift.estimate is not None:
        ratio = _risk_ratio(recovered_rate, uplift.estimate)
        point = None if ratio is None else e_value(ratio)
        if uplift.could_be_zero:
            limit = 1.0
        elif uplift.low is not None and uplift.high is not None:
            nearer = uplift.low if uplift.estimate > 0 else uplift.high
            ratio = _risk_ratio(recovered_rate, nearer)
            limit = None if ratio is None else e_value(ratio)
    if margin.shown and margin.estimate is not None and spend_cents > 0 and margin.estimate > spend_cents:
        tipping = 1.0 - spend_cents / margin.estimate
    return Sensitivity(point, limit, tipping)
