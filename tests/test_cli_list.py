"""``scar-gym list ...`` and the CLI's error handling."""

from __future__ import annotations

import subprocess
import sys

from scar_gym.cli import main
from scar_gym.presets import MCM_NAMES
from scar_gym.scenarios import SCENARIO_IDS
from scar_gym.textfmt import format_table


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_mcms(capsys):
    code, out, err = run(capsys, "list", "mcms")
    assert code == 0 and not err
    assert all(name in out for name in MCM_NAMES)
    assert "NNSSNN/NNSSNN/SSSSSS/SSSSSS/NNSSNN/NNSSNN" in out and "Het-Sides" in out


def test_list_named_mcms(capsys):
    code, out, _ = run(capsys, "list", "mcms", "het-sides-6x6", "nsn/sns@tri")
    assert code == 0
    assert "het-sides-6x6" in out and "NNSSNN" in out and "NSN/SNS@tri" in out and "tri" in out


def test_list_models(capsys):
    from scar_gym.workloads.zoo import MODEL_IDS

    code, out, err = run(capsys, "list", "models")
    assert code == 0 and not err
    assert all(m in out for m in MODEL_IDS)
    assert "GMACs" in out and "datacenter" in out and "arvr" in out


def test_list_scenarios(capsys):
    code, out, _ = run(capsys, "list", "scenarios")
    assert code == 0
    lines = out.splitlines()
    assert all(any(line.split()[0] == sid for line in lines[2:]) for sid in SCENARIO_IDS)
    assert "gpt-l (8), bert-large (24), unet (1), resnet50 (32)" in out
    assert "eyecod (60), hand-tracking (45)" in out


def test_list_policies(capsys):
    code, out, _ = run(capsys, "list", "policies")
    assert code == 0 and out.strip()


def test_unknown_mcm_exits_2_with_message(capsys):
    code, out, err = run(capsys, "list", "mcms", "het-bogus-3x3")
    assert code == 2 and not out
    assert err.startswith("error: mcm: unknown MCM 'het-bogus-3x3'")
    assert "het-sides-3x3" in err and "Traceback" not in err


def test_bad_files_exit_2_naming_the_file(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nlayout: NSN/NXN\n")
    code, _, err = run(capsys, "list", "mcms", str(bad))
    assert code == 2 and f"error: {bad}: layout:" in err
    bad.write_text("id: x\ndomain: datacenter\nmodels:\n  - {model: gpt-l, batch: 0}\n")
    code, _, err = run(capsys, "list", "scenarios", str(bad))
    assert code == 2 and f"error: {bad}: models[0].batch:" in err
    code, _, err = run(capsys, "list", "scenarios", "sc42")
    assert code == 2 and "unknown scenario 'sc42'" in err


def test_usage_errors(capsys):
    assert main([]) == 2
    assert main(["list"]) == 2
    assert main(["list", "gadgets"]) == 2
    assert main(["--version"]) == 0
    assert main(["list", "--help"]) == 0
    capsys.readouterr()


def test_python_dash_m():
    proc = subprocess.run([sys.executable, "-m", "scar_gym", "list", "mcms"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and "het-cross-6x6" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "scar_gym", "list", "mcms", "nope"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ")


def test_format_table():
    text = format_table(["name", "n", "x"], [["a", 1, 0.5], ["bbb", 22, None]])
    assert text.splitlines() == [
        "name   n    x",
        "----  --  ---",
        "a      1  0.5",
        "bbb   22    -",
    ]
    assert format_table(["a", "b"], [["1.0", "x"]], align="rl").splitlines()[2] == "1.0  x"
