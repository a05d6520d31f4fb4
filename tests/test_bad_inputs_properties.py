"""Random mutations of a valid MCM file, scenario file and schedule file (hypothesis): the command
that reads the file either succeeds with finite, positive numbers everywhere in its JSON output, or
exits with status 2 and one ``error:`` line -- never a traceback, a hang or a NaN."""

from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bad_input_cases as bic
from scar_gym.cli import main

VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2, 3, 30, 64, 65536, 65537, 10**12]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 0.5, 70.9, 1e-300, 1e300, float("nan"), float("inf"), -float("inf")]),
    st.text(max_size=6),
    st.sampled_from(["NSN", "eyecod", "paper", "tri", "t.csv", "", "scar-gym-schedule/1"]),
    st.booleans(),
    st.none(),
    st.lists(st.integers(min_value=-3, max_value=40), max_size=4),
    st.dictionaries(st.text(max_size=4), st.integers(min_value=-3, max_value=3), max_size=2),
)
#: One mutation: (operation, which path, value). Paths are every key/index of the document.
MUTATION = st.tuples(st.sampled_from(["set", "set", "delete", "add"]), st.integers(min_value=0, max_value=10**6),
                     VALUES)
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def mutate(doc: Any, mutations: list[tuple[str, int, Any]]) -> Any:
    """Apply the mutations to a deep copy of ``doc`` (the root itself may be replaced)."""
    doc = json.loads(json.dumps(doc))
    for op, which, value in mutations:
        paths = _paths(doc)
        path = paths[which % len(paths)]
        if not path:
            if op == "set":
                doc = value
            continue
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        key = path[-1]
        if op == "set":
            parent[key] = value
        elif op == "delete":
            del parent[key]
        elif isinstance(parent, dict):
            parent[f"x{which % 7}"] = value
        else:
            parent.append(value)
    return doc


def _finite(x: Any) -> bool:
    if isinstance(x, float):
        return math.isfinite(x)
    if isinstance(x, dict):
        return all(_finite(v) for v in x.values())
    if isinstance(x, list):
        return all(_finite(v) for v in x)
    return True


def run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


def check(code: int, err: str, out_json: Path, keys: tuple[str, ...]) -> None:
    """Status 2 with one error line, or status 0 with finite positive totals and finite numbers throughout."""
    lines = [line for line in err.splitlines() if line.strip()]
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        return
    assert code == 0, err
    doc = json.loads(out_json.read_text(), parse_constant=lambda c: pytest.fail(f"{c} in the output"))
    assert _finite(doc)
    for k in keys:
        assert math.isfinite(doc[k]) and doc[k] > 0, (k, doc[k])


@pytest.fixture(scope="module")
def schedule_doc(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("prop")
    (d / "sc.yaml").write_text(bic.dump(bic.SCENARIO))
    code, err = run(["schedule", "--scenario", str(d / "sc.yaml"), "--mcm", "het-sides-3x3", "--policy",
                     "standalone", "--json", str(d / "s.json")])
    assert code == 0, err
    return json.loads((d / "s.json").read_text())


#: YAML file kind -> (the valid document, the schedule command's --scenario/--mcm with {} for the file).
YAML_FILES = {"mcm": (bic.MCM, ["--scenario", "sc10", "--mcm", "{}"]),
              "scenario": (bic.SCENARIO, ["--scenario", "{}", "--mcm", "het-sides-3x3"])}


@pytest.mark.parametrize("kind", list(YAML_FILES))
@SETTINGS
@given(mutations=st.lists(MUTATION, min_size=1, max_size=3))
def test_mutated_yaml_files(tmp_path, kind, mutations):
    base, args = YAML_FILES[kind]
    path, out = tmp_path / f"{kind}.yaml", tmp_path / "out.json"
    out.unlink(missing_ok=True)
    path.write_text(yaml.safe_dump(mutate(base, mutations)))
    code, err = run(["schedule", *(a.format(path) for a in args), "--policy", "standalone", "--json", str(out)])
    check(code, err, out, ("latency_s", "energy_j", "edp_js"))


@SETTINGS
@given(st.lists(MUTATION, min_size=1, max_size=3), st.booleans())
def test_mutated_schedule_files(tmp_path, schedule_doc, mutations, rescore):
    path, out = tmp_path / "s.json", tmp_path / "out.json"
    out.unlink(missing_ok=True)
    path.write_text(json.dumps(mutate(schedule_doc, mutations)))
    code, err = run(["evaluate", str(path), "--json", str(out), *(["--rescore"] if rescore else [])])
    check(code, err, out, ("latency_s", "energy_j", "edp_js"))


def test_the_mutations_reach_both_outcomes(tmp_path, schedule_doc):
    """The property above cannot pass vacuously: an edit of a number the schedule does not depend on is
    scored (status 0), a broken one refused (status 2)."""
    path, out = tmp_path / "s.json", tmp_path / "out.json"
    path.write_text(json.dumps(mutate(schedule_doc, [("set", 0, schedule_doc)])))
    assert run(["evaluate", str(path), "--json", str(out)])[0] == 0
    doc = json.loads(json.dumps(schedule_doc))
    doc["windows"][0][0]["segments"][0][1] = 70.9
    path.write_text(json.dumps(doc))
    code, err = run(["evaluate", str(path)])
    assert code == 2 and "windows[0][0].segments[0]" in err
