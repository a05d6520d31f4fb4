"""The README's main job, ``scar-gym demo``, on a small scenario: SCAR's schedule and every policy's row."""

from scar_gym.cli import main


def test_demo_prints_scar_schedule_and_all_policies(capsys):
    assert main(["demo", "--scenario", "sc10"]) == 0
    out = capsys.readouterr().out
    assert "scenario sc10" in out and "SCAR: latency" in out
    table = out.split("All policies on the same evaluator")[1]
    for policy in ("scar", "standalone", "greedy", "random", "window-ls-any", "ppo"):
        assert f"\n{policy} " in table
    assert "ppo: greedy rollout alone EDP" in table and "window-ls-any: greedy rollout alone EDP" in table
    scar_row = next(line for line in table.splitlines() if line.startswith("scar "))
    assert scar_row.split()[4] == "1.000"  # SCAR relative to itself


def test_demo_unknown_mcm_is_a_clear_error(capsys):
    assert main(["demo", "--mcm", "no-such-mcm"]) == 2
    assert "unknown mcm 'no-such-mcm'" in capsys.readouterr().err.lower()
