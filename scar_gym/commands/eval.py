"""``scar-gym eval [--agent PATH ...] [--policy NAME ...] --suite paper|random-N``: the leaderboard.

Runs SCAR, Standalone, greedy and random (unless ``--no-baselines``) plus every ``--policy`` and
``--agent`` on a fixed scenario suite and prints EDP relative to SCAR (geometric mean over the
suite, its 95% bootstrap interval over the scenarios, the interquartile mean and its interval), then
writes per-(policy, scenario) rows to ``--csv`` / ``--json``. Suites and the seed split are those of
:mod:`scar_gym.suites`: ``paper`` = sc1..sc10, ``datacenter``, ``arvr``, a scenario id or YAML file,
``random-N`` = N test scenarios from generator seed 20000 + ``--seed``, never used in training or
model selection; all on het-sides-3x3 (or ``--mcm``). ``large-RxC`` (``large-6x6``, ``large-8x8``,
...) = sc4..sc7 and 4 random test scenarios of 4-12 models, alternately on het-cross-RxC and
het-sides-RxC. Deterministic given ``--seed`` (except the wall times).
``--jobs N`` spreads the (policy, scenario) runs over N processes, ``--address`` (or ``RAY_ADDRESS``)
over a Ray cluster; the rows are the serial run's, in the same order.
"""

from __future__ import annotations

import argparse
import sys

from scar_gym.commands.args import add_parallel_arguments, count, seed
from scar_gym.commands.schedule import ANY_SIZE_SEARCH, MAX_SAMPLES, add_trust_argument, input_paths


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("eval", help="benchmark policies/agents against SCAR on a scenario suite",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--agent", action="append", default=[], metavar="PATH",
                   help="trained agent: agent directory, run dir or pretrained name (repeatable); an SB3 zip needs "
                        "--trust")
    p.add_argument("--policy", action="append", default=[], metavar="NAME",
                   help="registry policy name (ppo = the shipped size-agnostic agent, ppo-3x3 = the earlier SCAR-anchored "
                        "3x3 one), or ppo:PATH (repeatable)")
    p.add_argument("--suite", default="paper",
                   help="paper | datacenter | arvr | random-N | large-RxC (e.g. large-6x6: its own MCMs) | a scenario "
                        "id or YAML file (default paper)")
    p.add_argument("--seed", type=seed, default=0, help="suite and policy seed (default 0)")
    p.add_argument("--mcm", default=None, help="MCM for every scenario (default het-sides-3x3)")
    p.add_argument("--no-baselines", action="store_true", help="run only SCAR and the named policies")
    p.add_argument("--csv", default=None, metavar="FILE", help="one row per (policy, scenario)")
    p.add_argument("--json", default=None, metavar="FILE", help="rows, leaderboard, seed split and versions")
    p.add_argument("--per-scenario", action="store_true", help="also print EDP/SCAR per scenario")
    p.add_argument("--samples", type=count(MAX_SAMPLES, "rollouts"), default=None,
                   help="agents and window-ls(-any): rollouts per schedule, greedy one included (default: the policy's "
                        f"own, {ANY_SIZE_SEARCH['samples']} for ppo and window-ls-any, 8 for ppo-3x3 and window-ls; 1 = greedy)")
    p.add_argument("--improve", default=None, choices=("local", "sample"),
                   help="agents and window-ls(-any): how the extra rollouts are chosen (default local)")
    p.add_argument("--cost-preset", default=None, metavar="PRESET",
                   help="per-layer cost preset every policy is scored under: paper (default), maestro, legacy")
    add_trust_argument(p)
    add_parallel_arguments(p, "(policy, scenario) runs")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or per-run lines (stderr)")
    p.set_defaults(func=eval_cmd)


def eval_cmd(args: argparse.Namespace) -> int:
    from scar_gym.benchmark import (BASELINES, DEFAULT_MCM, format_leaderboard, format_per_scenario, leaderboard,
                                 run_benchmark, write_csv, write_json)
    from scar_gym.costmodel.presets import get_cost_preset
    from scar_gym.fileio import check_outputs
    from scar_gym.parallel import ray_address
    from scar_gym.policies.registry import AGENT_POLICY
    from scar_gym.suites import suite_scenarios

    policies = [] if args.no_baselines else list(BASELINES)
    policies += args.policy
    policies += [a if a.startswith(f"{AGENT_POLICY}:") else f"{AGENT_POLICY}:{a}" for a in args.agent]
    scenarios = suite_scenarios(args.suite, args.seed)
    inputs = input_paths(args.suite, args.mcm, *policies)
    for sc in scenarios:
        inputs += list(getattr(sc, "table_paths", ()))
    check_outputs({"--csv": args.csv, "--json": args.json}, inputs)

    from scar_gym.progress import ProgressBar

    runs = len(scenarios) * len(dict.fromkeys(["scar", *policies]))  # SCAR always runs: it is the reference
    # lazy: an agent that fails to load is one error line, not a bar and an error
    bar = ProgressBar(runs, f"eval {args.suite}", enabled=not args.quiet, unit="run", lazy=True)

    def progress(policy: str, scenario: str, row) -> None:
        if not args.quiet:
            bar.write(f"  {scenario:>14s}  {policy:<28s} EDP {row.edp_js:.4g} J*s  x{row.edp_vs_scar:.3f} SCAR  "
                      f"{row.scheduler_s:.2f}s", file=sys.stderr)
        bar.update()

    rollout_kwargs = {k: v for k, v in (("samples", args.samples), ("improve", args.improve)) if v is not None}
    with bar:
        rows = run_benchmark(policies, suite=args.suite, seed=args.seed, mcm=args.mcm, scenarios=scenarios,
                             progress=progress, rollout_kwargs=rollout_kwargs, cost_preset=args.cost_preset,
                             trust=args.trust, jobs=args.jobs, address=ray_address(args.address))
    from scar_gym.suites import suite_mcms

    own = suite_mcms(args.suite, args.seed)
    mcm = args.mcm or (", ".join(dict.fromkeys(own)) if own else DEFAULT_MCM)
    preset = get_cost_preset(args.cost_preset).name
    print(f"suite {args.suite} (seed {args.seed}) on {mcm}, cost preset {preset}: "
          "EDP relative to SCAR, geometric mean (lower is better); IQM = interquartile mean; 95% CI = percentile "
          "bootstrap over the scenarios")
    print(format_leaderboard(leaderboard(rows)))
    if args.per_scenario:
        print()
        print(format_per_scenario(rows))
    if args.csv:
        write_csv(rows, args.csv)
        print(f"wrote {args.csv}")
    if args.json:
        write_json(rows, args.json, args.suite, args.seed, mcm, args.cost_preset)
        print(f"wrote {args.json}")
    return 0
