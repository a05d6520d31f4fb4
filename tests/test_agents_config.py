"""Training-config loading (agents.config): defaults, overrides, and errors that name the field."""

from __future__ import annotations

import pytest
import yaml

from agents.config import TrainConfig, config_from_dict, load_config, parse_overrides
from scar_gym.errors import ConfigError
from scar_gym.paths import TRAIN_DIR


def _write(tmp_path, data) -> str:
    p = tmp_path / "cfg.yaml"
    p.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return str(p)


def test_shipped_configs_load():
    files = sorted(TRAIN_DIR.glob("*.yaml"))
    assert files, "configs/train/ has no configs"
    for f in files:
        cfg = load_config(f)
        assert isinstance(cfg, TrainConfig)
        assert cfg.name == f.stem or cfg.name


def test_roundtrip_resolved_config(tmp_path):
    cfg = config_from_dict({"ppo": {"learning_rate": 1.0e-3}, "policy": {"net_arch": [16, 16]}})
    again = config_from_dict(yaml.safe_load(yaml.safe_dump(cfg.to_dict())))
    assert again == cfg
    assert again.policy.net_arch == (16, 16)


@pytest.mark.parametrize("data, field", [
    ({"bogus": 1}, "bogus"),
    ({"ppo": {"lr": 0.1}}, "ppo.lr"),
    ({"ppo": {"learning_rate": "3e-4"}}, "ppo.learning_rate"),
    ({"n_envs": "two"}, "n_envs"),
    ({"n_envs": 0}, "n_envs"),
    ({"seed": 1.5}, "seed"),
    ({"policy": {"extractor": "cnn"}}, "policy.extractor"),
    ({"policy": {"net_arch": [64, "x"]}}, "policy.net_arch[1]"),
    ({"scenarios": {"train": {"source": "web"}}}, "scenarios.train.source"),
    ({"scenarios": {"eval": {"domain": 3}}}, "scenarios.eval.domain"),
    ({"eval": {"deterministic": "yes"}}, "eval.deterministic"),
    ({"ppo": {"batch_size": 4096}}, "ppo.batch_size"),
    ({"vec_env": "threads"}, "vec_env"),
])
def test_errors_name_field_and_file(tmp_path, data, field):
    path = _write(tmp_path, data)
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert e.value.field == field
    assert str(e.value).startswith(f"{path}: {field}:")


def test_float_hint_for_yaml_exponent(tmp_path):
    with pytest.raises(ConfigError, match=r"3\.0e-4"):
        load_config(_write(tmp_path, "ppo:\n  learning_rate: 3e-4\n"))


def test_top_level_must_be_mapping(tmp_path):
    with pytest.raises(ConfigError, match="mapping"):
        load_config(_write(tmp_path, "- a\n- b\n"))


def test_overrides(tmp_path):
    path = _write(tmp_path, {"ppo": {"n_steps": 64}})
    cfg = load_config(path, ["ppo.learning_rate=1.0e-4", "seed=3", "policy.net_arch=[8, 8]"])
    assert cfg.ppo.learning_rate == 1e-4 and cfg.seed == 3 and cfg.policy.net_arch == (8, 8)
    assert cfg.ppo.n_steps == 64
    with pytest.raises(ConfigError) as e:
        load_config(path, ["ppo.nsteps=3"])
    assert e.value.field == "ppo.nsteps"
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_overrides(["seed"])


def test_held_out_seed_rule():
    from agents.envs import check_held_out

    check_held_out(config_from_dict({}))
    with pytest.raises(ConfigError) as e:
        check_held_out(config_from_dict({"scenarios": {"train": {"seed": 10001}}}))
    assert e.value.field == "scenarios.train.seed"
    with pytest.raises(ConfigError) as e:
        check_held_out(config_from_dict({"scenarios": {"eval": {"seed": 20000, "n": 3}}}))
    assert e.value.field == "scenarios.eval.seed"


def test_config_loading_imports_no_torch():
    import subprocess
    import sys

    code = ("import sys; import agents.config, scar_gym.benchmark, agents.rundir, agents.envs; "
            "import agents.cli, scar_gym.commands.eval; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_env_kwargs_typo_is_one_error_naming_the_key(tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text("env_id: scar_gym:ScarGym/Window-v0\nenv_kwargs: {reward_mode: edp_log_ratio}\n")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert str(e.value).startswith(f"{path}: env_kwargs.reward_mode: unknown option of ScarGym/Window-v0; "
                                   "did you mean 'reward'?")
