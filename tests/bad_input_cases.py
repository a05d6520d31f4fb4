"""The bad-input table of issue 13: command lines an adversarial new user would try, with what each must do.

Every case is a ``scar-gym`` command line (run in-process through :func:`scar_gym.cli.main`) whose
answer must be exit status 2 and one ``error:`` line on stderr naming ``field`` (a field, flag or
file name), with no traceback, no hang, no changed input file (``keep``) and no code run from a
file (the ``PWNED`` marker). A few cases are good inputs in disguise (``expect=0``: an output into a
folder that does not exist yet is created, ``creates``).

The table is shared by ``tests/test_bad_inputs.py`` (the fast suite: every case must pass) and
``scripts/bad_input_sweep.py`` (the issue's table of categories: clear error / traceback / hang /
silently accepted / note only, counted over the same cases, also against an older checkout).
Fixture files live in one shared folder (``{f}`` in an argv) built by :func:`make_fixtures`; a
case's own files (``files``: name -> text, bytes, or a function of the shared folder) go to its own
folder (``{d}``), which is also the working directory while it runs.

``category`` is the issue's finding the case belongs to (:data:`CATEGORIES`); ``new`` marks cases
that use a flag added by the fix (``--trust``, ``--rescore``), left out of the before/after counts.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import signal
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

#: The issue's findings, in its order.
CATEGORIES = {
    "overwrite": "1. an output path equal to an input",
    "agent-code": "2. loading an agent runs code from the file",
    "nonfinite": "3. wrong numbers with exit 0 (NaN, infinity, overflow)",
    "size": "4. hangs on accepted input (sizes)",
    "tamper": "5. tampered schedules are scored",
    "duplicate": "6. duplicate model names",
    "everyday": "7. tracebacks for everyday mistakes",
    "resume": "8. resume loses work",
    "kind": "every case of their kind (other fields, flags and files)",
}

Content = "str | bytes | Callable[[Path], str | bytes]"


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    field: str
    category: str = "kind"
    files: tuple[tuple[str, Any], ...] = ()
    keep: tuple[str, ...] = ()  # input files (after formatting) that must not change
    expect: int = 2
    creates: tuple[str, ...] = ()  # files an expect=0 case must have written
    new: bool = False
    timeout: float = 60.0


CASES: list[Case] = []


def case(id: str, argv: str | list[str], field: str, category: str = "kind", files: dict | None = None,
         **kw: Any) -> None:
    args = tuple(argv.split()) if isinstance(argv, str) else tuple(argv)
    if any(c.id == id for c in CASES):
        raise ValueError(f"duplicate case id {id}")
    CASES.append(Case(id, args, field, category, tuple((files or {}).items()), **kw))


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False)


# -- fixtures ------------------------------------------------------------------------------------

SCENARIO = {"id": "mysc", "use_case": "outdoors", "domain": "arvr",
            "models": [{"model": "d2go", "batch": 30}, {"model": "emformer", "batch": 3}]}
MCM = {"name": "m", "layout": "NSN/NSN/NSN", "topology": "mesh",
       "chiplet": {"l2_bytes": 10485760, "l1_bytes_per_pe": 512, "noc_bw": 1000.0, "offchip_bw": 256.0,
                   "noc_hop_cycles": 1, "shi": {"offchip_bw": 128.0}},
       "package": {"clock_hz": 500000000.0, "dram_latency_s": 2.0e-07, "dram_energy_j_per_bit": 1.48e-11,
                   "dram_bandwidth_bytes_per_s": 64000000000.0, "nop_hop_latency_s": 3.5e-08,
                   "nop_energy_j_per_bit": 2.04e-12, "nop_bandwidth_bytes_per_s": 100000000000.0,
                   "bytes_per_element": 1}}
TABLE = {"name": "tiny", "description": "two convs",
         "layers": [{"name": "c1", "op": "conv", "k": 8, "c": 3, "y_in": 32, "x_in": 32, "r": 3, "s": 3, "pad": 1},
                    {"name": "c2", "op": "conv", "k": 8, "c": 8, "y_in": 32, "x_in": 32, "r": 3, "s": 3, "pad": 1}]}
TABLE_CSV = "name,op,k,c,y_in,x_in,r,s,stride,pad,groups,inputs\nc1,conv,8,3,32,32,3,3,1,1,1,\nc2,conv,8,8,32,32,3,3,1,1,1,\n"
BINARY = bytes(range(256)) * 4
#: Train config of the crafted agents and of the train cases (configs/train/smoke.yaml, inlined).
SMOKE = {"env_id": "scar_gym:ScarGym/Schedule-v0",
         "env_kwargs": {"reward": "edp_log_ratio_shaped", "reference": "standalone"},
         "mcm": "het-sides-3x3",
         "scenarios": {"train": {"source": "list", "ids": ["sc8"]}, "eval": {"source": "list", "ids": ["sc10"]}},
         "n_envs": 1, "vec_env": "dummy", "n_timesteps": 256, "seed": 0,
         "policy": {"extractor": "mlp", "net_arch": [16, 16]},
         "ppo": {"n_steps": 64, "batch_size": 32, "n_epochs": 2, "gamma": 0.99, "learning_rate": 3.0e-4,
                 "ent_coef": 0.01},
         "eval": {"freq": 128, "episodes": 1, "reference": "standalone"},
         "checkpoint": {"freq": 128}, "progress_bar": False}
#: What a crafted file's code does if it ever runs: it writes this marker beside the fixtures.
MARKER = "PWNED"


class _Evil:
    """Unpickling this runs ``exec`` on its code: what a crafted agent file would carry."""

    def __init__(self, code: str):
        self.code = code

    def __reduce__(self):
        return (exec, (self.code,))


def _evil_code(f: Path) -> str:
    return f"open({str(f / MARKER)!r}, 'w').write('code from a file ran')"


def make_fixtures(f: Path) -> None:
    """The shared files: a valid scenario, MCM, layer tables, schedule, SB3 agent zip and crafted agents."""
    from scar_gym.cli import main

    f.mkdir(parents=True, exist_ok=True)
    (f / "sc.yaml").write_text(dump(SCENARIO))
    (f / "mcm.yaml").write_text(dump(MCM))
    (f / "tiny.yaml").write_text(dump(TABLE))
    (f / "tiny.csv").write_text(TABLE_CSV)
    (f / "bin.bin").write_bytes(BINARY)
    (f / "empty.txt").write_text("")
    (f / "adir").mkdir(exist_ok=True)
    (f / "smoke.yaml").write_text(dump(SMOKE))
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["schedule", "--scenario", str(f / "sc.yaml"), "--mcm", "het-sides-3x3", "--policy",
                     "standalone", "--json", str(f / "s.json")])
    assert code == 0, "cannot make the fixture schedule"
    (f / "sc_table.yaml").write_text(dump({**SCENARIO, "models": [{"model": str(f / "tiny.csv"), "batch": 2}]}))
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["schedule", "--scenario", str(f / "sc_table.yaml"), "--mcm", "het-sides-3x3", "--policy",
                     "standalone", "--json", str(f / "ts.json")])
    assert code == 0, "cannot make the fixture schedule of a layer table"
    _make_agents(f)


def _make_agents(f: Path) -> None:
    """``zipagent/``: a valid SB3 zip (untrained) beside its config.yaml, and crafted variants."""
    try:
        import torch
        from sb3_contrib import MaskablePPO
    except ImportError:  # no rl extra: the agent cases are skipped
        return
    from agents.config import config_from_dict
    from agents.envs import make_vec

    za = f / "zipagent"
    za.mkdir(exist_ok=True)
    (za / "config.yaml").write_text(dump(SMOKE))
    cfg = config_from_dict(SMOKE)
    venv = make_vec(cfg, "train")
    model = MaskablePPO("MultiInputPolicy", venv, n_steps=64, batch_size=32, seed=0, device="cpu",
                        policy_kwargs={"net_arch": [16, 16]})
    model.save(str(za / "valid.zip"))
    other = MaskablePPO("MultiInputPolicy", venv, n_steps=64, batch_size=32, seed=0, device="cpu",
                        policy_kwargs={"net_arch": [8]})
    other.save(str(za / "other_arch.zip"))
    venv.close()
    _make_agent_dirs(f, model, other, cfg.to_dict())
    valid = (za / "valid.zip").read_bytes()
    with zipfile.ZipFile(za / "valid.zip") as z:
        parts = {n: z.read(n) for n in z.namelist()}

    def rezip(name: str, **changes: bytes | None) -> None:
        with zipfile.ZipFile(za / name, "w") as z:
            for n, data in {**parts, **changes}.items():
                if data is not None:
                    z.writestr(n, data)

    evil_pickle = _pickle_evil(f)
    data = json.loads(parts["data"])
    data["observation_space"][":serialized:"] = base64.b64encode(evil_pickle).decode()
    rezip("evil_data.zip", data=json.dumps(data).encode())
    buf = io.BytesIO()
    torch.save(_Evil(_evil_code(f)), buf)
    rezip("evil_pth.zip", **{"policy.pth": buf.getvalue()})
    (za / "empty.zip").write_bytes(b"")
    (za / "text.zip").write_text("not a zip\n")
    (za / "truncated.zip").write_bytes(valid[: len(valid) // 2])
    rezip("no_data.zip", data=None)
    rezip("data_not_json.zip", data=b"{not json")
    rezip("no_policy.zip", **{"policy.pth": None})
    rezip("bad_pth.zip", **{"policy.pth": BINARY})
    garbled = json.loads(parts["data"])
    garbled["observation_space"][":serialized:"] = "!!!not base64!!!"
    rezip("garbled_space.zip", data=json.dumps(garbled).encode())
    with zipfile.ZipFile(za / "other_arch.zip") as z:
        other_pth = z.read("policy.pth")
    rezip("wrong_shapes.zip", **{"policy.pth": other_pth})
    (za / "dir.zip").mkdir(exist_ok=True)
    # a run directory whose only model is a crafted zip
    run = f / "evilrun"
    run.mkdir(exist_ok=True)
    (run / "config.yaml").write_text(dump(SMOKE))
    (run / "best_model.zip").write_bytes((za / "evil_data.zip").read_bytes())


#: Crafted agent directories (the weights-only format): name -> (what is done to a valid one, field named).
AGENT_DIRS = {
    "no-agent-json": ("agent.json removed", "no agent in"),
    "agent-json-not-json": ("agent.json is not JSON", "agent.json"),
    "agent-json-list": ("agent.json is a list", "top level"),
    "format": ("format is another tool's", "format"),
    "unknown-field": ("an unknown top-level field", "pickle"),
    "extractor-os-system": ("the extractor names os:system", "network.features_extractor"),
    "extractor-kwargs": ("the extractor takes a made-up keyword", "features_extractor_kwargs"),
    "activation": ("an unknown activation", "network.activation"),
    "net-arch-huge": ("a hidden layer of 10**9 units", "network.net_arch"),
    "obs-shape-huge": ("an observation of 10**12 elements", "observation_space"),
    "space-type": ("a space type that does not exist", "observation_space"),
    "weights-missing": ("policy.pt removed", "weights"),
    "weights-changed": ("policy.pt edited after agent.json was written", "weights"),
    "weights-evil-pickle": ("policy.pt is a pickle that runs code (SHA-256 updated to match)", "weights"),
    "weights-other-network": ("policy.pt of another network (SHA-256 updated)", "weights"),
    "weights-not-a-dict": ("policy.pt holds a list of tensors (SHA-256 updated)", "weights"),
    "train-config-cartpole": ("the training config names CartPole", "env_id"),
    "train-config-nan": ("the training config has learning_rate NaN", "learning_rate"),
}


def _make_agent_dirs(f: Path, model: Any, other: Any, config: dict) -> None:
    """``agents/valid`` (an agent directory) and one crafted copy of it per :data:`AGENT_DIRS` entry."""
    try:
        from agents.agentfile import save_agent
    except ImportError:  # a checkout without the weights-only format: these cases are "new"
        return
    import hashlib
    import shutil

    import torch

    root = f / "agents"
    valid = save_agent(model.policy, root / "valid", config)
    doc = json.loads((valid / "agent.json").read_text())
    weights = (valid / "policy.pt").read_bytes()

    def state_bytes(obj: Any) -> bytes:
        buf = io.BytesIO()
        torch.save(obj, buf)
        return buf.getvalue()

    for name in AGENT_DIRS:
        d = root / name
        shutil.copytree(valid, d)
        j = json.loads(json.dumps(doc))
        new_weights = None
        if name == "no-agent-json":
            (d / "agent.json").unlink()
            continue
        if name == "agent-json-not-json":
            (d / "agent.json").write_text("{format: nope")
            continue
        if name == "agent-json-list":
            j = [j]
        elif name == "format":
            j["format"] = "other-tool/1"
        elif name == "unknown-field":
            j["pickle"] = "gASV"
        elif name == "extractor-os-system":
            j["network"]["features_extractor"] = "os:system"
        elif name == "extractor-kwargs":
            j["network"]["features_extractor_kwargs"] = {"exec": "print(1)"}
        elif name == "activation":
            j["network"]["activation"] = "eval"
        elif name == "net-arch-huge":
            j["network"]["net_arch"]["pi"] = [10**9]
        elif name == "obs-shape-huge":
            j["observation_space"]["spaces"]["global"]["shape"] = [10**6, 10**6]
        elif name == "space-type":
            j["observation_space"]["spaces"]["global"]["type"] = "Pickled"
        elif name == "weights-missing":
            (d / "policy.pt").unlink()
        elif name == "weights-changed":
            (d / "policy.pt").write_bytes(weights[:-10] + bytes(10))
        elif name == "weights-evil-pickle":
            new_weights = state_bytes(_Evil(_evil_code(f)))
        elif name == "weights-other-network":
            new_weights = state_bytes(other.policy.state_dict())
        elif name == "weights-not-a-dict":
            new_weights = state_bytes(list(model.policy.state_dict().values()))
        elif name == "train-config-cartpole":
            j["train_config"]["env_id"] = "CartPole-v1"
        elif name == "train-config-nan":
            j["train_config"]["ppo"]["learning_rate"] = float("nan")
        if new_weights is not None:
            (d / "policy.pt").write_bytes(new_weights)
            j["weights"].update(sha256=hashlib.sha256(new_weights).hexdigest(), bytes=len(new_weights))
        (d / "agent.json").write_text(json.dumps(j))


def _pickle_evil(f: Path) -> bytes:
    import pickle

    return pickle.dumps(_Evil(_evil_code(f)))


def _schedule_doc(f: Path) -> dict:
    return json.loads((f / "s.json").read_text())


def tampered(edit: Callable[[dict], Any]) -> Callable[[Path], str]:
    """A copy of the fixture schedule with ``edit(doc)`` applied in place."""

    def make(f: Path) -> str:
        doc = _schedule_doc(f)
        edit(doc)
        return json.dumps(doc, indent=1)

    return make


def _seg(doc: dict, value: Any, i: int = 1) -> None:
    doc["windows"][0][0]["segments"][0][i] = value


def _set(path: str, value: Any) -> Callable[[dict], None]:
    """Set ``a.b.0.c`` in a document (lists by index)."""

    def edit(doc: dict) -> None:
        node: Any = doc
        keys = path.split(".")
        for k in keys[:-1]:
            node = node[int(k)] if isinstance(node, list) else node[k]
        last = keys[-1]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return edit


def _drop(*keys: str) -> Callable[[dict], None]:
    def edit(doc: dict) -> None:
        for k in keys:
            doc.pop(k, None)

    return edit


def _both(*edits: Callable[[dict], Any]) -> Callable[[dict], None]:
    def edit(doc: dict) -> None:
        for e in edits:
            e(doc)

    return edit


# == 1. an output path equal to an input ============================================================

case("overwrite/evaluate-json-is-the-schedule", "evaluate {d}/s.json --json {d}/s.json", "--json", "overwrite",
     files={"s.json": lambda f: (f / "s.json").read_text()}, keep=("{d}/s.json",))
case("overwrite/schedule-json-is-gantt", "schedule --scenario sc8 --mcm het-sides-3x3 --policy standalone "
     "--json {d}/x --gantt {d}/x", "--gantt", "overwrite")
case("overwrite/layer-costs-csv-is-the-model", "layer-costs --model {d}/t.csv --csv {d}/t.csv", "--csv", "overwrite",
     files={"t.csv": TABLE_CSV}, keep=("{d}/t.csv",))
case("overwrite/layer-costs-csv-is-the-yaml-model", "layer-costs --model {d}/t.yaml --csv {d}/t.yaml", "--csv",
     "overwrite", files={"t.yaml": dump(TABLE)}, keep=("{d}/t.yaml",))
case("overwrite/schedule-json-is-the-scenario", "schedule --scenario {d}/sc.yaml --mcm het-sides-3x3 --policy "
     "standalone --json {d}/sc.yaml", "--json", "overwrite", files={"sc.yaml": dump(SCENARIO)}, keep=("{d}/sc.yaml",))
case("overwrite/schedule-json-is-the-mcm", "schedule --scenario sc8 --mcm {d}/m.yaml --policy standalone "
     "--json {d}/m.yaml", "--json", "overwrite", files={"m.yaml": dump(MCM)}, keep=("{d}/m.yaml",))
case("overwrite/schedule-gantt-is-the-scenario", "schedule --scenario {d}/sc.yaml --mcm het-sides-3x3 --policy "
     "standalone --gantt {d}/sc.yaml", "--gantt", "overwrite", files={"sc.yaml": dump(SCENARIO)},
     keep=("{d}/sc.yaml",))
case("overwrite/schedule-json-is-a-layer-table", "schedule --scenario {d}/sc.yaml --mcm het-sides-3x3 --policy "
     "standalone --json {d}/t.csv", "--json", "overwrite",
     files={"t.csv": TABLE_CSV, "sc.yaml": dump({**SCENARIO, "models": [{"model": "t.csv", "batch": 2}]})},
     keep=("{d}/t.csv",))
def _table_here(f: Path) -> str:
    """The layer-table fixture schedule, its table named relative to the schedule file (``t.csv``)."""
    doc = json.loads((f / "ts.json").read_text())
    for block in (doc["scenario"], (doc.get("context") or {}).get("scenario")):
        if block:
            block["models"][0]["model"] = "t.csv"
    return json.dumps(doc, indent=1)


case("overwrite/evaluate-json-is-a-layer-table", "evaluate {d}/s.json --json {d}/t.csv", "--json", "overwrite",
     files={"t.csv": "# name: tiny\n" + TABLE_CSV, "s.json": _table_here}, keep=("{d}/t.csv",))
case("overwrite/layer-costs-csv-is-the-mcm", "layer-costs --model d2go --mcm {d}/m.yaml --csv {d}/m.yaml", "--csv",
     "overwrite", files={"m.yaml": dump(MCM)}, keep=("{d}/m.yaml",))
case("overwrite/eval-csv-is-json", "eval --suite sc8 --no-baselines --csv {d}/x --json {d}/x", "--json", "overwrite")
case("overwrite/eval-csv-is-the-suite-file", "eval --suite {d}/sc.yaml --no-baselines --csv {d}/sc.yaml", "--csv",
     "overwrite", files={"sc.yaml": dump(SCENARIO)}, keep=("{d}/sc.yaml",))
case("overwrite/eval-json-is-the-mcm", "eval --suite sc8 --mcm {d}/m.yaml --no-baselines --json {d}/m.yaml", "--json",
     "overwrite", files={"m.yaml": dump(MCM)}, keep=("{d}/m.yaml",))
case("overwrite/reproduce-csv-is-plot", "reproduce arvr --csv {d}/x --plot {d}/x", "--plot", "overwrite")
case("overwrite/schedule-json-same-file-other-spelling", "schedule --scenario {d}/sc.yaml --mcm het-sides-3x3 "
     "--policy standalone --json {d}/./sub/../sc.yaml", "--json", "overwrite",
     files={"sc.yaml": dump(SCENARIO), "sub/.keep": ""}, keep=("{d}/sc.yaml",))
case("overwrite/schedule-json-is-a-directory", "schedule --scenario sc8 --mcm het-sides-3x3 --policy standalone "
     "--json {f}/adir", "--json")
case("overwrite/evaluate-json-is-a-directory", "evaluate {f}/s.json --json {f}/adir", "--json")
case("overwrite/layer-costs-csv-is-a-directory", "layer-costs --model d2go --csv {f}/adir", "--csv")
case("overwrite/eval-csv-is-a-directory", "eval --suite sc8 --no-baselines --csv {f}/adir", "--csv")
case("overwrite/reproduce-plot-is-a-directory", "reproduce arvr --plot {f}/adir", "--plot")

# outputs into a folder that does not exist yet: created (good input)
case("outdir/schedule-json", "schedule --scenario sc8 --mcm het-sides-3x3 --policy standalone --json "
     "{d}/new/dir/s.json", "", "everyday", expect=0, creates=("{d}/new/dir/s.json",))
case("outdir/schedule-gantt", "schedule --scenario sc8 --mcm het-sides-3x3 --policy standalone --gantt "
     "{d}/new/g.png", "", "everyday", expect=0, creates=("{d}/new/g.png",))
case("outdir/evaluate-json", "evaluate {f}/s.json --json {d}/new/r.json", "", "everyday", expect=0,
     creates=("{d}/new/r.json",))
case("outdir/layer-costs-csv", "layer-costs --model {f}/tiny.csv --csv {d}/new/c.csv", "", "everyday", expect=0,
     creates=("{d}/new/c.csv",))
case("outdir/eval-json", "eval --suite sc8 --no-baselines --json {d}/new/b.json -q", "", "everyday", expect=0,
     creates=("{d}/new/b.json",))

# == 2. loading an agent runs code from the file ===================================================

AGENT_ZIPS = ("evil_data", "evil_pth")
for name in AGENT_ZIPS:
    z = f"{{f}}/zipagent/{name}.zip"
    case(f"agent-code/schedule-ppo-{name}", f"schedule --scenario sc8 --mcm het-sides-3x3 --policy ppo:{z}",
         f"{name}.zip", "agent-code")
    case(f"agent-code/eval-agent-{name}", f"eval --suite sc8 --no-baselines --agent {z}", f"{name}.zip", "agent-code")
    case(f"agent-code/eval-policy-ppo-{name}", f"eval --suite sc8 --no-baselines --policy ppo:{z}", f"{name}.zip",
         "agent-code")
    case(f"agent-code/train-resume-{name}", f"train {{f}}/smoke.yaml --run-dir {{d}}/run --resume {z}", "--resume",
         "agent-code")
case("agent-code/eval-agent-run-dir-with-a-crafted-zip", "eval --suite sc8 --no-baselines --agent {f}/evilrun",
     "best_model.zip", "agent-code")
case("agent-code/schedule-ppo-run-dir-with-a-crafted-zip", "schedule --scenario sc8 --mcm het-sides-3x3 "
     "--policy ppo:{f}/evilrun", "best_model.zip", "agent-code")
for name, (what, fld) in AGENT_DIRS.items():
    cat = "agent-code" if name in ("weights-evil-pickle", "extractor-os-system", "extractor-kwargs") else "everyday"
    case(f"agent-dir/{name}", f"schedule --scenario sc8 --mcm het-sides-3x3 --policy ppo:{{f}}/agents/{name}", fld,
         cat, new=True)
case("agent-dir/evil-weights-eval-agent", "eval --suite sc8 --no-baselines --agent {f}/agents/weights-evil-pickle",
     "weights", "agent-code", new=True)
# ppo-3x3 (the SCAR-anchored agent, shipped as ppo until issue 15) takes exactly 9 chiplets, by name or by path;
# ppo (= ppo-any, the size-agnostic agent) at most 64
case("agent-dir/anchored-3x3-agent-on-a-4x4-mcm", "schedule --scenario sc8 --mcm het-sides-4x4 --policy ppo-3x3",
     "agent", "everyday", new=True)
case("agent-dir/anchored-3x3-agent-by-name-on-a-4x4-mcm", "schedule --scenario sc8 --mcm het-sides-4x4 --policy "
     "ppo:window-het-sides-3x3", "agent", "everyday", new=True)
case("agent-dir/any-size-agent-past-its-64-chiplets", "schedule --scenario sc1 --mcm het-sides-9x9 --policy ppo-any",
     "agent", "everyday", new=True)
case("agent-dir/shipped-agent-past-its-64-chiplets", "schedule --scenario sc1 --mcm het-sides-9x9 --policy ppo",
     "agent", "everyday", new=True)
case("suite/large-suite-with-an-mcm", "eval --suite large-3x3 --mcm het-sides-3x3 --no-baselines", "--mcm",
     "everyday", new=True)
case("suite/large-suite-past-8x8", "eval --suite large-9x9 --no-baselines", "--suite", "everyday", new=True)
case("agent-dir/convert-without-trust", "convert-agent {f}/zipagent/evil_data.zip {d}/out", "--trust", "agent-code",
     new=True)
case("agent-dir/convert-into-the-zip", "convert-agent {f}/zipagent/valid.zip {f}/zipagent/valid.zip --trust", "OUT",
     "overwrite", new=True)
case("agent-code/schedule-ppo-valid-zip-untrusted", "schedule --scenario sc8 --mcm het-sides-3x3 --policy "
     "ppo:{f}/zipagent/valid.zip", "--trust", "agent-code", new=True)
case("agent-code/eval-agent-valid-zip-untrusted", "eval --suite sc8 --no-baselines --agent {f}/zipagent/valid.zip",
     "--trust", "agent-code", new=True)


# == 3. wrong numbers with exit 0 ===================================================================

BAD_FLOATS = {"nan": ".nan", "inf": ".inf", "neginf": "-.inf", "negative": "-1.0", "zero": "0",
              "string": "abc", "bool": "true", "list": "[1.0]", "mapping": "{a: 1}", "null": "null",
              "overflow": "1.0e999"}
for fld in MCM["package"]:
    values = BAD_FLOATS if fld != "bytes_per_element" else {**BAD_FLOATS, "fraction": "2.5", "huge": "1000000000"}
    for tag, text in values.items():
        if fld == "bytes_per_element" and tag == "null":
            continue
        doc = json.loads(json.dumps(MCM))
        doc["package"][fld] = yaml.safe_load(text)
        body = dump(doc)
        cat = "nonfinite" if tag in ("nan", "inf", "neginf", "overflow") else "kind"
        case(f"mcm-yaml/package.{fld}={tag}", "schedule --scenario sc8 --mcm {d}/m.yaml --policy standalone",
             f"package.{fld}", cat, files={"m.yaml": body})
CHIPLET_BAD = {"nan": ".nan", "inf": ".inf", "negative": "-5", "zero": "0", "string": "abc", "bool": "true",
               "list": "[1]", "fraction": "2.5", "huge": "1.0e300"}
for fld in ("l2_bytes", "l1_bytes_per_pe", "noc_bw", "offchip_bw", "noc_hop_cycles", "cluster_size"):
    for tag, text in CHIPLET_BAD.items():
        if fld in ("noc_bw", "offchip_bw") and tag == "fraction":
            continue  # a fraction of an element per cycle is a valid bandwidth
        if fld in ("noc_hop_cycles",) and tag == "zero":
            continue  # zero hop latency is allowed
        doc = json.loads(json.dumps(MCM))
        doc["chiplet"][fld] = yaml.safe_load(text) if tag != "huge" else 1e300
        cat = "nonfinite" if tag in ("nan", "inf", "huge") else "kind"
        case(f"mcm-yaml/chiplet.{fld}={tag}", "schedule --scenario sc8 --mcm {d}/m.yaml --policy standalone",
             f"chiplet.{fld}", cat, files={"m.yaml": dump(doc)})
for df in ("nvd", "shi"):
    for tag, value in (("nan", float("nan")), ("inf", float("inf")), ("negative", -1.0)):
        doc = json.loads(json.dumps(MCM))
        doc["chiplet"][df] = {"offchip_bw": value}
        case(f"mcm-yaml/chiplet.{df}.offchip_bw={tag}", "list mcms {d}/m.yaml", f"chiplet.{df}.offchip_bw",
             "nonfinite" if tag != "negative" else "kind", files={"m.yaml": dump(doc)})
for tag, value in (("nan", float("nan")), ("zero", 0), ("negative", -4), ("fraction", 2.5), ("string", "many"),
                   ("bool", True), ("huge", 10**15)):
    case(f"mcm-yaml/num_pes={tag}", "schedule --scenario sc8 --mcm {d}/m.yaml --policy standalone", "num_pes",
         "nonfinite" if tag in ("nan", "huge") else "kind", files={"m.yaml": dump({**MCM, "num_pes": value})})
# layer-costs: overflow at huge batches, bad bandwidths and PE counts
for b in ("1000000000", "1000000000000", "0", "-3"):
    case(f"layer-costs/batch={b}", f"layer-costs --model d2go --batch {b}", "--batch",
         "nonfinite" if len(b) > 5 else "kind")
for flag in ("--noc-bw", "--offchip-bw"):
    for v in ("nan", "inf", "-inf", "-1", "0", "1e-300"):
        case(f"layer-costs/{flag[2:]}={v}", ["layer-costs", "--model", "d2go", f"{flag}={v}"], flag,
             "nonfinite" if v in ("nan", "inf", "-inf", "1e-300") else "kind")
for v in ("0", "-64", "1000000000000", "2147483648"):
    case(f"layer-costs/pes={v}", f"layer-costs --model d2go --pes {v}", "--pes",
         "nonfinite" if len(v) > 5 else "kind")
# NaN and infinity inside a schedule file (JSON allows NaN and Infinity)
for where, path in (("mcm.package.clock_hz", "mcm.package"), ("mcm.num_pes", "mcm")):
    key = where.rsplit(".", 1)[1]
    for tag, value in (("nan", float("nan")), ("inf", float("inf")), ("negative", -1.0)):
        def edit(doc: dict, path: str = path, key: str = key, value: Any = value) -> None:
            node = doc
            for k in path.split("."):
                node = node.setdefault(k, {})
            node[key] = value
        case(f"schedule-json/{where}={tag}", "evaluate {d}/s.json", key, "nonfinite",
             files={"s.json": tampered(edit)})
for tag, value in (("nan", float("nan")), ("inf", float("inf"))):
    case(f"schedule-json/chiplet.noc_bw={tag}", "evaluate {d}/s.json", "noc_bw", "nonfinite",
         files={"s.json": tampered(_set("mcm.chiplet", {"noc_bw": value}))})
    case(f"schedule-json/package.dram_energy={tag}", "evaluate {d}/s.json", "dram_energy_j_per_bit", "nonfinite",
         files={"s.json": tampered(_set("mcm.package", {"dram_energy_j_per_bit": value}))})
    case(f"schedule-json/cost_model.energy.mac={tag}", "evaluate {d}/s.json", "mac", "nonfinite",
         files={"s.json": tampered(_set("cost_model.energy.mac", value))})
    case(f"schedule-json/cost_model.preset.offchip_bw={tag}", "evaluate {d}/s.json", "offchip_bw", "nonfinite",
         files={"s.json": tampered(_set("cost_model.preset.offchip_bw", value))})
    case(f"schedule-json/scenario.batch={tag}", "evaluate {d}/s.json", "batch", "nonfinite",
         files={"s.json": tampered(_set("scenario.models.0.batch", value))})
    case(f"schedule-json/segment-bound={tag}", "evaluate {d}/s.json", "windows", "nonfinite",
         files={"s.json": tampered(lambda doc, v=value: _seg(doc, v))})

# == 4. hangs on accepted input (sizes) ============================================================

for b in (10**8, 10**12, 65537 * 2):
    case(f"size/scenario-batch={b}", "schedule --scenario {d}/sc.yaml --mcm het-sides-3x3 --policy standalone",
         "batch", "size", files={"sc.yaml": dump({**SCENARIO, "models": [{"model": "d2go", "batch": b}]})},
         timeout=60)
for spec in ("het-sides-100x100", "nvd-40x40", "het-cb-1x5000", "shi-1000x1000", "het-cross-64x64-tri"):
    case(f"size/mcm={spec}", f"schedule --scenario sc8 --mcm {spec} --policy standalone", "mcm", "size",
         timeout=60)
case("size/mcm-layout-string-80x80", ["schedule", "--scenario", "sc8", "--mcm", "/".join(["N" * 80] * 80),
                                      "--policy", "standalone"], "mcm", "size", timeout=60)
case("size/mcm-yaml-60x60", "list mcms {d}/m.yaml", "layout", "size",
     files={"m.yaml": dump({**MCM, "layout": "/".join(["NS" * 30] * 60)})}, timeout=60)
case("size/scar-sc8-10x10", "schedule --scenario sc8 --mcm het-sides-10x10 --policy scar", "mcm", "size",
     timeout=120)
case("size/scar-sc8-9x9", "schedule --scenario sc8 --mcm het-sides-9x9 --policy scar", "mcm", "size", timeout=120)
case("size/layer-costs-batch-divisors", "layer-costs --model {d}/big.csv --batch 5",
     "k", "size", files={"big.csv": "name,op,k,c,y_in\nfc,gemm,100000000000,100000000000,100000000000\n"})
case("size/layer-table-huge-dims", "list models {d}/big.yaml", "k", "size",
     files={"big.yaml": dump({"name": "big", "layers": [{"name": "a", "op": "gemm", "k": 10**30, "c": 10**30,
                                                         "y_in": 10**30}]})})
case("size/layer-table-too-many-layers", "list models {d}/long.csv", "layers", "size",
     files={"long.csv": "name,op,k,c,y_in\n" + "".join(f"l{i},gemm,8,8,8\n" for i in range(20000))})
case("size/budget-huge", "schedule --scenario sc8 --mcm het-sides-3x3 --policy random-search --budget 1000000000000",
     "--budget", "size")
case("size/samples-huge", "schedule --scenario sc8 --mcm het-sides-3x3 --policy window-ls --samples 1000000000",
     "--samples", "size")
case("size/eval-samples-huge", "eval --suite sc8 --no-baselines --policy window-ls --samples 1000000000",
     "--samples", "size")
case("size/random-suite-huge", "eval --suite random-10000000 --no-baselines", "--suite", "size")
case("size/n-splits-huge", "schedule --scenario sc8 --mcm het-sides-3x3 --policy scar --n-splits 1000000000",
     "--n-splits", "size")
case("size/k-huge", "schedule --scenario sc8 --mcm het-sides-3x3 --policy scar --k 1000000000", "--k", "size")
case("size/train-n-envs-huge", "train {f}/smoke.yaml --run-dir {d}/run --set n_envs=100000", "n_envs", "size")
case("size/train-n-steps-huge", "train {f}/smoke.yaml --run-dir {d}/run --set ppo.n_steps=1000000000000",
     "ppo.n_steps", "size")
case("size/train-net-arch-huge", "train {f}/smoke.yaml --run-dir {d}/run --set policy.net_arch=[1000000000]",
     "policy.net_arch", "size")
case("size/scenario-too-many-models", "list scenarios {d}/sc.yaml", "models", "size",
     files={"sc.yaml": dump({**SCENARIO, "models": [{"model": f"t{i}.csv", "batch": 1} for i in range(200)]}),
            **{f"t{i}.csv": TABLE_CSV.replace("c1", f"a{i}") for i in range(200)}})

# == 5. tampered schedules ==========================================================================

for tag, value in (("float", 70.9), ("string", "70"), ("bool", True), ("null", None), ("negative", -1),
                   ("huge", 10**30), ("list", [1])):
    case(f"tamper/segment-stop={tag}", "evaluate {d}/s.json", "windows", "tamper",
         files={"s.json": tampered(lambda doc, v=value: _seg(doc, v))})
    case(f"tamper/segment-chiplet={tag}", "evaluate {d}/s.json", "windows", "tamper",
         files={"s.json": tampered(lambda doc, v=value: _seg(doc, v, 2))})
for tag, value in (("float", 0.7), ("string", "0"), ("bool", True), ("null", None), ("negative", -1), ("out", 99)):
    case(f"tamper/model-index={tag}", "evaluate {d}/s.json", "model", "tamper",
         files={"s.json": tampered(_set("windows.0.0.model", value))})
case("tamper/segment-extra-element", "evaluate {d}/s.json", "windows", "tamper",
     files={"s.json": tampered(lambda doc: doc["windows"][0][0]["segments"][0].append(5))})
case("tamper/segment-two-elements", "evaluate {d}/s.json", "windows", "tamper",
     files={"s.json": tampered(lambda doc: doc["windows"][0][0]["segments"][0].pop())})
case("tamper/segment-is-a-mapping", "evaluate {d}/s.json", "windows", "tamper",
     files={"s.json": tampered(lambda doc: doc["windows"][0][0]["segments"].__setitem__(0, {"a": 1}))})
case("tamper/assignment-extra-key", "evaluate {d}/s.json", "windows", "tamper",
     files={"s.json": tampered(_set("windows.0.0.note", "x"))})
case("tamper/assignment-no-segments", "evaluate {d}/s.json", "windows", "tamper",
     files={"s.json": tampered(lambda doc: doc["windows"][0][0].pop("segments"))})
case("tamper/window-is-a-mapping", "evaluate {d}/s.json", "windows", "tamper",
     files={"s.json": tampered(_set("windows.0", {"model": 0}))})
case("tamper/windows-is-a-mapping", "evaluate {d}/s.json", "windows", "tamper",
     files={"s.json": tampered(_set("windows", {"a": 1}))})
case("tamper/windows-null", "evaluate {d}/s.json", "windows", "tamper", files={"s.json": tampered(_set("windows", None))})
case("tamper/windows-number", "evaluate {d}/s.json", "windows", "tamper", files={"s.json": tampered(_set("windows", 5))})
case("tamper/windows-empty", "evaluate {d}/s.json", "windows", "tamper", files={"s.json": tampered(_set("windows", []))})
for tag, value in (("foreign", "other-tool/3"), ("number", 5), ("null", None), ("future", "scar-gym-schedule/99")):
    case(f"tamper/format={tag}", "evaluate {d}/s.json", "format", "tamper",
         files={"s.json": tampered(_set("format", value))})
case("tamper/format-missing", "evaluate {d}/s.json", "format", "tamper", files={"s.json": tampered(_drop("format"))})
case("tamper/unknown-top-level-key", "evaluate {d}/s.json", "windoes", "tamper",
     files={"s.json": tampered(_set("windoes", []))})
# a changed context: only a note before, nothing at all without the stored result
CONTEXT_EDITS = {
    "mcm-layout": _set("mcm.layout", "NNN/NNN/NNN"),
    "mcm-num-pes": _set("mcm.num_pes", 1024),
    "mcm-package": _set("mcm.package", {"clock_hz": 1.0e9}),
    "mcm-chiplet": _set("mcm.chiplet", {"offchip_bw": 16.0}),
    "mcm-topology": _set("mcm.topology", "tri"),
    "scenario-batch": _set("scenario.models.0.batch", 15),
    "scenario-model": _set("scenario.models.1.model", "eyecod"),
    "scenario-domain": _set("scenario.domain", "datacenter"),
    "cost-preset": _set("cost_model", {"preset": {"name": "maestro", "template": "maestro", "energy": "maestro",
                                                  "noc_bw": None, "offchip_bw": None}}),
}
for tag, edit in CONTEXT_EDITS.items():
    case(f"tamper/changed-{tag}", "evaluate {d}/s.json", "--rescore", "tamper", files={"s.json": tampered(edit)})
    case(f"tamper/changed-{tag}-no-result", "evaluate {d}/s.json", "--rescore", "tamper",
         files={"s.json": tampered(_both(edit, _drop("result", "latency_s", "energy_j", "edp_js")))})
case("tamper/result-edited", "evaluate {d}/s.json", "result", "tamper",
     files={"s.json": tampered(_set("result.edp_js", 12.29))})
case("tamper/result-not-a-mapping", "evaluate {d}/s.json", "result", "tamper",
     files={"s.json": tampered(_set("result", [1, 2]))})
case("tamper/result-nan", "evaluate {d}/s.json", "result", "tamper",
     files={"s.json": tampered(_set("result.edp_js", float("nan")))})
case("tamper/cost-model-garbled", "evaluate {d}/s.json", "cost_model", "tamper",
     files={"s.json": tampered(_set("cost_model", [1]))})
case("tamper/cost-model-unknown-preset", "evaluate {d}/s.json", "cost_model", "tamper",
     files={"s.json": tampered(_set("cost_model.preset.name", "fancy"))})
case("tamper/context-garbled", "evaluate {d}/s.json", "context", "tamper",
     files={"s.json": tampered(_set("context", "yes"))})
case("tamper/old-file-without-context-or-result", "evaluate {d}/s.json", "--rescore", "tamper",
     files={"s.json": tampered(_both(_drop("context", "result", "cost_model", "latency_s", "energy_j", "edp_js"),
                                     _set("format", "scar-gym-schedule/1")))})
case("tamper/invalid-schedule-chiplet-reused", "evaluate {d}/s.json", "window 0", "tamper",
     files={"s.json": tampered(lambda doc: doc["windows"][0][1]["segments"][0].__setitem__(
         2, doc["windows"][0][0]["segments"][0][2]))})

# == 6. duplicate model names ========================================================================

for ext, a, b in (("csv", TABLE_CSV, TABLE_CSV.replace("c1", "x1")),
                  ("yaml", dump(TABLE), dump({**TABLE, "description": "other"}))):
    sc = {**SCENARIO, "models": [{"model": f"a.{ext}", "batch": 2}, {"model": f"b.{ext}", "batch": 3}]}
    if ext == "csv":
        a, b = "# name: net\n" + a, "# name: net\n" + b
    case(f"duplicate/two-{ext}-tables-one-name", "schedule --scenario {d}/sc.yaml --mcm het-sides-3x3 --policy standalone",
         "models[1].model", "duplicate", files={"sc.yaml": dump(sc), f"a.{ext}": a, f"b.{ext}": b})
case("duplicate/table-named-like-a-zoo-model", "schedule --scenario {d}/sc.yaml --mcm het-sides-3x3 --policy "
     "standalone", "models[1].model", "duplicate",
     files={"sc.yaml": dump({**SCENARIO, "models": [{"model": "d2go", "batch": 2}, {"model": "a.csv", "batch": 3}]}),
            "a.csv": "# name: d2go\n" + TABLE_CSV})
case("duplicate/same-zoo-model-twice", "list scenarios {d}/sc.yaml", "models[1].model", "duplicate",
     files={"sc.yaml": dump({**SCENARIO, "models": [{"model": "d2go", "batch": 2}, {"model": "d2go", "batch": 3}]})})
case("duplicate/eval-suite-list-duplicate-tables", "eval --no-baselines --suite {d}/sc.yaml", "models[1].model",
     "duplicate", files={"sc.yaml": dump({**SCENARIO, "models": [{"model": "a.csv", "batch": 2},
                                                                 {"model": "b.csv", "batch": 3}]}),
                         "a.csv": "# name: net\n" + TABLE_CSV, "b.csv": "# name: net\n" + TABLE_CSV})

# == 7. tracebacks for everyday mistakes =============================================================

for cmd in ("schedule --scenario sc8 --mcm het-sides-3x3 --policy random", "eval --suite sc8 --no-baselines",
            "demo", "reproduce arvr", "train {f}/smoke.yaml --run-dir {d}/run"):
    name = cmd.split()[0]
    case(f"everyday/{name}-seed=-1", f"{cmd} --seed -1", "--seed", "everyday")
case("everyday/schedule-seed=huge", "schedule --scenario sc8 --mcm het-sides-3x3 --policy random --seed "
     "100000000000000000000000000000", "--seed", "everyday")
case("everyday/schedule-seed=text", "schedule --scenario sc8 --mcm het-sides-3x3 --seed one", "--seed", "everyday")
case("everyday/resume-missing-zip", "train {f}/smoke.yaml --run-dir {d}/run --resume nope.zip", "--resume",
     "everyday")
case("everyday/resume-missing", "train {f}/smoke.yaml --run-dir {d}/run --resume nope", "--resume", "everyday")
case("everyday/resume-directory", "train {f}/smoke.yaml --run-dir {d}/run --resume {f}/adir", "--resume", "everyday")
CORRUPT_ZIPS = ("empty", "text", "truncated", "no_data", "data_not_json", "no_policy", "bad_pth", "garbled_space",
                "wrong_shapes", "dir", "other_arch")
for name in CORRUPT_ZIPS:
    z = f"{{f}}/zipagent/{name}.zip"
    case(f"everyday/corrupt-agent-{name}-schedule", f"schedule --scenario sc8 --mcm het-sides-3x3 --policy ppo:{z}",
         f"{name}.zip", "everyday")
    if name != "other_arch":  # a valid zip of another network: with --trust it is a good agent
        case(f"everyday/corrupt-agent-{name}-schedule-trusted", f"schedule --scenario sc8 --mcm het-sides-3x3 "
             f"--policy ppo:{z} --trust", f"{name}.zip", "everyday", new=True)
    case(f"everyday/corrupt-agent-{name}-eval", f"eval --suite sc8 --no-baselines --agent {z}", f"{name}.zip",
         "everyday")
    case(f"everyday/corrupt-agent-{name}-resume", f"train {{f}}/smoke.yaml --run-dir {{d}}/run --resume {z}",
         "--resume", "everyday")
case("everyday/resume-on-another-mcm", "train {f}/smoke.yaml --run-dir {d}/run --set mcm=het-sides-4x4 "
     "--resume {f}/zipagent/valid.zip", "--resume", "everyday")
case("everyday/resume-on-another-env", "train {d}/w.yaml --run-dir {d}/run --resume {f}/zipagent/valid.zip",
     "--resume", "everyday", files={"w.yaml": dump({**SMOKE, "env_id": "scar_gym:ScarGym/Window-v0",
                                                    "env_kwargs": {"reference": "standalone"}})})
case("everyday/resume-other-network", "train {f}/smoke.yaml --run-dir {d}/run --set policy.net_arch=[32] "
     "--resume {f}/zipagent/valid.zip", "--resume", "everyday")
for what, path in (("schedule", "evaluate {d}/x"), ("layer-table-csv", "list models {d}/x.csv"),
                   ("layer-table-yaml", "list models {d}/x.yaml"), ("scenario", "list scenarios {d}/x.yaml"),
                   ("mcm", "list mcms {d}/x.yaml"), ("train-config", "train {d}/x.yaml")):
    fname = path.split("{d}/")[1]
    case(f"everyday/binary-{what}", path, fname, "everyday", files={fname: BINARY})
    case(f"everyday/latin1-{what}", path, fname, "everyday", files={fname: "name: caf\xe9\n".encode("latin-1")})
    case(f"everyday/empty-{what}", path, fname, "everyday", files={fname: ""})
    case(f"everyday/directory-{what}", path.replace("{d}/" + fname, "{f}/adir"), "adir", "everyday")
    case(f"everyday/missing-{what}", path.replace("{d}/" + fname, "{d}/nope" + Path(fname).suffix), "nope",
         "everyday")
for tag, text in (("null", "null"), ("number", "5"), ("string", '"s"'), ("list", "[1, 2]"), ("infinity", "Infinity"),
                  ("nan", "NaN"), ("true", "true"), ("truncated", '{"format": "scar-gym-schedule/1", "windows": [')):
    case(f"everyday/schedule-json-{tag}", "evaluate {d}/s.json", "s.json", "everyday", files={"s.json": text})
for tag, value in (("list", [1, 2]), ("string", "abc"), ("number", 5)):
    case(f"everyday/schedule-meta-{tag}", "evaluate {d}/s.json", "meta", "everyday",
         files={"s.json": tampered(_set("meta", value))})
for key in ("scenario", "mcm"):
    case(f"everyday/schedule-{key}-missing", "evaluate {d}/s.json", key, "everyday",
         files={"s.json": tampered(_drop(key))})
    for tag, value in (("null", None), ("list", [1]), ("string", "x")):
        case(f"everyday/schedule-{key}-{tag}", "evaluate {d}/s.json", key, "everyday",
             files={"s.json": tampered(_set(key, value))})
for tag, value in (("lr-inf", "ppo.learning_rate=.inf"), ("lr-nan", "ppo.learning_rate=.nan"),
                   ("ent-nan", "ppo.ent_coef=.nan"), ("ent-inf", "ppo.ent_coef=.inf"),
                   ("ent-negative", "ppo.ent_coef=-1.0"), ("vf-nan", "ppo.vf_coef=.nan"),
                   ("vf-negative", "ppo.vf_coef=-0.5"), ("clip-nan", "ppo.clip_range=.nan"),
                   ("clip-zero", "ppo.clip_range=0"), ("grad-nan", "ppo.max_grad_norm=.nan"),
                   ("grad-negative", "ppo.max_grad_norm=-1.0"), ("gamma-nan", "ppo.gamma=.nan"),
                   ("lambda-nan", "ppo.gae_lambda=.nan"), ("lr-inf-yaml", "ppo.learning_rate=1.0e999"),
                   ("penalty-nan", "env_kwargs.invalid_penalty=.nan"),
                   ("penalty-inf", "env_kwargs.invalid_penalty=-.inf")):
    fld = value.split("=")[0]
    case(f"everyday/train-{tag}", f"train {{f}}/smoke.yaml --run-dir {{d}}/run --set {value}", fld, "everyday")

# == 8. resume loses work ============================================================================
# (the resume behaviour itself is tested in tests/test_agents_train.py; the table holds its bad inputs)
case("resume/run-dir-is-a-file", "train {f}/smoke.yaml --run-dir {f}/empty.txt --resume {f}/zipagent/valid.zip",
     "--run-dir", "resume", keep=("{f}/empty.txt",))
case("resume/run-dir-is-a-file-no-resume", "train {f}/smoke.yaml --run-dir {f}/empty.txt", "--run-dir", "resume",
     keep=("{f}/empty.txt",))
# issue 14: a taken run directory is refused; --overwrite deletes only a run directory
TAKEN = {"run/config.yaml": lambda f: (f / "smoke.yaml").read_text(), "run/progress.csv": "time/total_timesteps\n1\n"}
case("resume/run-dir-taken", "train {f}/smoke.yaml --run-dir {d}/run", "--run-dir", "resume", files=TAKEN,
     keep=("{d}/run/progress.csv",))
case("resume/run-dir-not-a-run", "train {f}/smoke.yaml --run-dir {d}/mine", "--run-dir", "resume",
     files={"mine/thesis.tex": "x"}, keep=("{d}/mine/thesis.tex",))
case("resume/overwrite-not-a-run", "train {f}/smoke.yaml --run-dir {d}/mine --overwrite", "--overwrite", "resume",
     files={"mine/thesis.tex": "x"}, keep=("{d}/mine/thesis.tex",), new=True)
case("resume/overwrite-and-resume", "train {f}/smoke.yaml --run-dir {d}/run --overwrite --resume", "--overwrite",
     "resume", files=TAKEN, keep=("{d}/run/progress.csv",), new=True)
case("resume/latest-without-checkpoint", "train {f}/smoke.yaml --run-dir {d}/run --resume", "--resume", "resume",
     files=TAKEN, keep=("{d}/run/progress.csv",), new=True)

# == every case of its kind ==========================================================================

UNKNOWN = {"scenario": "schedule --scenario sc99 --mcm het-sides-3x3", "mcm": "schedule --scenario sc8 --mcm hex-3x3",
           "policy": "schedule --scenario sc8 --mcm het-sides-3x3 --policy sacr",
           "cost-preset": "schedule --scenario sc8 --mcm het-sides-3x3 --cost-preset fancy",
           "energy": "schedule --scenario sc8 --mcm het-sides-3x3 --energy fancy",
           "model": "layer-costs --model resnet5", "list-mcm": "list mcms hex-3x3",
           "list-model": "list models resnet5", "list-scenario": "list scenarios sc0",
           "suite": "eval --suite paperr --no-baselines", "eval-policy": "eval --suite sc8 --policy sacr --no-baselines",
           "eval-preset": "eval --suite sc8 --no-baselines --cost-preset fancy",
           "evaluate-preset": "evaluate {f}/s.json --cost-preset fancy",
           "evaluate-energy": "evaluate {f}/s.json --energy fancy",
           "layer-costs-preset": "layer-costs --model d2go --cost-preset fancy",
           "layer-costs-mcm": "layer-costs --model d2go --mcm hex-3x3",
           "reproduce-preset": "reproduce arvr --cost-preset fancy", "demo-scenario": "demo --scenario sc99",
           "demo-mcm": "demo --mcm hex-3x3", "train-config": "train nope-config",
           "objective": "schedule --scenario sc8 --mcm het-sides-3x3 --objective speed",
           "improve": "schedule --scenario sc8 --mcm het-sides-3x3 --policy window-ls --improve beam",
           "reproduce-domain": "reproduce mobile", "list-kind": "list things", "command": "schedulee"}
FIELD_OF = {"scenario": "scenario", "mcm": "mcm", "policy": "policy", "cost-preset": "cost", "energy": "energy",
            "model": "model", "list-mcm": "mcm", "list-model": "model", "list-scenario": "scenario", "suite": "suite",
            "eval-policy": "policy", "eval-preset": "cost", "evaluate-preset": "cost", "evaluate-energy": "energy",
            "layer-costs-preset": "cost", "layer-costs-mcm": "mcm", "reproduce-preset": "cost",
            "demo-scenario": "scenario", "demo-mcm": "mcm", "train-config": "CONFIG", "objective": "--objective",
            "improve": "--improve", "reproduce-domain": "domain", "list-kind": "KIND", "command": "COMMAND"}
for tag, cmd in UNKNOWN.items():
    case(f"unknown/{tag}", cmd, FIELD_OF[tag])
NUMERIC_FLAGS = {
    "schedule": ("schedule --scenario sc8 --mcm het-sides-3x3 --policy {p}", {
        "--n-splits": ("scar", ("-1", "2.5", "x")), "--k": ("scar", ("0", "-2")),
        "--budget": ("random-search", ("0", "-5", "1e3")), "--samples": ("window-ls", ("0", "-1", "1.5")),
    }),
    "eval": ("eval --suite sc8 --no-baselines --policy {p}", {
        "--samples": ("window-ls", ("0", "-3")), "--seed": ("random", ("1.5",)),
    }),
}
for cmd, (template, flags) in NUMERIC_FLAGS.items():
    for flag, (policy, values) in flags.items():
        for v in values:
            case(f"flags/{cmd}{flag}={v}", [*template.format(p=policy).split(), f"{flag}={v}"], flag)
for flag, policy in (("--k", "standalone"), ("--budget", "scar"), ("--samples", "scar"), ("--n-splits", "random")):
    case(f"flags/schedule{flag}-not-taken-by-{policy}", f"schedule --scenario sc8 --mcm het-sides-3x3 --policy "
         f"{policy} {flag} 3", flag)
case("flags/policy-arg-not-taken", "schedule --scenario sc8 --mcm het-sides-3x3 --policy scar:x", "--policy")
case("flags/ppo-missing-path", "schedule --scenario sc8 --mcm het-sides-3x3 --policy ppo:{d}/nope", "nope")
case("flags/eval-agent-missing", "eval --suite sc8 --no-baselines --agent {d}/nope.zip", "nope.zip")
case("flags/eval-agent-empty-dir", "eval --suite sc8 --no-baselines --agent {f}/adir", "adir")
case("flags/trust-with-a-heuristic", "schedule --scenario sc8 --mcm het-sides-3x3 --policy scar --trust", "--trust",
     new=True)
for spec in ("random-0", "random--1", "random-x", "random-", "random-1.5"):
    case(f"suite/{spec}", ["eval", "--suite", spec, "--no-baselines"], "--suite")
case("suite/empty-list-file", "eval --suite {d}/sc.yaml --no-baselines", "sc.yaml", files={"sc.yaml": "[]"})
case("reproduce/6x6-arvr", "reproduce arvr --size 6x6", "--size")
case("reproduce/size-4x4", "reproduce datacenter --size 4x4", "--size")
for spec in ("het-sides-0x3", "nvd-0x0", "het-sides-3x2", "het-cross-2x3", "NSN/SN", "NXN/NSN", "NSN@ring", "nsn",
             "het-sides-3x3-tri-tri", "", " "):
    case(f"mcm-spec/{spec or 'empty'}{'-blank' if spec == ' ' else ''}",
         ["schedule", "--scenario", "sc8", "--mcm", spec, "--policy", "standalone"], "mcm")
MCM_KIND = {
    "layout-missing": ({k: v for k, v in MCM.items() if k != "layout"}, "layout"),
    "layout-ragged": ({**MCM, "layout": "NSN/NS"}, "layout"),
    "layout-letters": ({**MCM, "layout": "NXN"}, "layout"),
    "layout-number": ({**MCM, "layout": 5}, "layout"),
    "layout-mapping": ({**MCM, "layout": {"a": 1}}, "layout"),
    "layout-empty": ({**MCM, "layout": ""}, "layout"),
    "layout-empty-list": ({**MCM, "layout": []}, "layout"),
    "topology": ({**MCM, "topology": "ring"}, "topology"),
    "topology-number": ({**MCM, "topology": 3}, "topology"),
    "unknown-field": ({**MCM, "colour": "red"}, "colour"),
    "chiplet-unknown-field": ({**MCM, "chiplet": {"l3_bytes": 5}}, "chiplet.l3_bytes"),
    "chiplet-not-mapping": ({**MCM, "chiplet": [1]}, "chiplet"),
    "chiplet-dataflow-not-mapping": ({**MCM, "chiplet": {"nvd": 5}}, "chiplet.nvd"),
    "chiplet-dataflow-unknown-field": ({**MCM, "chiplet": {"shi": {"l3": 1}}}, "chiplet.shi.l3"),
    "chiplet-old-l2-bandwidth": ({**MCM, "chiplet": {"l2_bandwidth_bytes_per_cycle": 64}},
                                 "chiplet.l2_bandwidth_bytes_per_cycle"),
    "cluster-not-divisor": ({**MCM, "num_pes": 256, "chiplet": {"cluster_size": 7}}, "chiplet.cluster_size"),
    "package-not-mapping": ({**MCM, "package": [1]}, "package"),
    "package-unknown-field": ({**MCM, "package": {"clock_ghz": 1}}, "package.clock_ghz"),
    "name-empty": ({**MCM, "name": ""}, "name"),
    "name-list": ({**MCM, "name": [1, 2]}, "name"),
    "description-mapping": ({**MCM, "description": {"a": 1}}, "description"),
    "top-level-list": ([1, 2], "top level"),
    "top-level-string": ("NSN", "top level"),
}
for tag, (doc, fld) in MCM_KIND.items():
    case(f"mcm-yaml/{tag}", "list mcms {d}/m.yaml", fld, files={"m.yaml": dump(doc)})
case("mcm-yaml/malformed", "list mcms {d}/m.yaml", "m.yaml", files={"m.yaml": "name: [unclosed\n"})
SC_KIND = {
    "domain-missing": ({k: v for k, v in SCENARIO.items() if k != "domain"}, "domain"),
    "domain-unknown": ({**SCENARIO, "domain": "mobile"}, "domain"),
    "domain-list": ({**SCENARIO, "domain": ["arvr"]}, "domain"),
    "models-missing": ({k: v for k, v in SCENARIO.items() if k != "models"}, "models"),
    "models-empty": ({**SCENARIO, "models": []}, "models"),
    "models-mapping": ({**SCENARIO, "models": {"d2go": 3}}, "models"),
    "model-entry-string": ({**SCENARIO, "models": ["d2go"]}, "models[0]"),
    "model-unknown": ({**SCENARIO, "models": [{"model": "d3go", "batch": 1}]}, "models[0].model"),
    "model-number": ({**SCENARIO, "models": [{"model": 5, "batch": 1}]}, "models[0].model"),
    "model-missing-table": ({**SCENARIO, "models": [{"model": "nope.csv", "batch": 1}]}, "models[0].model"),
    "model-extra-field": ({**SCENARIO, "models": [{"model": "d2go", "batch": 1, "fps": 3}]}, "models[0].fps"),
    "batch-missing": ({**SCENARIO, "models": [{"model": "d2go"}]}, "models[0].batch"),
    "batch-zero": ({**SCENARIO, "models": [{"model": "d2go", "batch": 0}]}, "models[0].batch"),
    "batch-negative": ({**SCENARIO, "models": [{"model": "d2go", "batch": -2}]}, "models[0].batch"),
    "batch-fraction": ({**SCENARIO, "models": [{"model": "d2go", "batch": 2.5}]}, "models[0].batch"),
    "batch-string": ({**SCENARIO, "models": [{"model": "d2go", "batch": "ten"}]}, "models[0].batch"),
    "batch-bool": ({**SCENARIO, "models": [{"model": "d2go", "batch": True}]}, "models[0].batch"),
    "batch-nan": ({**SCENARIO, "models": [{"model": "d2go", "batch": float("nan")}]}, "models[0].batch"),
    "batch-inf": ({**SCENARIO, "models": [{"model": "d2go", "batch": float("inf")}]}, "models[0].batch"),
    "unknown-field": ({**SCENARIO, "mcm": "x"}, "mcm"),
    "id-empty": ({**SCENARIO, "id": " "}, "id"),
    "top-level-list": ([SCENARIO], "top level"),
    "top-level-number": (7, "top level"),
}
for tag, (doc, fld) in SC_KIND.items():
    case(f"scenario-yaml/{tag}", "schedule --scenario {d}/sc.yaml --mcm het-sides-3x3 --policy standalone", fld,
         files={"sc.yaml": dump(doc)})
case("scenario-yaml/malformed", "list scenarios {d}/sc.yaml", "sc.yaml", files={"sc.yaml": "models: [\n"})
case("scenario-yaml/table-is-binary", "list scenarios {d}/sc.yaml", "t.csv",
     files={"sc.yaml": dump({**SCENARIO, "models": [{"model": "t.csv", "batch": 1}]}), "t.csv": BINARY})
LAYER_BAD = {"zero": "0", "negative": "-3", "fraction": "2.5", "text": "big", "huge": "1" + "0" * 25}
for col in ("k", "c", "y_in", "x_in", "r", "s", "stride", "groups"):
    for tag, v in LAYER_BAD.items():
        row = {"name": "c1", "op": "gemm", "k": "8", "c": "8", "y_in": "8"}
        if col in ("r", "s", "stride", "x_in"):
            row["op"] = "conv"
            row["x_in"] = "8"
        if col == "groups":
            row.update(op="conv", x_in="8")
        row[col] = v
        header = ",".join(row)
        cat = "size" if tag == "huge" else "kind"
        case(f"layer-csv/{col}={tag}", "layer-costs --model {d}/t.csv", col, cat,
             files={"t.csv": header + "\n" + ",".join(row.values()) + "\n"})
for tag, v in (("negative", "-1"), ("text", "x"), ("huge", "1" + "0" * 25)):
    case(f"layer-csv/pad={tag}", "layer-costs --model {d}/t.csv", "pad", "size" if tag == "huge" else "kind",
         files={"t.csv": "name,op,k,c,y_in,x_in,r,s,pad\nc1,conv,8,8,8,8,3,3," + v + "\n"})
LAYER_TABLE_KIND = {
    "unknown-op": ("name,op,k,c,y_in\nc1,pool,8,8,8\n", "op"),
    "unknown-column": ("name,op,k,c,y_in,colour\nc1,gemm,8,8,8,red\n", "colour"),
    "missing-column": ("name,op,k,c\nc1,gemm,8,8\n", "y_in"),
    "no-rows": ("name,op,k,c,y_in\n", "rows"),
    "no-header": ("", "header"),
    "extra-cells": ("name,op,k,c,y_in\nc1,gemm,8,8,8,9\n", "row"),
    "duplicate-layer": ("name,op,k,c,y_in\nc1,gemm,8,8,8\nc1,gemm,8,8,8\n", "c1"),
    "unknown-input": ("name,op,k,c,y_in,inputs\nc1,gemm,8,8,8,\nc2,gemm,8,8,8,zz\n", "inputs"),
    "later-input": ("name,op,k,c,y_in,inputs\nc1,gemm,8,8,8,c2\nc2,gemm,8,8,8,\n", "inputs"),
    "filter-too-big": ("name,op,k,c,y_in,x_in,r,s\nc1,conv,8,8,2,2,5,5\n", "filter"),
    "bad-description": ('# description: "unclosed\nname,op,k,c,y_in\nc1,gemm,8,8,8\n', "description"),
}
for tag, (text, fld) in LAYER_TABLE_KIND.items():
    case(f"layer-csv/{tag}", "layer-costs --model {d}/t.csv", fld, files={"t.csv": text})
for tag, (doc, fld) in {
    "layers-missing": ({"name": "t"}, "layers"),
    "layers-mapping": ({"name": "t", "layers": {"a": 1}}, "layers"),
    "layer-string": ({"name": "t", "layers": ["conv"]}, "layers[1]"),
    "inputs-number": ({"name": "t", "layers": [{"name": "a", "op": "gemm", "k": 8, "c": 8, "y_in": 8, "inputs": 5}]},
                      "inputs"),
    "k-float": ({"name": "t", "layers": [{"name": "a", "op": "gemm", "k": 8.5, "c": 8, "y_in": 8}]}, "k"),
    "k-nan": ({"name": "t", "layers": [{"name": "a", "op": "gemm", "k": float("nan"), "c": 8, "y_in": 8}]}, "k"),
    "k-bool": ({"name": "t", "layers": [{"name": "a", "op": "gemm", "k": True, "c": 8, "y_in": 8}]}, "k"),
    "name-null": ({"name": "t", "layers": [{"name": None, "op": "gemm", "k": 8, "c": 8, "y_in": 8}]}, "name"),
    "op-list": ({"name": "t", "layers": [{"name": "a", "op": ["gemm"], "k": 8, "c": 8, "y_in": 8}]}, "op"),
    "top-level-key": ({"name": "t", "layers": [], "colour": 1}, "colour"),
    "top-level-list": ([1], "yaml"),
}.items():
    case(f"layer-yaml/{tag}", "layer-costs --model {d}/t.yaml", fld, files={"t.yaml": dump(doc)})
case("layer-table/wrong-extension", "layer-costs --model {d}/t.txt", "t.txt", files={"t.txt": TABLE_CSV})
TRAIN_KIND = {
    "unknown-key": ("colour=red", "colour"), "ppo-unknown-key": ("ppo.lr=0.1", "ppo.lr"),
    "lr-string": ("ppo.learning_rate=3e-4", "ppo.learning_rate"), "lr-zero": ("ppo.learning_rate=0", "ppo.learning_rate"),
    "gamma-big": ("ppo.gamma=1.5", "ppo.gamma"), "n-envs-zero": ("n_envs=0", "n_envs"),
    "n-steps-zero": ("ppo.n_steps=0", "ppo.n_steps"), "batch-too-big": ("ppo.batch_size=100000", "ppo.batch_size"),
    "net-arch-zero": ("policy.net_arch=[0]", "policy.net_arch"),
    "net-arch-string": ("policy.net_arch=big", "policy.net_arch"),
    "extractor": ("policy.extractor=cnn", "policy.extractor"), "activation": ("policy.activation=gelu", "policy.activation"),
    "vec-env": ("vec_env=ray", "vec_env"), "env-id": ("env_id=CartPole-v1", "env_id"),
    "env-kwarg-unknown": ("env_kwargs.rewrd=edp", "env_kwargs.rewrd"),
    "env-kwarg-reward": ("env_kwargs.reward=speed", "env_kwargs.reward"),
    "mcm-unknown": ("mcm=hex-3x3", "mcm"), "eval-freq-zero": ("eval.freq=0", "eval.freq"),
    "checkpoint-freq-negative": ("checkpoint.freq=-1", "checkpoint.freq"),
    "scenario-source": ("scenarios.train.source=web", "scenarios.train.source"),
    "train-seed-is-a-test-seed": (["scenarios.train.source=random", "scenarios.train.seed=20000"],
                                  "scenarios.train.seed"),
    "eval-seed-is-a-train-seed": ("scenarios.eval.source=random", "scenarios.eval"),
    "timesteps-zero": ("n_timesteps=0", "n_timesteps"), "torch-threads-zero": ("torch_threads=0", "torch_threads"),
    "n-epochs-huge": ("ppo.n_epochs=1000000000", "ppo.n_epochs"),
    "set-not-kv": ("justakey", "--set"), "set-leaf-of-scalar": ("seed.x=1", "seed"),
    # names the run resolves, checked before the run directory is made (issue 14)
    "scenario-id-unknown": ("scenarios.eval.ids=[sc99]", "scenarios.eval.ids[0]"),
    "eval-reference-unknown": ("eval.reference=sacr", "eval.reference"),
    "env-reference-unknown": ("env_kwargs.reference=sacr", "env_kwargs.reference"),
    "extractor-kwargs-for-mlp": ("policy.extractor_kwargs={token_dim: 8}", "policy.extractor_kwargs"),
    "max-chiplets-below-mcm": ("env_kwargs.max_chiplets=4", "env_kwargs.max_chiplets"),
}
for tag, (kv, fld) in TRAIN_KIND.items():
    sets = [a for item in ([kv] if isinstance(kv, str) else kv) for a in ("--set", item)]
    case(f"train/{tag}", ["train", "{f}/smoke.yaml", "--run-dir", "{d}/run", *sets], fld)
case("train/timesteps-negative", "train {f}/smoke.yaml --run-dir {d}/run --timesteps -5", "n_timesteps")
EVAL_CSV = "policy,scenario,mcm,latency_s,energy_j,edp_js,edp_vs_scar,scheduler_s\nscar,sc1,m,1,1,1,1.0,0.1\n"
case("summarize/group-malformed", "summarize {d}/r.csv --group nothing", "--group", files={"r.csv": EVAL_CSV},
     new=True)
case("summarize/group-matches-nothing", "summarize {d}/r.csv --group x=ppo*", "--group", files={"r.csv": EVAL_CSV},
     new=True)
case("summarize/not-results", "summarize {f}/smoke.yaml", "row 1", new=True)
case("summarize/nan-ratio", "summarize {d}/r.csv", "row 1", files={"r.csv": EVAL_CSV.replace("1.0,0.1", "nan,0.1")},
     new=True)
case("summarize/greedy-from-csv", "summarize {d}/r.csv --greedy", "--greedy", files={"r.csv": EVAL_CSV}, new=True)
case("summarize/json-is-input", "summarize {d}/r.csv --json {d}/r.csv", "--json", "overwrite",
     files={"r.csv": EVAL_CSV}, keep=("{d}/r.csv",), new=True)
case("train/config-top-level-list", "train {d}/c.yaml", "top level", files={"c.yaml": "[1, 2]\n"})
case("train/config-malformed", "train {d}/c.yaml", "c.yaml", files={"c.yaml": "ppo: {n_steps: \n"})


# == library loaders and environments (not command lines) ============================================

@dataclass(frozen=True)
class LibCase:
    """A library call that must raise :class:`scar_gym.errors.ScarGymError` whose message names ``field``."""

    id: str
    call: Callable[[Path], Any]
    field: str
    category: str = "kind"


_ENVS: dict[tuple, Any] = {}


def _env(id: str = "ScarGym/Schedule-v0", **kw: Any):
    """A reset env (one per id and options, reused: its scenario data is cached, so the cases stay fast)."""
    import gymnasium as gym

    import scar_gym  # noqa: F401

    key = (id, tuple(sorted(kw.items())))
    if key not in _ENVS:
        _ENVS[key] = gym.make(id, scenario="sc8", mcm="het-sides-3x3", **kw)
    env = _ENVS[key]
    env.reset(seed=0)
    return env


def _step(env_id: str, action: Any, **kw: Any) -> Any:
    env = _env(env_id, invalid_action="raise", **kw)
    return env.step(action)


LIBRARY_CASES: list[LibCase] = []
for env_id in ("ScarGym/Schedule-v0", "ScarGym/Window-v0"):
    short = env_id.split("/")[1]
    for tag, opts in (("list", [1, 2]), ("string", "sc4"), ("number", 5), ("tuple", ("scenario", "sc4"))):
        LIBRARY_CASES.append(LibCase(f"env/{short}-reset-options-{tag}",
                                     lambda f, e=env_id, o=opts: _env(e).reset(options=o), "options", "everyday"))
    for tag, action in (("list", [0]), ("array", "array"), ("nested", [[0]]), ("float", 0.0), ("string", "0"),
                        ("bool", True)):
        def call(f: Path, e: str = env_id, a: Any = action) -> Any:
            import numpy as np

            return _step(e, np.array([0]) if isinstance(a, str) and a == "array" else a)
        LIBRARY_CASES.append(LibCase(f"env/{short}-action-{tag}", call, "action", "everyday"))


def _lib_schedule(doc: Any) -> Any:
    from scar_gym.schedule import Schedule

    return Schedule.from_dict(doc, "s.json")


for tag, doc in (("null", None), ("number", 5), ("list", [1]), ("windows-null", {"windows": None}),
                 ("meta-list", {"windows": [[{"model": 0, "segments": [[0, 2, 0]]}]], "meta": [1]}),
                 ("segment-float", {"windows": [[{"model": 0, "segments": [[0, 2.5, 0]]}]]}),
                 ("segment-bool", {"windows": [[{"model": 0, "segments": [[0, True, 0]]}]]}),
                 ("segment-long", {"windows": [[{"model": 0, "segments": [[0, 2, 0, 1]]}]]}),
                 ("model-float", {"windows": [[{"model": 0.5, "segments": [[0, 2, 0]]}]]})):
    LIBRARY_CASES.append(LibCase(f"schedule/from_dict-{tag}", lambda f, d=doc: _lib_schedule(d),
                                 "meta" if "meta" in tag else ("windows" if tag not in ("null", "number", "list")
                                                                else "windows"), "tamper"))


def _mcm(doc: Any) -> Any:
    from scar_gym.hardware import mcm_from_dict

    return mcm_from_dict(doc, "m.yaml")


for tag, doc, fld in (("clock-nan", {**MCM, "package": {"clock_hz": float("nan")}}, "package.clock_hz"),
                      ("layout-huge", {**MCM, "layout": ["N" * 200] * 200}, "layout"),
                      ("num-pes-huge", {**MCM, "num_pes": 2**40}, "num_pes")):
    LIBRARY_CASES.append(LibCase(f"hardware/mcm_from_dict-{tag}", lambda f, d=doc: _mcm(d), fld,
                                 "size" if "huge" in tag else "nonfinite"))


def _grid(layout: str) -> Any:
    from scar_gym.hardware import grid_mcm

    return grid_mcm(layout)


LIBRARY_CASES.append(LibCase("hardware/grid_mcm-100x100", lambda f: _grid("/".join(["N" * 100] * 100)), "layout",
                             "size"))


def _evaluator_batch(b: int) -> Any:
    from scar_gym.factory import make_evaluator
    from scar_gym.scenarios import ModelSet
    from scar_gym.workloads.zoo import get_model

    return make_evaluator(ModelSet("x", (get_model("d2go"),), (b,), "arvr"), "het-sides-3x3")


LIBRARY_CASES.append(LibCase("evaluator/batch-1e12", lambda f: _evaluator_batch(10**12), "batch", "size"))


def _duplicate_modelset(f: Path) -> Any:
    from scar_gym.factory import make_evaluator
    from scar_gym.scenarios import ModelSet
    from scar_gym.workloads.zoo import get_model

    m = get_model("d2go")
    return make_evaluator(ModelSet("x", (m, m), (1, 2), "arvr"), "het-sides-3x3")


LIBRARY_CASES.append(LibCase("evaluator/duplicate-model-names", _duplicate_modelset, "d2go", "duplicate"))


def _layer(**kw: Any) -> Any:
    from scar_gym.workloads.layers import Layer

    return Layer("a", **{"op": "gemm", "k": 8, "c": 8, "y_in": 8, **kw})


for tag, kw, fld in (("k-huge", {"k": 10**30}, "k"), ("pad-bool", {"pad": True}, "pad"),
                     ("macs-huge", {"k": 2**20, "c": 2**20, "y_in": 2**20}, "macs")):
    LIBRARY_CASES.append(LibCase(f"layers/Layer-{tag}", lambda f, k=kw: _layer(**k), fld, "size"))


# == running =========================================================================================

class Timeout(Exception):
    pass


@dataclass
class Outcome:
    """How a case went: ``kind`` is clear / unclear / traceback / hang / accepted / note / ok / skipped."""

    case: Case
    kind: str
    code: int | None = None
    stdout: str = ""
    stderr: str = ""
    error: str = ""
    seconds: float = 0.0
    changed: tuple[str, ...] = ()
    code_ran: bool = False
    one_line: bool = True

    @property
    def passed(self) -> bool:
        return self.kind in ("clear", "ok") and not self.changed and not self.code_ran


def format_argv(c: Case, d: Path, f: Path) -> list[str]:
    return [a.replace("{d}", str(d)).replace("{f}", str(f)) for a in c.argv]


def write_case_files(c: Case, d: Path, f: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    for name, content in c.files:
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        value = content(f) if callable(content) else content
        if isinstance(value, bytes):
            p.write_bytes(value)
        else:
            p.write_text(value)


def run_case(c: Case, d: Path, f: Path, main: Callable[[list[str]], int] | None = None) -> Outcome:
    """Run one case in-process (cwd = its folder) with an alarm as the hang detector; classify it."""
    if main is None:
        from scar_gym.cli import main
    write_case_files(c, d, f)
    argv = format_argv(c, d, f)
    keep = {p.replace("{d}", str(d)).replace("{f}", str(f)): None for p in c.keep}
    for p in keep:
        keep[p] = Path(p).read_bytes() if Path(p).exists() else None
    marker = f / MARKER
    if marker.exists():
        marker.unlink()
    out, err = io.StringIO(), io.StringIO()
    old_cwd = os.getcwd()
    code, error, kind = None, "", ""

    def alarm(*_: Any) -> None:
        raise Timeout()

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, c.timeout)
    t0 = time.perf_counter()
    try:
        os.chdir(d)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except Timeout:
        kind = "hang"
    except BaseException as e:  # noqa: BLE001  (a traceback is what is being counted)
        kind, error = "traceback", f"{type(e).__name__}: {e}"[:500]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        os.chdir(old_cwd)
    seconds = time.perf_counter() - t0
    changed = tuple(p for p, before in keep.items()
                    if before is not None and (not Path(p).is_file() or Path(p).read_bytes() != before))
    o = Outcome(c, kind, code, out.getvalue(), err.getvalue(), error, seconds, changed, marker.exists())
    if not kind:
        o.kind = classify(c, code, o.stdout, o.stderr, d, f)
    lines = [line for line in o.stderr.splitlines() if line.strip()]
    o.one_line = len(lines) == 1
    return o


def classify(c: Case, code: int | None, stdout: str, stderr: str, d: Path, f: Path) -> str:
    if c.expect == 0:
        made = all(Path(p.replace("{d}", str(d)).replace("{f}", str(f))).exists() for p in c.creates)
        return "ok" if code == 0 and made else ("clear" if code == 2 else "unclear")
    if code == 0:
        return "note" if "note:" in stdout + stderr else "accepted"
    lines = [line for line in stderr.splitlines() if line.strip()]
    text = lines[-1] if lines else ""
    if "error" in text and c.field.lower() in text.lower():
        return "clear"
    return "unclear"


def run_lib_case(c: LibCase, f: Path, timeout: float = 60.0) -> tuple[str, str]:
    """(kind, message): ``clear`` when a ScarGymError naming the field is raised, else what happened."""
    from scar_gym.errors import ScarGymError

    def alarm(*_: Any) -> None:
        raise Timeout()

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        c.call(f)
    except Timeout:
        return "hang", ""
    except ScarGymError as e:
        return ("clear" if c.field.lower() in str(e).lower() else "unclear"), str(e)
    except Exception as e:  # noqa: BLE001
        return "traceback", f"{type(e).__name__}: {e}"[:300]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return "accepted", ""
