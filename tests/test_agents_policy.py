"""The shipped agent as a Policy: greedy rollout, policy-guided local search, sampling, and bad input."""

from __future__ import annotations

import pytest

pytest.importorskip("sb3_contrib")

from agents.policy import PPOPolicy  # noqa: E402
from scar_gym.costmodel.tables import CostModel  # noqa: E402
from scar_gym.errors import ConfigError  # noqa: E402
from scar_gym.evaluator import Evaluator  # noqa: E402
from scar_gym.factory import make_evaluator  # noqa: E402
from scar_gym.presets import load_mcm  # noqa: E402

MCM = load_mcm("het-sides-3x3")


@pytest.fixture(scope="module")
def cost_model():
    return CostModel()


def _ev(sc: str, cost_model) -> Evaluator:
    return make_evaluator(sc, MCM, cost_model=cost_model)


def test_local_search_improves_on_the_greedy_rollout_within_its_budget(cost_model):
    # sc4: the shipped agent's greedy rollout is 42% worse than SCAR under the paper preset; taking one
    # decision back to SCAR's choice (the search's first neighbours) recovers it at rollout 1.
    ev = _ev("sc4", cost_model)
    sched = PPOPolicy(None, samples=4, improve="local").schedule(ev, seed=0)
    m = sched.meta
    res = ev.evaluate(sched)
    assert m["improve"] == "local" and 1 < m["rollouts"] <= 4 and len(m["trace"]) == m["rollouts"]
    assert res.edp_js == pytest.approx(m["best_objective"])
    assert res.edp_js < m["greedy_edp_js"] and m["best_rollout"] > 0
    assert [v for _, v in m["trace"]][-1] == m["best_objective"] and m["evaluations"] == m["trace"][-1][0]


def test_local_search_is_deterministic_and_greedy_only_is_the_greedy_rollout(cost_model):
    a = PPOPolicy(None, samples=6).schedule(_ev("sc10", cost_model), seed=0)
    b = PPOPolicy(None, samples=6).schedule(_ev("sc10", cost_model), seed=123)  # seed unused by "local"
    assert a.windows == b.windows
    g = PPOPolicy(None, samples=1).schedule(_ev("sc10", cost_model), seed=0)
    assert g.meta["rollouts"] == 1 and g.meta["best_objective"] == g.meta["greedy_objective"]
    assert a.meta["best_objective"] <= g.meta["greedy_objective"]


def test_sampled_rollouts_repeat_under_a_seed(cost_model):
    runs = [PPOPolicy(None, samples=4, improve="sample").schedule(_ev("sc8", cost_model), seed=7) for _ in range(2)]
    assert runs[0].windows == runs[1].windows
    assert runs[0].meta["rollouts"] == 4
    assert runs[0].meta["best_objective"] <= runs[0].meta["greedy_objective"]


@pytest.mark.parametrize("kwargs, field", [({"samples": 0}, "samples"), ({"samples": True}, "samples"),
                                           ({"improve": "beam"}, "improve")])
def test_bad_inference_settings_name_the_field(kwargs, field):
    with pytest.raises(ConfigError) as e:
        PPOPolicy(None, **kwargs)
    assert e.value.field == field


@pytest.mark.parametrize("agent", [None, "window-any-size"])
def test_traced_actor_gives_the_eager_logits_bit_for_bit_and_follows_weights_trained_in_place(agent, cost_model):
    """Inference runs the actor through torch.jit.trace; along a real episode its logits are the eager
    network's to the last bit, and after the weights change in place (as expert iteration trains them)
    the trace still agrees with the eager network."""
    import numpy as np
    import torch

    from agents import PRETRAINED_DIR

    pol = PPOPolicy(None if agent is None else str(PRETRAINED_DIR / agent))
    assert pol._traced is not None
    traced, tensors = pol._traced

    def eager(obs):
        with torch.no_grad():
            obs_t = {k: torch.as_tensor(np.asarray(v, dtype=np.float32)[None]) for k, v in obs.items()}
            return pol._eager_logits(obs_t)[0].numpy().astype(np.float64)

    ev = _ev("sc6", cost_model)
    env = pol.make_env(ev)
    obs, _ = env.reset(seed=0)
    steps = 0
    done = False
    while not done:
        got = pol._logits(obs)
        assert np.array_equal(got, eager(obs))
        obs, _, done, _, _ = env.step(int(np.argmax(np.where(env.action_masks(), got, -np.inf))))
        steps += 1
    assert steps > 3
    before = pol._logits(obs)
    with torch.no_grad():
        for p in pol.model.policy.parameters():
            p.mul_(1.5)
    after = pol._logits(obs)
    assert not np.array_equal(before, after) and np.array_equal(after, eager(obs))
