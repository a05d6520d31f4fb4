"""The model zoo: every Table III model builds, with the layer counts and MACs its docstring states."""

from __future__ import annotations

import re

import networkx as nx
import pytest

from scar_gym.errors import UnknownNameError
from scar_gym.workloads import MODEL_IDS, MODEL_INFO, get_model, resolve_model

#: Exact layer counts, as stated in each builder's docstring.
LAYERS = {
    "gpt-l": 288, "bert-large": 192, "bert-base": 96, "resnet50": 70, "unet": 23, "googlenet": 58,
    "d2go": 52, "planercnn": 106, "midas": 131, "emformer": 142, "hrvit": 86, "hand-tracking": 89,
    "eyecod": 44, "sparse-to-dense": 46,
}


def block_macs(seq: int, d: int, heads: int, ffn: int) -> int:
    """MACs of one 8-layer transformer block, by hand: 4 d x d projections, 2 attention matmuls, FFN."""
    d_head = d // heads
    projections = 4 * seq * d * d            # Q, K, V, output projection
    attention = 2 * heads * seq * seq * d_head  # Q.K^T and A.V
    return projections + attention + 2 * seq * d * ffn


def test_registry_lists_table_iii_models_in_order():
    assert MODEL_IDS == ("gpt-l", "bert-large", "bert-base", "resnet50", "unet", "googlenet", "d2go",
                         "planercnn", "midas", "emformer", "hrvit", "hand-tracking", "eyecod", "sparse-to-dense")
    assert [MODEL_INFO[m].domain for m in MODEL_IDS] == ["datacenter"] * 6 + ["arvr"] * 8
    assert all(MODEL_INFO[m].description and MODEL_INFO[m].source for m in MODEL_IDS)


@pytest.mark.parametrize("name", MODEL_IDS)
def test_every_model_is_a_connected_dag_with_its_documented_count(name):
    model = get_model(name)
    assert model.name == name
    assert nx.is_directed_acyclic_graph(model.graph) and nx.is_weakly_connected(model.graph)
    assert model.num_layers == LAYERS[name]
    # The docstring states the same count in bold, so documentation and code cannot drift apart.
    doc = MODEL_INFO[name].builder.__doc__
    assert f"**{LAYERS[name]} layers**" in re.sub(r"\s+", " ", doc)
    assert model.description.startswith(MODEL_INFO[name].description)
    # Topological order: every edge goes forward.
    assert (model.edges[:, 0] < model.edges[:, 1]).all()
    if MODEL_INFO[name].domain == "arvr":
        assert 20 <= model.num_layers <= 150


def test_models_are_cached_and_resolvable():
    assert get_model("resnet50") is get_model("resnet50")
    assert resolve_model("unet") is get_model("unet")


def test_unknown_model_names_the_known_ids():
    with pytest.raises(UnknownNameError) as err:
        get_model("resnet51")
    assert "resnet51" in str(err.value)
    assert all(m in str(err.value) for m in MODEL_IDS)
    with pytest.raises(KeyError):  # UnknownNameError is also a KeyError and a ValueError
        resolve_model("resnet51")


def test_resnet50_counts_and_macs():
    model = get_model("resnet50")
    # conv1 + 16 bottlenecks x 3 convs + 4 projection shortcuts = 1 + 48 + 4 = 53 convs;
    # 16 residual adds; the FC is the only GEMM: 53 + 16 + 1 = 70.
    assert model.op_counts() == {"conv": 53, "add": 16, "gemm": 1}
    assert sum(1 for l in model.layers if l.name.endswith("downsample")) == 4
    conv_fc = sum(l.macs for l in model.layers if l.op != "add")
    assert conv_fc == pytest.approx(4.09e9, rel=0.01)
    layers = {l.name: l for l in model.layers}
    assert layers["conv1"].macs == 64 * 3 * 7 * 7 * 112 * 112
    assert layers["layer2.0.conv2"].stride == 2 and layers["layer2.0.conv2"].y_out == 28  # v1.5 stride
    assert layers["layer4.2.conv3"].y_out == 7 and layers["fc"].macs == 2048 * 1000
    add = "layer1.1.add"  # identity shortcut: reads conv3 and the previous block's add
    assert set(model.graph.predecessors(add)) == {"layer1.1.conv3", "layer1.0.add"}
    assert set(model.graph.predecessors("layer1.0.add")) == {"layer1.0.conv3", "layer1.0.downsample"}


