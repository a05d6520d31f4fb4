"""The envs' render modes: ``rgb_array`` frames (fixed size, drawn by the numpy raster) and ``ansi``."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import scar_gym  # noqa: F401  (registers the ids)
from scar_gym.envs import ToyGenerator

TOYS = ToyGenerator(n_models=(1, 4), n_layers=(2, 9)).pool(4, seed=2)


@pytest.mark.parametrize("env_id", ["ScarGym/Schedule-v0", "ScarGym/Window-v0"])
def test_rgb_array_frames_keep_one_size_over_episodes_and_scenarios(env_id):
    env = gym.make(env_id, scenario=TOYS, render_mode="rgb_array")
    rng = np.random.default_rng(0)
    shapes, frames = set(), 0
    for seed in range(3):
        env.reset(seed=seed)
        u = env.unwrapped
        first = env.render()
        while True:
            valid = np.flatnonzero(u.action_masks())
            *_, term, _, _ = env.step(int(valid[rng.integers(len(valid))]))
            img = env.render()
            shapes.add(img.shape)
            frames += 1
            assert img.dtype == np.uint8
            if term:
                break
        assert not np.array_equal(first, img)  # the schedule appeared
    assert len(shapes) == 1 and frames > 10


def test_ansi_status_line_then_grid():
    env = gym.make("ScarGym/Schedule-v0", scenario="sc10", render_mode="ansi")
    env.reset(seed=0)
    for _ in range(5):
        env.step(int(np.flatnonzero(env.unwrapped.action_masks())[0]))
    lines = env.render().splitlines()
    assert lines[0].startswith("sc10 on het-sides-3x3: window 1/") and "decision 5/133" in lines[0]
    assert "EDP" in lines[0] and lines[1].startswith("models: A=")
    assert lines[3].startswith("window 0: A[0,")


def test_record_video_writes_an_episode(tmp_path):
    """Gymnasium's RecordVideo over rgb_array frames (moviepy: the ``clients`` extra)."""
    pytest.importorskip("moviepy")
    from gymnasium.wrappers import RecordVideo

    folder = tmp_path / "videos"  # a new folder: RecordVideo warns when overwriting one
    env = RecordVideo(gym.make("ScarGym/Schedule-v0", scenario="sc10", render_mode="rgb_array"), str(folder),
                      episode_trigger=lambda e: True, disable_logger=True)
    env.reset(seed=0)
    u = env.unwrapped
    while not env.step(int(np.flatnonzero(u.action_masks())[0]))[2]:
        pass
    env.close()
    video = folder / "rl-video-episode-0.mp4"
    assert video.exists() and video.stat().st_size > 10_000
