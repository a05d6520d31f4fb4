"""ChipletSetExtractor on synthetic observations: shapes, set symmetry, padding, and a few PPO steps."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
gym = pytest.importorskip("gymnasium")

from agents.extractors import ChipletSetExtractor  # noqa: E402


def _space(c=9, k=None):
    d = {"chiplets": gym.spaces.Box(0, 1, (c, 6), np.float32), "global": gym.spaces.Box(0, 1, (5,), np.float32),
         "action_mask": gym.spaces.MultiBinary(k or c)}
    if k:
        d["candidates"] = gym.spaces.Box(0, 1, (k, 4), np.float32)
        d["candidate_chiplets"] = gym.spaces.Box(0, 1, (k, c), np.float32)
    return gym.spaces.Dict(d)


def _obs(space, n=2, seed=0):
    rng = np.random.default_rng(seed)
    return {k: torch.as_tensor(rng.random((n, *s.shape)).astype(np.float32)) for k, s in space.spaces.items()}


def test_shapes_and_mask_is_not_a_feature():
    torch.manual_seed(0)
    for sp in (_space(), _space(k=7)):
        ex = ChipletSetExtractor(sp, token_dim=8)
        o = _obs(sp)
        out = ex(o)
        assert out.shape == (2, ex.features_dim) and torch.isfinite(out).all()
        o2 = dict(o, action_mask=torch.zeros_like(o["action_mask"]))
        assert torch.equal(ex(o2), out)


def test_chiplet_set_symmetry_and_padding():
    """Permuting chiplets permutes their tokens and leaves the pooled part unchanged; zero rows are
    padding (a 2x2 MCM padded to 9 chiplets gives the same pooled features as the 4 rows alone)."""
    torch.manual_seed(0)
    sp = _space(c=9)
    ex = ChipletSetExtractor(sp, token_dim=8).eval()
    o = _obs(sp, n=1)
    perm = torch.randperm(9)
    op = dict(o, chiplets=o["chiplets"][:, perm])
    with torch.no_grad():
        a, b = ex(o), ex(op)
    d = 8
    np.testing.assert_allclose(a[:, :9 * d].reshape(9, d)[perm].numpy(), b[:, :9 * d].reshape(9, d).numpy(), atol=1e-5)
    np.testing.assert_allclose(a[:, 9 * d:].numpy(), b[:, 9 * d:].numpy(), atol=1e-5)

    small = _space(c=4)
    ex4 = ChipletSetExtractor(small, token_dim=8).eval()
    ex4.load_state_dict(ex.state_dict())  # same weights: the parameters do not depend on the MCM size
    o4 = _obs(small, n=1, seed=1)
    padded = dict(o4, chiplets=torch.cat([o4["chiplets"], torch.zeros(1, 5, 6)], dim=1),
                  action_mask=torch.zeros(1, 9))
    pooled4 = ex4(o4)[:, 4 * d:]
    pooled9 = ex(padded)[:, 9 * d:]
    np.testing.assert_allclose(pooled4.detach().numpy(), pooled9.detach().numpy(), atol=1e-5)


def test_ppo_with_attention_extractor(tmp_path):
    pytest.importorskip("sb3_contrib")
    from agents.config import load_config
    from agents.train import train

    cfg = load_config("smoke", {"n_timesteps": 64, "policy.extractor": "chiplet_attention",
                                "policy.extractor_kwargs": {"token_dim": 8}, "eval.freq": 64,
                                "checkpoint.freq": 64})
    run = train(cfg, run_dir=tmp_path / "attn", argv=["test"])
    assert (run / "final_model.zip").exists()
    from agents.agentfile import load_agent

    agent = load_agent(run / "final_agent")  # weights only: the attention extractor is rebuilt from agent.json
    assert type(agent.policy.features_extractor).__name__ == "ChipletSetExtractor"
    assert agent.network["features_extractor_kwargs"] == {"token_dim": 8}
