"""The verdict rules of :mod:`medgraph.verdicts` and how a report carries them."""

import json

import pytest

from medgraph.reporting import Report
from medgraph.verdicts import (
    NO_NUMBER,
    PHANTOM,
    REPRODUCED,
    claim,
    wilson_interval,
    within_interval,
    within_tolerance,
)


def test_within_tolerance_uses_two_sd_or_the_floor():
    # 2 SD = 0.004 > floor 0.001: 0.9572 is 0.0043 above 0.9529, outside
    verdict, rule = within_tolerance(0.9529, 0.002, 0.9572, floor=0.001)
    assert verdict == "not reproduced (ours lower)" and "0.0040" in rule
    # the same gap inside a 0.005 floor
    assert within_tolerance(0.9529, 0.002, 0.9572, floor=0.005)[0] == REPRODUCED
    # one seed (SD undefined): the floor alone
    assert within_tolerance(0.95, float("nan"), 0.9405, floor=0.005)[0].endswith("(ours higher)")
    assert within_tolerance(0.95, None, None, floor=0.005)[0] == NO_NUMBER


def test_within_interval_and_claim():
    assert within_interval(0.70, 0.58, 0.80, 0.9672, "interval")[0] == (
        "not reproduced (ours lower)"
    )
    assert within_interval(0.70, 0.58, 0.80, 0.7213, "interval")[0] == REPRODUCED
    assert claim(True, "SNIC faster")[0] == REPRODUCED
    assert claim(False, "SMGNN best", "SMGNN 5th of 5") == (
        "not reproduced (SMGNN 5th of 5)",
        "SMGNN best",
    )


def test_wilson_interval_by_hand():
    # k = 47, n = 67, z = 1.96: p = 0.701493; centre = (p + z²/2n)/(1 + z²/n) = 0.690567,
    # half = z·sqrt(p(1-p)/n + z²/4n²)/(1 + z²/n) = 0.107120
    lo, hi = wilson_interval(47, 67)
    assert lo == pytest.approx(0.58345, abs=5e-5) and hi == pytest.approx(0.79769, abs=5e-5)
    assert wilson_interval(0, 10)[0] == pytest.approx(0.0, abs=1e-12)
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError, match="proportion"):
        wilson_interval(3, 0)


def test_a_phantom_run_is_never_comparable(tmp_path):
    rep = Report(tmp_path / "run", run_name="demo", profile="quick", seeds=[0])
    rep.add_dataset({"name": "wbc1", "source": "phantom", "n_images": 2})
    row = rep.compare("Dice", 0.99, 0.9572, "Table 1", verdict=(REPRODUCED, "a rule"))
    assert row.verdict == PHANTOM
    rep.finish()
    claims = (tmp_path / "run" / "claims.md").read_text()
    assert PHANTOM in claims and "0.9572" in claims


def test_a_real_run_keeps_its_verdict_and_rule(tmp_path):
    rep = Report(tmp_path / "run", run_name="demo", profile="paper", seeds=[0])
    rep.add_dataset({"name": "wbc1", "source": "real", "n_images": 300})
    rep.compare(
        "Dice", 0.95, 0.9572, "Table 1", verdict=within_tolerance(0.95, 0.001, 0.9572, 0.005)
    )
    rep.compare("IoU_r", 0.94, None, "Fig 6 (curve only)")
    payload = json.loads(rep.finish().read_text())
    first, second = payload["paper_comparison"]
    assert first["verdict"] == "not reproduced (ours lower)" and "max(2 SD" in first["rule"]
    assert second["verdict"] == NO_NUMBER
    assert any(t["name"] == "claims" for t in payload["tables"])
    # a missing published number beside a number prints as a dash, not NaN
    rows = (tmp_path / "run" / "claims.md").read_text().splitlines()[-2:]
    assert "nan" not in rows[1] and [c.strip() for c in rows[1].split("|")][3] == "–"
