"""Feature extractors for the ScarGym Dict observations.

:class:`ChipletSetExtractor` treats the chiplets (and, if present, the candidate rows) as *sets*:

* every row of a set key (``chiplets``: (C_max, G)) goes through one shared per-row encoder
  (an MLP: the same weights for every chiplet, whatever the MCM size);
* ``n_layers`` rounds of multi-head self-attention with residual connections mix the rows
  (message passing over a complete graph; each row carries its mesh position in its features,
  so attention can learn the mesh locality); all-zero rows (padding of a smaller MCM) are
  masked out of the attention keys;
* outputs: the per-row embeddings flattened in row order (so the action head can still address
  "chiplet j"), plus a masked mean- and max-pool of them, plus an MLP embedding of the remaining
  (global) Box keys.

The parameter count does not grow with the number of chiplets except in the flattened token
part (``token_dim`` x C_max), and the same weights run on any MCM padded to the env's
``C_max``; this is what lets one policy be trained on 3x3 and run on 2x2 or mixed sizes.

``action_mask`` is never an input feature (MaskablePPO applies it to the logits).
"""

from __future__ import annotations

from typing import Sequence

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

#: Keys never fed to the network.
IGNORED_KEYS = ("action_mask",)


def _mlp(sizes: Sequence[int], act: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), act()]
    return nn.Sequential(*layers)


