"""``scar-gym summarize RESULTS... [--group NAME=PATTERN,...]``: several seeds' eval results, one
summary per config with 95% intervals.

RESULTS are files written by ``scar-gym eval --csv`` or ``--json``. Every (file, policy) pair is one
*run* -- one seed of a config -- and its EDP / EDP_SCAR per scenario are that run's scores.
``--group NAME=PATTERN[,PATTERN...]`` (repeatable; shell-style patterns on the policy labels) pools
the matching runs as the seeds of config NAME; a policy in no group pools its runs by label across
files (the same label in two files = two seeds). Every run of a config must score the same
scenarios. Per config: geometric mean and IQM of EDP / EDP_SCAR with stratified-bootstrap 95%
intervals (over the seeds within each scenario when there are several seeds, over the scenarios for
one; ``--task-bootstrap``: over both) and wins / ties / losses over every (seed, scenario) pair
(:mod:`scar_gym.stats`). ``--greedy`` scores the learned policies' single greedy rollout (from a
``--json`` file's rows) instead of the best schedule kept.
"""

from __future__ import annotations

import argparse
import fnmatch
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scar_gym.commands.args import count, seed
from scar_gym.errors import ConfigError


@dataclass(frozen=True)
class Run:
    """One policy's ratios in one results file: ``ratios`` maps scenario id -> EDP / EDP_SCAR."""

    file: str
    policy: str
    ratios: dict[str, float]


def read_runs(path: str | Path, greedy: bool = False) -> list[Run]:
    """The runs of one ``scar-gym eval`` CSV or JSON file, in the file's policy order."""
    from scar_gym import fileio

    path = Path(path)
    if path.suffix.lower() == ".json":
        doc = fileio.read_json(path, "RESULTS")
        rows = doc.get("rows") if isinstance(doc, dict) else None
        if not isinstance(rows, list):
            raise ConfigError("rows", "no 'rows' list", "give a file written by scar-gym eval --json", str(path))
    else:
        import csv
        import io

        rows = list(csv.DictReader(io.StringIO(fileio.read_text(path, "RESULTS"))))
        if greedy:
            raise ConfigError("--greedy", f"{path} is a CSV, which holds no greedy rollouts",
                              "give the eval's --json file")
    by: dict[str, dict[str, float]] = {}
    for i, row in enumerate(rows):
        try:
            policy, scenario, ratio = str(row["policy"]), str(row["scenario"]), float(row["edp_vs_scar"])
            if greedy and "greedy_edp_js" in (row.get("meta") or {}):
                ratio = float(row["meta"]["greedy_edp_js"]) * ratio / float(row["edp_js"])
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as e:
            raise ConfigError(f"row {i + 1}", f"not an eval result row ({type(e).__name__}: {e})"[:200],
                              "give files written by scar-gym eval --csv / --json", str(path)) from None
        if not (math.isfinite(ratio) and ratio > 0):
            raise ConfigError(f"row {i + 1}", f"{policy} on {scenario}: EDP/SCAR is {ratio!r}",
                              "every run needs a finite positive ratio on every scenario", str(path))
        if scenario in by.setdefault(policy, {}):
            raise ConfigError(f"row {i + 1}", f"{policy} on {scenario} appears twice", "keep one row per pair",
                              str(path))
        by[policy][scenario] = ratio
    if not by:
        raise ConfigError("RESULTS", f"{path} has no result rows", "give a file written by scar-gym eval")
    return [Run(str(path), p, r) for p, r in by.items()]


def parse_group(text: str) -> tuple[str, list[str]]:
    """``NAME=PAT[,PAT...]`` -> (NAME, patterns)."""
    name, sep, pats = text.partition("=")
    patterns = [p.strip() for p in pats.split(",") if p.strip()]
    if not sep or not name.strip() or not patterns:
        raise ConfigError("--group", f"expected NAME=PATTERN[,PATTERN...], got {text!r}",
                          "e.g. --group 'relocate=ppo:relocate_s*'")
    return name.strip(), patterns


