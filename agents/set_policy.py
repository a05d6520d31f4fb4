"""A size- and layout-agnostic network for ``ScarGym/Window-v0`` (``obs_mode="sets"``).

The observation is a set of chiplets and a set of candidates, padded to the env's fixed shapes
(``max_chiplets`` rows and ``k_max`` slots: Stable-Baselines3 needs fixed-shape spaces) with the
padding recognisable (all-zero rows). Nothing in the network has a size that depends on either:

* **chiplets** (``chiplets`` (C, 9): dataflow, position, DRAM hops, free, load): one shared
  per-chiplet MLP, then ``n_layers`` rounds of

  - message passing over the NoP graph (``nop_adjacency``, the MCM's links, mesh or triangular):
    ``h <- LN(h + MLP([h, mean of the neighbours' h]))``, and
  - multi-head self-attention over all chiplets whose logits are biased by
    ``-softplus(w_head) x hops`` (``nop_hops``, routed hops / max hops; one learned ``w`` per head),
    padding rows masked out of the keys;

* **candidates** (``candidates`` (K, 15) and ``candidate_chiplets`` (K, C)): a shared MLP of a
  candidate's own features and the mean embedding of the chiplets it occupies (message passing
  chiplets -> candidates), then self-attention among the listed candidates (empty slots masked);
* **context**: an MLP of ``global`` and the masked mean and max of the chiplet embeddings.

:class:`NopSetExtractor` returns ``[candidate tokens (K x d) | context (d)]``. :class:`SetPointerPolicy`
(MaskablePPO's actor-critic) scores each candidate with one shared MLP of ``[token, context]`` and
a shared linear layer (a pointer head: ``K`` logits from ``K`` tokens, no ``d x K`` layer), and the
value from the context and the mean candidate token. The parameter count is therefore the same for
every ``max_chiplets`` and ``k_max`` (``test_agents_set_policy`` checks it).

The features extractor ignores ``action_mask`` (MaskablePPO applies it to the logits).
"""

from __future__ import annotations

from typing import Sequence

import gymnasium as gym
import torch
from sb3_contrib.common.maskable.policies import MaskableMultiInputActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from agents.extractors import AttentionBlock

#: The observation keys the network reads (Window-v0 with ``obs_mode="sets"``).
SET_KEYS = ("candidate_chiplets", "candidates", "chiplets", "global", "nop_adjacency", "nop_hops")