class AttentionBlock(nn.Module):
    """Post-norm transformer block over a set: self-attention (padding masked), then a 2x MLP.
    (batch, tokens, dim) -> same shape."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm1 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, 2 * dim), nn.ReLU(), nn.Linear(2 * dim, dim))
        self.norm2 = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, pad: torch.Tensor | None) -> torch.Tensor:
        h, _ = self.attn(x, x, x, key_padding_mask=pad, need_weights=False)
        x = self.norm1(x + h)
        return self.norm2(x + self.ff(x))


class ChipletSetExtractor(BaseFeaturesExtractor):
    """Shared per-chiplet encoder + self-attention over the chiplet set (see the module docstring).

    With a candidate key (Window-v0: ``candidates`` (K, F) and ``candidate_chiplets`` (K, C)), every
    candidate becomes a token too: a shared MLP of its own features and of the mean embedding of the
    chiplets it occupies (``candidate_chiplets @ chiplet_tokens``: message passing from chiplets to
    candidates), followed by self-attention among the candidates. The output then holds the
    candidate tokens in slot order (the action is a slot) instead of the chiplet tokens.

    Args:
        observation_space: a ``gym.spaces.Dict`` of Box spaces.
        set_keys: the keys whose 2-D values are sets of chiplet rows. ``None``: ``chiplets`` plus
            every other 2-D key with as many rows (Schedule-v0: just ``chiplets``).
        candidate_key, incidence_key: ``None``: ``candidates`` / ``candidate_chiplets`` if present.
        token_dim: width of the per-row embeddings.
        n_layers, n_heads: self-attention depth and heads (chiplets and candidates alike).
        global_dim: width of the embedding of the remaining keys.
    """

    def __init__(self, observation_space: gym.spaces.Dict, set_keys: Sequence[str] | None = None,
                 candidate_key: str | None = None, incidence_key: str | None = None,
                 token_dim: int = 32, n_layers: int = 1, n_heads: int = 2, global_dim: int = 64):
        spaces = {k: s for k, s in observation_space.spaces.items() if k not in IGNORED_KEYS}
        if candidate_key is None and "candidates" in spaces:
            candidate_key = "candidates"
        if incidence_key is None and candidate_key and "candidate_chiplets" in spaces:
            incidence_key = "candidate_chiplets"
        if set_keys is None:
            set_keys = [k for k in ("chiplets",) if k in spaces]
            if set_keys:
                n_rows = spaces["chiplets"].shape[0]
                set_keys += sorted(k for k, s in spaces.items()
                                   if k not in ("chiplets", candidate_key, incidence_key)
                                   and len(s.shape) == 2 and s.shape[0] == n_rows)
        set_keys = list(set_keys)
        if not set_keys:
            raise ValueError(f"ChipletSetExtractor: no set key among {sorted(spaces)}; pass set_keys=[...]")
        n_rows = {spaces[k].shape[0] for k in set_keys}
        if len(n_rows) != 1:
            raise ValueError(f"set keys {set_keys} have different row counts {n_rows}")
        rows = n_rows.pop()
        row_feat = sum(int(np.prod(spaces[k].shape[1:])) for k in set_keys)
        used = set(set_keys) | {candidate_key, incidence_key}
        global_keys = sorted(k for k in spaces if k not in used)
        global_in = sum(int(np.prod(spaces[k].shape)) for k in global_keys)
        n_cand = spaces[candidate_key].shape[0] if candidate_key else 0
        slots = n_cand if candidate_key else rows
        features_dim = slots * token_dim + 2 * token_dim + (global_dim if global_in else 0)
        super().__init__(observation_space, features_dim)
        self.set_keys, self.global_keys, self.rows = set_keys, global_keys, rows
        self.candidate_key, self.incidence_key, self.n_cand = candidate_key, incidence_key, n_cand
        self.encoder = _mlp([row_feat, token_dim, token_dim])
        self.blocks = nn.ModuleList(AttentionBlock(token_dim, n_heads) for _ in range(n_layers))
        self.global_net = _mlp([global_in, global_dim]) if global_in else None
        if candidate_key:
            cand_feat = int(np.prod(spaces[candidate_key].shape[1:])) + (token_dim if incidence_key else 0)
            self.cand_encoder = _mlp([cand_feat, token_dim, token_dim])
            self.cand_blocks = nn.ModuleList(AttentionBlock(token_dim, n_heads) for _ in range(n_layers))

    @staticmethod
    def _attend(blocks: nn.ModuleList, h: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        pad = pad & ~pad.all(dim=1, keepdim=True)  # never mask every key (NaN attention)
        for blk in blocks:
            h = blk(h, pad)
        return h * (~pad).unsqueeze(-1).float()

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        B = next(iter(obs.values())).shape[0]
        x = torch.cat([obs[k].reshape(B, self.rows, -1).float() for k in self.set_keys], dim=-1)
        pad = x.abs().sum(-1) == 0  # (B, rows): padding rows of a smaller MCM
        h = self._attend(self.blocks, self.encoder(x), pad)
        keep = (~pad).unsqueeze(-1).float()
        mean = h.sum(1) / keep.sum(1).clamp(min=1.0)
        mx = h.masked_fill(pad.unsqueeze(-1), -1e9).max(1).values
        mx = torch.where(pad.all(1, keepdim=True), torch.zeros_like(mx), mx)
        if self.candidate_key:
            c = obs[self.candidate_key].reshape(B, self.n_cand, -1).float()
            parts_c = [c]
            if self.incidence_key:
                inc = obs[self.incidence_key].reshape(B, self.n_cand, -1).float()[..., : self.rows]
                pooled = inc @ h / inc.sum(-1, keepdim=True).clamp(min=1.0)
                parts_c.append(pooled)
            cpad = c.abs().sum(-1) == 0
            tokens = self._attend(self.cand_blocks, self.cand_encoder(torch.cat(parts_c, -1)), cpad)
        else:
            tokens = h
        parts = [tokens.flatten(1), mean, mx]
        if self.global_net is not None:
            g = torch.cat([obs[k].reshape(B, -1).float() for k in self.global_keys], dim=-1)
            parts.append(self.global_net(g))
        return torch.cat(parts, dim=-1)


class MaskDroppingFlatten(BaseFeaturesExtractor):
    """SB3's CombinedExtractor-style flatten of every Box key except ``action_mask`` (the MLP baseline)."""

    def __init__(self, observation_space: gym.spaces.Dict):
        keys = sorted(k for k in observation_space.spaces if k not in IGNORED_KEYS)
        dim = sum(int(np.prod(observation_space.spaces[k].shape)) for k in keys)
        super().__init__(observation_space, dim)
        self.keys = keys

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([obs[k].reshape(obs[k].shape[0], -1).float() for k in self.keys], dim=-1)


EXTRACTORS = {"mlp": MaskDroppingFlatten, "chiplet_attention": ChipletSetExtractor}