def group_runs(runs: Sequence[Run], groups: Sequence[tuple[str, list[str]]] = ()) -> dict[str, list[Run]]:
    """Configs -> their runs: the ``groups`` first (in order), then every other policy label."""
    out: dict[str, list[Run]] = {name: [] for name, _ in groups}
    if len(out) != len(groups):
        raise ConfigError("--group", "a config name is given twice", "give each --group its own NAME")
    for run in runs:
        hits = [name for name, pats in groups if any(fnmatch.fnmatchcase(run.policy, p) for p in pats)]
        if len(hits) > 1:
            raise ConfigError("--group", f"policy {run.policy!r} matches both {hits[0]!r} and {hits[1]!r}",
                              "make the patterns disjoint")
        out.setdefault(hits[0] if hits else run.policy, []).append(run)
    for name, pats in groups:
        if not out[name]:
            raise ConfigError("--group", f"{name}={','.join(pats)} matches no policy",
                              f"policies in the files: {', '.join(sorted({r.policy for r in runs}))}")
    return out


def ratio_matrix(name: str, runs: Sequence[Run]):
    """``(n_runs, n_scenarios)`` EDP / EDP_SCAR of one config's runs (scenarios in the first run's order)."""
    import numpy as np

    scenarios = list(runs[0].ratios)
    for run in runs[1:]:
        if set(run.ratios) != set(scenarios):
            diff = sorted(set(scenarios) ^ set(run.ratios))
            raise ConfigError("RESULTS", f"config {name!r}: {run.policy} in {run.file} and {runs[0].policy} in "
                              f"{runs[0].file} score different scenarios ({', '.join(diff[:4])} ...)"[:300],
                              "give runs of one suite (summarize each suite on its own)")
    return np.array([[run.ratios[s] for s in scenarios] for run in runs])


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("summarize", help="several seeds' eval results: geomean, IQM, W/T/L with 95%% intervals",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("results", nargs="+", metavar="RESULTS", help="scar-gym eval --csv or --json files")
    p.add_argument("--group", action="append", default=[], metavar="NAME=PATTERN,...",
                   help="pool the policies matching the patterns (e.g. 'ppo:relocate_s*') as seeds of config NAME")
    p.add_argument("--greedy", action="store_true", help="score the greedy rollout of learned policies (JSON only)")
    p.add_argument("--reps", type=count(10**6, "bootstrap replicates"), default=2000,
                   help="bootstrap replicates (default 2000)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the bootstrap (default 0)")
    p.add_argument("--task-bootstrap", action="store_true",
                   help="with several seeds, resample the scenarios too (intervals over seeds and scenarios)")
    p.add_argument("--json", default=None, metavar="FILE", help="write the summaries")
    p.set_defaults(func=summarize_cmd)


def summarize_cmd(args: argparse.Namespace) -> int:
    import json

    from scar_gym.fileio import check_outputs
    from scar_gym.stats import format_summary_table, summarize, summary_dict

    check_outputs({"--json": args.json}, args.results)
    groups = [parse_group(g) for g in args.group]
    runs = [run for path in args.results for run in read_runs(path, args.greedy)]
    configs = group_runs(runs, groups)
    summaries = {name: summarize(ratio_matrix(name, rs), reps=args.reps, seed=args.seed,
                                 task_bootstrap=args.task_bootstrap) for name, rs in configs.items()}
    order = sorted(summaries, key=lambda n: (summaries[n].geomean.point, n))
    over = "seeds and scenarios" if args.task_bootstrap else "seeds within each scenario (scenarios for one seed)"
    print(f"EDP relative to SCAR{' (greedy rollout)' if args.greedy else ''}, lower is better; 95% stratified-"
          f"bootstrap intervals over {over}, {args.reps} replicates; n = seeds x scenarios")
    print(format_summary_table({n: summaries[n] for n in order}))
    if args.json:
        doc = {"results": list(map(str, args.results)), "greedy": args.greedy, "reps": args.reps, "seed": args.seed,
               "task_bootstrap": args.task_bootstrap, "confidence": 0.95,
               "configs": {n: {**summary_dict(summaries[n]),
                               "runs": [{"file": r.file, "policy": r.policy} for r in configs[n]]} for n in order}}
        Path(args.json).write_text(json.dumps(doc, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0
