"""Dataflow character on the real zoo: the paper-level facts the cost model must preserve.

``shared/spec/scar-method.md`` 4.1: NVD (weight stationary) beats Shi (output stationary) by a wide
margin on transformer GEMMs and late CNN layers; Shi wins on early large-plane convolutions. On
depthwise layers MAESTRO (the paper's model) splits: its channel-parallel NVD mapping wins late
depthwise layers (many channels, small planes) and Shi wins early ones (few channels, large
planes), which is what is asserted here rather than the spec's "Shi wins depthwise". Datacenter
models are costed on 4096-PE chiplets, AR/VR models on 256-PE ones (Table II), at batch 1 and at a
scenario-sized batch, with MAESTRO's semantics at unconstrained bandwidths (the ``maestro`` preset).
"""

from __future__ import annotations

from functools import cache

import pytest

from scar_gym.costmodel.tables import CostModel
from scar_gym.hardware import DOMAIN_PES, ChipletSpec
from scar_gym.workloads.zoo import MODEL_INFO, get_model

COST = CostModel("maestro")
BATCHES = (1, 8)
LM_MODELS = ("gpt-l", "bert-large", "bert-base")
LM_GEMMS = ("q", "k", "v", "out", "ffn1", "ffn2")  # projections and FFN
#: NVD must be at least this many times faster on the LM GEMMs ("a wide margin").
LM_MARGIN = 2.0


@cache
def latency(model_id: str, dataflow: str):
    """(B, L) cycles of every layer of the model on its domain's chiplet, for BATCHES."""
    pes = DOMAIN_PES[MODEL_INFO[model_id].domain]
    return COST.layer_costs(get_model(model_id), ChipletSpec(dataflow, pes), BATCHES).latency_cycles


def positions(model_id: str, pred) -> list[int]:
    return [i for i, layer in enumerate(get_model(model_id).layers) if pred(layer)]


def describe(model_id: str, i: int) -> str:
    layer = get_model(model_id).layers[i]
    nvd, shi = latency(model_id, "nvd")[:, i], latency(model_id, "shi")[:, i]
    return f"{model_id} {layer.name} ({layer.describe()}): nvd {nvd.tolist()} vs shi {shi.tolist()} cycles"


def _late_resnet_convs() -> list[str]:
    # Stages 4 and 5 (conv4_x, conv5_x; torchvision layer3/layer4): 3x3 convs with 14x14 or 7x7 outputs.
    return [l.name for l in get_model("resnet50").layers if l.op == "conv" and l.r == 3 and l.y_out <= 14]


def _depthwise(pred) -> list[tuple[str, str]]:
    return [(mid, l.name) for mid in ("d2go", "hand-tracking", "midas") for l in get_model(mid).layers
            if l.op == "dwconv" and pred(l)]


LATE_RESNET = _late_resnet_convs()
#: Early depthwise layers: at most 64 channels on a plane of at least 56 x 56 outputs.
EARLY_DEPTHWISE = _depthwise(lambda l: l.groups <= 64 and l.y_out * l.x_out >= 56 * 56)
#: Late depthwise layers: at least 256 channels on at most 20 x 20 outputs.
LATE_DEPTHWISE = _depthwise(lambda l: l.groups >= 256 and l.y_out * l.x_out <= 20 * 20)


def test_case_lists_cover_what_the_spec_names():
    # Stage 4 has 6 blocks, stage 5 has 3: nine 3x3 convs; every LM block has all six GEMMs.
    assert len(LATE_RESNET) == 9 and {n.split(".")[0] for n in LATE_RESNET} == {"layer3", "layer4"}
    assert len(EARLY_DEPTHWISE) >= 5 and len(LATE_DEPTHWISE) >= 10
    for mid in LM_MODELS:
        gemms = positions(mid, lambda l: l.op == "gemm")
        assert gemms and all(get_model(mid).layers[i].name.split(".")[-1] in LM_GEMMS for i in gemms)


@pytest.mark.parametrize("model_id", LM_MODELS)
@pytest.mark.parametrize("kind", LM_GEMMS)
def test_nvd_wins_lm_gemms(model_id, kind):
    idx = positions(model_id, lambda l: l.op == "gemm" and l.name.split(".")[-1] == kind)
    assert idx, f"no {kind} GEMMs in {model_id}"
    nvd, shi = latency(model_id, "nvd"), latency(model_id, "shi")
    for i in idx:
        assert (nvd[:, i] * LM_MARGIN <= shi[:, i]).all(), describe(model_id, i)


@pytest.mark.parametrize("name", LATE_RESNET)
def test_nvd_wins_late_resnet_3x3(name):
    i = get_model("resnet50").position[name]
    assert (latency("resnet50", "nvd")[:, i] < latency("resnet50", "shi")[:, i]).all(), describe("resnet50", i)


def test_shi_wins_resnet_conv1():
    i = get_model("resnet50").position["conv1"]
    assert get_model("resnet50").layers[i].c == 3
    assert (latency("resnet50", "shi")[:, i] < latency("resnet50", "nvd")[:, i]).all(), describe("resnet50", i)


@pytest.mark.parametrize("model_id, name", EARLY_DEPTHWISE, ids=[f"{m}:{n}" for m, n in EARLY_DEPTHWISE])
def test_shi_wins_early_depthwise(model_id, name):
    i = get_model(model_id).position[name]
    assert MODEL_INFO[model_id].domain == "arvr"
    assert (latency(model_id, "shi")[:, i] < latency(model_id, "nvd")[:, i]).all(), describe(model_id, i)


@pytest.mark.parametrize("model_id, name", LATE_DEPTHWISE, ids=[f"{m}:{n}" for m, n in LATE_DEPTHWISE])
def test_nvd_wins_late_depthwise(model_id, name):
    i = get_model(model_id).position[name]
    assert (latency(model_id, "nvd")[:, i] < latency(model_id, "shi")[:, i]).all(), describe(model_id, i)