def test_bert_large_block_by_hand():
    model = get_model("bert-large")
    layers = {l.name: l for l in model.layers}
    assert layers["block0.q"].macs == 128 * 1024 * 1024
    assert layers["block0.qk"].macs == 16 * 128 * 128 * 64
    assert layers["block0.av"].macs == 16 * 128 * 128 * 64
    assert layers["block0.out"].macs == 128 * 1024 * 1024
    assert layers["block0.ffn1"].macs == layers["block0.ffn2"].macs == 128 * 1024 * 4096
    block = [l for l in model.layers if l.name.startswith("block0.")]
    assert [l.name.split(".")[1] for l in block] == ["q", "k", "v", "qk", "av", "out", "ffn1", "ffn2"]
    assert sum(l.macs for l in block) == block_macs(128, 1024, 16, 4096)
    assert model.macs == 24 * block_macs(128, 1024, 16, 4096)
    g = model.graph
    assert set(g.predecessors("block1.q")) == {"block0.ffn2"} and g.in_degree("block0.q") == 0
    assert set(g.predecessors("block3.qk")) == {"block3.q", "block3.k"}
    assert set(g.predecessors("block3.av")) == {"block3.qk", "block3.v"}
    assert list(g.successors("block3.out")) == ["block3.ffn1"]


def test_language_model_totals():
    assert get_model("gpt-l").macs == 36 * block_macs(128, 1280, 20, 5120)  # 92.1 GMAC
    assert get_model("bert-base").macs == 12 * block_macs(128, 768, 12, 3072)
    assert get_model("gpt-l").op_counts() == {"gemm": 36 * 6, "matmul": 36 * 2}


def test_unet_is_23_convs_with_skips():
    model = get_model("unet")
    assert model.op_counts() == {"conv": 23}
    layers = {l.name: l for l in model.layers}
    assert layers["enc1.conv1"].c == 1 and layers["enc1.conv1"].y_in == 512
    assert layers["bottom.conv2"].k == 1024 and layers["bottom.conv2"].y_in == 32
    assert layers["dec4.conv1"].c == 1024 and layers["dec1.conv1"].c == 128  # skip + up-conv
    assert set(model.graph.predecessors("dec1.conv1")) == {"enc1.conv2", "up1"}
    assert set(model.graph.predecessors("dec4.conv1")) == {"enc4.conv2", "up4"}
    # A 2x2/2 transposed conv 1024 -> 512 from 32x32 to 64x64 does 64*64*1024*512 MACs.
    assert layers["up4"].macs == 64 * 64 * 1024 * 512 and layers["up4"].param_elems == 4 * 1024 * 512
    assert layers["final"].k == 2 and layers["final"].y_out == 512


def test_googlenet_concatenation_edges():
    model = get_model("googlenet")
    assert model.op_counts() == {"conv": 57, "gemm": 1}  # 3 stem + 9 x 6 inception convs
    branches = {"inception3a.1x1", "inception3a.3x3", "inception3a.5x5", "inception3a.pool_proj"}
    for reader in ("1x1", "3x3_reduce", "5x5_reduce", "pool_proj"):
        assert set(model.graph.predecessors(f"inception3b.{reader}")) == branches
    layers = {l.name: l for l in model.layers}
    assert layers["inception3b.1x1"].c == 256 and layers["inception4a.1x1"].y_in == 14
    assert layers["inception5b.5x5"].r == 5 and layers["fc"].c == 1024
    assert model.macs == pytest.approx(1.58e9, rel=0.01)


def test_arvr_models_differ_in_character():
    ops = {m: get_model(m).op_counts() for m in MODEL_IDS}
    for m in ("d2go", "midas", "hand-tracking"):  # mobile backbones: depthwise-heavy
        assert ops[m].get("dwconv", 0) >= 10, m
    for m in ("emformer", "hrvit"):  # attention
        assert ops[m].get("matmul", 0) >= 20, m
    for m in ("planercnn", "eyecod", "sparse-to-dense"):  # plain convolutions
        assert "dwconv" not in ops[m] and ops[m]["conv"] >= 30, m
    layers = {l.name: l for l in get_model("sparse-to-dense").layers}
    assert layers["conv1"].c == 4 and layers["layer4.1.conv2"].y_out == 8 and layers["layer4.1.conv2"].x_out == 10
    assert layers["conv3"].y_out == 128 and layers["conv3"].x_out == 160