def _mlp(sizes: Sequence[int], act: type[nn.Module] = nn.ReLU, last_act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = []
    pairs = list(zip(sizes[:-1], sizes[1:]))
    for i, (a, b) in enumerate(pairs):
        layers.append(nn.Linear(a, b))
        if last_act or i < len(pairs) - 1:
            layers.append(act())
    return nn.Sequential(*layers)


class _NopLayer(nn.Module):
    """One round over the chiplets: message passing on the NoP links, then hop-biased attention."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        if dim % heads:
            raise ValueError(f"token_dim {dim} is not a multiple of n_heads {heads}")
        self.heads, self.dh = heads, dim // heads
        self.msg = _mlp([2 * dim, dim, dim], last_act=False)
        self.norm0 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.hop_weight = nn.Parameter(torch.ones(heads))  # softplus(1) ~ 1.3 logits per max-hop distance
        self.norm1 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, 2 * dim), nn.ReLU(), nn.Linear(2 * dim, dim))
        self.norm2 = nn.LayerNorm(dim)

    def forward(self, h: torch.Tensor, adj: torch.Tensor, hops: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        """h (B, C, d), adj and hops (B, C, C), pad (B, C) True on padding rows."""
        deg = adj.sum(-1, keepdim=True).clamp(min=1.0)
        h = self.norm0(h + self.msg(torch.cat([h, adj @ h / deg], -1)))
        B, C, d = h.shape
        q, k, v = self.qkv(h).view(B, C, 3, self.heads, self.dh).permute(2, 0, 3, 1, 4)  # (B, H, C, dh) each
        logits = q @ k.transpose(-1, -2) / self.dh ** 0.5
        logits = logits - nn.functional.softplus(self.hop_weight).view(1, -1, 1, 1) * hops.unsqueeze(1)
        logits = logits.masked_fill(pad.view(B, 1, 1, C), float("-inf"))
        att = torch.softmax(logits, -1) @ v  # (B, H, C, dh)
        h = self.norm1(h + self.out(att.transpose(1, 2).reshape(B, C, d)))
        return self.norm2(h + self.ff(h))


def _no_empty(pad: torch.Tensor) -> torch.Tensor:
    """A padding mask that never masks every key of a row (all -inf logits give NaN)."""
    return pad & ~pad.all(dim=1, keepdim=True)


class NopSetExtractor(BaseFeaturesExtractor):
    """Chiplet and candidate sets over the NoP graph (see the module docstring).

    Args:
        observation_space: Window-v0's Dict space with ``obs_mode="sets"``.
        token_dim: width ``d`` of every embedding.
        n_layers: rounds of message passing + attention over the chiplets.
        n_heads: attention heads (chiplets and candidates).
    """

    def __init__(self, observation_space: gym.spaces.Dict, token_dim: int = 64, n_layers: int = 2, n_heads: int = 2):
        missing = [k for k in SET_KEYS if k not in observation_space.spaces]
        if missing:
            raise ValueError(f"NopSetExtractor needs the keys {list(SET_KEYS)} (Window-v0 with obs_mode='sets'); "
                             f"missing {missing}")
        sp = observation_space.spaces
        n_slots = sp["candidates"].shape[0]
        super().__init__(observation_space, n_slots * token_dim + token_dim)
        d = token_dim
        self.token_dim = d
        self.encoder = _mlp([sp["chiplets"].shape[1], d, d])
        self.layers = nn.ModuleList(_NopLayer(d, n_heads) for _ in range(n_layers))
        self.cand_encoder = _mlp([sp["candidates"].shape[1] + d, d, d])
        self.cand_block = AttentionBlock(d, n_heads)
        self.global_net = _mlp([sp["global"].shape[0], d])
        self.context = _mlp([3 * d, d])

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        x = obs["chiplets"].float()
        B, C, _ = x.shape
        pad = x.abs().sum(-1) == 0  # (B, C): padding of a smaller MCM
        keep = (~pad).unsqueeze(-1).float()
        h = self.encoder(x)
        adj, hops = obs["nop_adjacency"].float(), obs["nop_hops"].float()
        kpad = _no_empty(pad)
        for layer in self.layers:
            h = layer(h, adj, hops, kpad) * keep
        mean = h.sum(1) / keep.sum(1).clamp(min=1.0)
        mx = h.masked_fill(pad.unsqueeze(-1), -1e9).max(1).values
        mx = torch.where(pad.all(1, keepdim=True), torch.zeros_like(mx), mx)
        c = obs["candidates"].float()
        inc = obs["candidate_chiplets"].float()
        pooled = inc @ h / inc.sum(-1, keepdim=True).clamp(min=1.0)
        cpad = c.abs().sum(-1) == 0  # empty slots
        tokens = self.cand_encoder(torch.cat([c, pooled], -1))
        tokens = self.cand_block(tokens, _no_empty(cpad)) * (~cpad).unsqueeze(-1).float()
        ctx = self.context(torch.cat([self.global_net(obs["global"].float()), mean, mx], -1))
        return torch.cat([tokens.flatten(1), ctx], -1)


class _PointerLatent(nn.Module):
    """SB3's ``mlp_extractor`` for :class:`SetPointerPolicy`: per-candidate actor latents, a pooled critic one."""

    def __init__(self, token_dim: int, pi: Sequence[int], vf: Sequence[int], act: type[nn.Module], n_slots: int):
        super().__init__()
        self.d = token_dim
        self.pi = _mlp([2 * token_dim, *pi], act) if pi else nn.Identity()
        self.vf = _mlp([2 * token_dim, *vf], act) if vf else nn.Identity()
        self.latent_pi_per_slot = pi[-1] if pi else 2 * token_dim
        self.latent_dim_pi = n_slots * self.latent_pi_per_slot
        self.latent_dim_vf = vf[-1] if vf else 2 * token_dim

    def _split(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        B = features.shape[0]
        tokens = features[:, : -self.d].reshape(B, -1, self.d)
        return tokens, features[:, -self.d:]

    def forward_actor(self, features: torch.Tensor) -> torch.Tensor:
        tokens, ctx = self._split(features)
        x = torch.cat([tokens, ctx.unsqueeze(1).expand_as(tokens)], -1)
        return self.pi(x).flatten(1)

    def forward_critic(self, features: torch.Tensor) -> torch.Tensor:
        tokens, ctx = self._split(features)
        valid = (tokens.abs().sum(-1, keepdim=True) > 0).float()
        mean = (tokens * valid).sum(1) / valid.sum(1).clamp(min=1.0)
        return self.vf(torch.cat([ctx, mean], -1))

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_actor(features), self.forward_critic(features)


class _PointerHead(nn.Module):
    """Per-slot latents (B, K x h) -> logits (B, K) through one shared ``Linear(h, 1)``."""

    def __init__(self, per_slot: int):
        super().__init__()
        self.per_slot = per_slot
        self.score = nn.Linear(per_slot, 1)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        B = latent.shape[0]
        return self.score(latent.view(B, -1, self.per_slot)).squeeze(-1)


class SetPointerPolicy(MaskableMultiInputActorCriticPolicy):
    """MaskablePPO actor-critic with per-candidate logits (a pointer head) over :class:`NopSetExtractor`.

    ``net_arch`` ``{pi: [...], vf: [...]}`` are the hidden layers of the shared per-candidate scorer
    and of the critic (both read ``[token, context]``-sized inputs)."""

    def _build_mlp_extractor(self) -> None:
        arch = self.net_arch if isinstance(self.net_arch, dict) else {"pi": self.net_arch, "vf": self.net_arch}
        d = self.features_extractor.token_dim
        self.mlp_extractor = _PointerLatent(d, list(arch.get("pi", [])), list(arch.get("vf", [])), self.activation_fn,
                                            int(self.action_space.n))

    def _build(self, lr_schedule) -> None:
        super()._build(lr_schedule)
        self.action_net = _PointerHead(self.mlp_extractor.latent_pi_per_slot)
        if self.ortho_init:
            self.action_net.apply(lambda m: self.init_weights(m, gain=0.01))
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)
