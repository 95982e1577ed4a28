"""Choosing k with evidence: stability between resamples, the gap statistic, and a suggested
k that says which evidence supports it. Real sweeps on synthetic tracks in three known groups
(write_grouped_csv), and a cheap check on the shipped dataset."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import vl_convert

from spotclust import charts, warehouse
from spotclust.features import feature_source, resolve_features
from spotclust.model.config import ClusterConfig
from spotclust.model.projection import project
from spotclust.model.resampling import RESAMPLE_ROWS, fixed_sample, gap_rule, stability
from spotclust.model.selection import STABLE_ARI, suggest
from spotclust.runs.sweep import sweep

EVIDENCE_COLUMNS = (
    "k, stability_mean, stability_std, stability_pairs, gap, gap_se, gap_refs, is_knee, "
    "is_best_silhouette, is_most_stable, is_gap_choice, is_suggested, suggestion_reason"
)


@pytest.fixture(scope="module")
def swept(tmp_path_factory, grouped_template):
    """One sweep k = 1..7 with stability (default pairs) and the gap statistic."""
    db = tmp_path_factory.mktemp("swept") / "w.duckdb"
    shutil.copyfile(grouped_template, db)
    result = sweep(list(range(1, 8)), ClusterConfig(n_init=3), db, gap_refs=5)
    return db, result


def test_stability_is_near_1_at_the_true_k_and_lower_at_wrong_ones(swept):
    _, result = swept
    by_k = {r["k"]: r for r in result.rows}
    assert by_k[1]["stability_mean"] is None  # one cluster: nothing to reproduce
    assert by_k[3]["stability_mean"] > 0.99 and by_k[3]["stability_std"] < 0.01
    wrong = [by_k[k]["stability_mean"] for k in (4, 5, 6, 7)]
    assert all(s < 0.96 for s in wrong), wrong  # a real group cut at an arbitrary place
    assert np.mean(wrong) < 0.9
    assert all(by_k[k]["stability_std"] >= 0 for k in range(2, 8))


def test_gap_rule_picks_the_true_k(swept):
    _, result = swept
    gaps = {r["k"]: r["gap"] for r in result.rows}
    assert gaps[3] == max(gaps.values())  # three groups: far tighter than uniform data
    assert gaps[2] < gaps[3] and all(r["gap_se"] > 0 for r in result.rows)
    assert result.gap_k == 3


def test_suggestion_names_the_evidence_and_is_stored(swept, query):
    db, result = swept
    assert (result.knee_k, result.best_silhouette_k, result.gap_k) == (3, 3, 3)
    assert result.most_stable_k == 2  # k = 2 and 3 both reproduce exactly: the smaller wins
    assert result.suggested_k == 3
    assert result.evidence == (
        "knee of inertia: 3; best silhouette: 3; most stable: 2; gap rule: 3"
    )
    assert result.suggestion_reason.startswith(
        "the knee of inertia, the best silhouette and the gap rule, stable (adjusted Rand 1.00"
    )
    rows = query(db, f"SELECT {EVIDENCE_COLUMNS} FROM sweeps ORDER BY k")
    assert [r[0] for r in rows] == list(range(1, 8))
    stored = {r[0]: r for r in rows}
    for k, r in stored.items():
        mean, std, pairs, gap, gap_se, refs = r[1:7]
        assert (pairs, refs) == (10, 5)
        assert mean == pytest.approx(next(x for x in result.rows if x["k"] == k)["stability_mean"])
        assert gap is not None and gap_se is not None
    flagged = {
        name: [k for k, r in stored.items() if r[column]]
        for column, name in enumerate(["knee", "best", "stable", "gap", "suggested"], start=7)
    }
    assert flagged == {"knee": [3], "best": [3], "stable": [2], "gap": [3], "suggested": [3]}
    assert {r[12] for r in rows} == {result.suggestion_reason}


def test_same_seed_same_evidence(grouped_db, swept):
    _, first = swept
    again = sweep(list(range(1, 8)), ClusterConfig(n_init=3), grouped_db, gap_refs=5)
    for a, b in zip(first.rows, again.rows, strict=True):
        assert (a["stability_mean"], a["stability_std"], a["gap"], a["gap_se"]) == (
            b["stability_mean"],
            b["stability_std"],
            b["gap"],
            b["gap_se"],
        )
    other = sweep([4, 5], ClusterConfig(n_init=3, seed=1), grouped_db, gap_refs=0)
    assert [r["stability_mean"] for r in other.rows] != [
        r["stability_mean"] for r in first.rows if r["k"] in (4, 5)
    ]


def test_cli_sweep_prints_stability_gap_and_why(grouped_db, run_cli, query):
    run = run_cli("sweep", "--k", "2..6", "--gap", "--n-init", "3", "--db", grouped_db)
    assert run.exit_code == 0, run.output
    out = run.stdout
    assert "stability (ARI)" in out and "gap" in out and "1.000 ± 0.000" in out
    assert (
        "suggested k = 3 (knee of inertia: 3; best silhouette: 3; most stable: 2; gap rule: 3)"
        in out
    )
    assert "why: the knee of inertia, the best silhouette and the gap rule, stable" in out
    assert query(grouped_db, "SELECT DISTINCT stability_pairs, gap_refs FROM sweeps") == [(10, 5)]


def test_cli_sweep_without_stability_and_with_gap_refs(grouped_db, run_cli, query):
    run = run_cli(
        "sweep", "--k", "2..5", "--stability", "0", "--gap-refs", "3", "--n-init", "2",
        "--db", grouped_db,
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    assert "stability (ARI)" not in run.stdout and "most stable" not in run.stdout
    assert "gap rule: 3" in run.stdout and "why: " in run.stdout
    rows = query(
        grouped_db,
        "SELECT count(*), count(stability_mean), count(stability_pairs), min(gap_refs), "
        "count(*) FILTER (WHERE is_most_stable) FROM sweeps",
    )
    assert rows == [(4, 0, 0, 3, 0)]


def test_cli_sweep_without_any_new_evidence_keeps_the_old_output(grouped_db, run_cli):
    run = run_cli("sweep", "--k", "1..4", "--no-silhouette", "--stability", "0", "--db", grouped_db)
    assert run.exit_code == 0, run.output
    assert "suggested k = 3 (knee of inertia: 3; best silhouette: not scored)" in run.stdout
    assert "why: the knee of inertia" in run.stdout


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--stability", "-1"], "--stability -1"),
        (["--gap-refs", "1"], "--gap-refs 1"),
        (["--gap-refs", "-2"], "--gap-refs -2"),
    ],
)
def test_bad_evidence_options_fail_in_one_line(grouped_db, run_cli, assert_one_line_error,
                                               query, args, needle):  # fmt: skip
    run = run_cli("sweep", "--k", "2..4", *args, "--db", grouped_db)
    assert_one_line_error(run, needle)
    assert query(grouped_db, "SELECT count(*) FROM sweeps") == [(0,)]


# --------------------------------------------------------------------------- the rules


def test_suggest_keeps_the_knee_when_it_is_stable_or_unmeasured():
    assert suggest(4, 3, None, {}) == (4, "the knee of inertia")
    k, why = suggest(4, 3, None, {3: (0.99, 0.01), 4: (0.9, 0.05)})
    assert k == 4 and why.startswith("the knee of inertia, stable (adjusted Rand 0.90 ± 0.05")
    assert suggest(None, 3, None, {})[0] == 3
    assert suggest(None, None, 5, {})[0] == 5
    assert suggest(None, None, None, {})[0] is None


def test_suggest_moves_off_an_unstable_knee_to_the_next_stable_candidate():
    k, why = suggest(6, 6, 3, {3: (0.95, 0.02), 6: (0.6, 0.2)})
    assert k == 3
    assert why.startswith("the gap rule, stable (adjusted Rand 0.95")
    assert "the knee of inertia and the best silhouette (k = 6) is unstable" in why
    k, why = suggest(6, 5, None, {5: (0.5, 0.1), 6: (0.6, 0.2)})
    assert k == 6 and f"no candidate is stable (mean >= {STABLE_ARI})" in why


def test_gap_rule_uses_the_next_k_swept():
    # gap_k >= gap_next - s_next: 1 and 2 fail (0.5 < 0.9, 1.0 < 1.9), 3 holds (2.0 >= 1.95)
    assert gap_rule([1, 2, 3, 4], [0.5, 1.0, 2.0, 2.05], [0.1, 0.1, 0.1, 0.1]) == 3
    assert gap_rule([1, 2, 3], [0.5, 0.55, 2.0], [0.1, 0.1, 0.1]) == 1  # no structure
    assert gap_rule([2, 4, 8], [1.0, 2.0, 3.0], [0.1, 0.1, 0.1]) is None  # still rising
    assert gap_rule([2, 3], [None, None], [None, None]) is None


# --------------------------------------------------------------------------- the chart


def test_stability_chart_draws_both_panels_and_renders(swept):
    db, result = swept
    con = warehouse.connect(db, read_only=True)
    try:
        con.execute("SELECT 1").fetchall()  # no pending result before con.sql()
        data = charts.stability_data(con)
    finally:
        con.close()
    assert data["k"].to_list() == list(range(1, 8))
    spec = charts.stability_chart(data, run_k=3).to_dict()
    assert len(spec["hconcat"]) == 2
    assert spec["title"]["text"] == "Choosing k: stability and gap statistic"
    assert any(result.suggestion_reason in line for line in spec["title"]["subtitle"])
    assert vl_convert.vegalite_to_svg(spec).startswith("<svg")
    only_stability = data.with_columns(gap=None, gap_se=None)
    assert len(charts.stability_chart(only_stability).to_dict()["hconcat"]) == 1
    empty = charts.stability_chart([]).to_dict()
    assert "spotclust sweep" in str(empty)


# --------------------------------------------------------------------------- the real data


def test_stability_on_the_shipped_dataset(full_db):
    """Cheap: two k on a fixed sample of the real tracks; few stable clusterings at k = 8."""
    con = warehouse.connect(full_db, read_only=True)
    try:
        config = ClusterConfig()
        source = feature_source(con, resolve_features(con, None), "tracks")
        space = project(source.load().matrix, config, timings={}).model_space
    finally:
        con.close()
    sample = fixed_sample(space, seed=0)
    assert len(sample) == RESAMPLE_ROWS < len(space)
    three = stability(space, sample, 3, pairs=4, n_init=3, seed=0)
    eight = stability(space, sample, 8, pairs=4, n_init=3, seed=0)
    assert three[0] > 0.9 and eight[0] < three[0]
    assert stability(space, sample, 3, pairs=4, n_init=3, seed=0) == three
