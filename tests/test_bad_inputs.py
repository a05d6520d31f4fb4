"""Issue 13's bad-input table (``tests/bad_input_cases.py``), case by case: every bad command line
exits with status 2 and one ``error:`` line naming the field or file, with no traceback, no hang,
no changed input and no code run from a crafted file; the good inputs in disguise (outputs into
folders that do not exist yet) succeed; every library case raises a ScarGymError naming its field."""

from __future__ import annotations

from collections import Counter

import pytest

import bad_input_cases as bic

AGENT_CASES_NEED = ("agent-code/", "everyday/corrupt-agent-", "everyday/resume-", "resume/", "size/train-",
                    "agent-dir/")


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    f = tmp_path_factory.mktemp("bad_inputs") / "fixtures"
    bic.make_fixtures(f)
    return f


def _needs_rl(case_id: str) -> bool:
    return case_id.startswith(AGENT_CASES_NEED) or case_id.startswith(("everyday/train-", "train/"))


@pytest.mark.parametrize("case", bic.CASES, ids=[c.id for c in bic.CASES])
def test_bad_input(case, fixtures, tmp_path):
    if _needs_rl(case.id):
        pytest.importorskip("sb3_contrib")
    o = bic.run_case(case, tmp_path / "case", fixtures)
    assert not o.code_ran, "code from a crafted file ran"
    assert not o.changed, f"an input changed: {o.changed}"
    if case.expect == 0:
        assert o.kind == "ok", (o.kind, o.code, o.stderr[-400:], o.error)
        return
    assert o.kind == "clear", (o.kind, o.code, o.stderr[-400:], o.error)
    assert o.code == 2
    lines = [line for line in o.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), o.stderr
    assert case.field.lower() in lines[0].lower()


@pytest.mark.parametrize("case", bic.LIBRARY_CASES, ids=[c.id for c in bic.LIBRARY_CASES])
def test_bad_library_input(case, fixtures):
    kind, message = bic.run_lib_case(case, fixtures)
    assert kind == "clear", (kind, message)


def test_the_table_covers_every_finding_of_the_issue():
    per = Counter(c.category for c in bic.CASES) + Counter(c.category for c in bic.LIBRARY_CASES)
    assert set(per) == set(bic.CATEGORIES)
    ids = {c.id for c in bic.CASES} | {c.id for c in bic.LIBRARY_CASES}
    # the issue's own examples, by name
    for must in ("overwrite/evaluate-json-is-the-schedule", "overwrite/schedule-json-is-gantt",
                 "overwrite/layer-costs-csv-is-the-model", "agent-code/schedule-ppo-evil_data",
                 "mcm-yaml/package.clock_hz=nan", "mcm-yaml/package.dram_energy_j_per_bit=inf",
                 "layer-costs/batch=1000000000000", "size/scenario-batch=1000000000000", "size/mcm=het-sides-100x100",
                 "size/scar-sc8-10x10", "tamper/segment-stop=float", "tamper/segment-stop=string",
                 "tamper/segment-stop=bool", "tamper/segment-extra-element", "tamper/model-index=float",
                 "tamper/format=foreign", "tamper/changed-mcm-layout", "tamper/changed-scenario-batch",
                 "tamper/changed-scenario-model", "tamper/changed-mcm-layout-no-result",
                 "duplicate/two-csv-tables-one-name", "everyday/schedule-seed=-1", "everyday/resume-missing-zip",
                 "everyday/binary-layer-table-csv", "everyday/binary-schedule", "everyday/schedule-json-null",
                 "everyday/schedule-json-number", "everyday/schedule-meta-list", "everyday/schedule-json-infinity",
                 "env/Schedule-v0-reset-options-list", "env/Schedule-v0-action-list", "everyday/train-lr-inf",
                 "everyday/train-ent-nan", "everyday/resume-on-another-mcm", "outdir/schedule-json",
                 "outdir/evaluate-json", "outdir/layer-costs-csv"):
        assert must in ids, must
    assert sum(c.id.startswith("everyday/corrupt-agent-") and c.id.endswith("-schedule") for c in bic.CASES) >= 11
