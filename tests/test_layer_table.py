"""Layer tables (YAML / CSV): exact round trips and errors that name the file, the row and the field."""

from __future__ import annotations

import numpy as np
import pytest

from scar_gym.errors import ConfigError
from scar_gym.workloads import get_model, load_model_file, resolve_model, save_model_file


def same_model(a, b) -> bool:
    return ((a.name, a.description, a.layers) == (b.name, b.description, b.layers)
            and np.array_equal(a.edges, b.edges))


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".csv"])
@pytest.mark.parametrize("name", ["resnet50", "googlenet", "emformer", "hand-tracking"])
def test_round_trip(tmp_path, name, suffix):
    model = get_model(name)
    path = save_model_file(model, tmp_path / f"m{suffix}")
    assert same_model(load_model_file(path), model)
    assert same_model(resolve_model(str(path)), model)


def test_hand_written_yaml_defaults_and_inputs(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(
        "layers:\n"
        "  - {name: a, op: conv, k: 8, c: 3, y_in: 16, x_in: 16, r: 3, s: 3, pad: 1}\n"
        "  - {name: b, op: conv, k: 8, c: 8, y_in: 16, x_in: 16}\n"          # reads a (previous)
        "  - {name: side, op: conv, k: 8, c: 3, y_in: 16, x_in: 16, inputs: []}\n"  # reads the input
        "  - {name: sum, op: add, k: 8, c: 1, y_in: 16, x_in: 16, inputs: [b, side]}\n")
    model = load_model_file(path)
    assert model.name == "tiny" and model.description == ""  # name defaults to the file stem
    assert sorted(model.graph.edges) == [("a", "b"), ("b", "sum"), ("side", "sum")]
    assert model.layers[1].r == 1 and model.layers[1].groups == 1


def test_hand_written_csv(tmp_path):
    path = tmp_path / "net.csv"
    path.write_text("name,op,k,c,y_in,x_in,r,s,pad,inputs\n"
                    "a,conv,8,3,16,16,3,3,1,\n"
                    "b,dwconv,1,1,16,16,3,3,1,\n"
                    "c,gemm,10,2048,1,,,,,-\n"
                    "d,add,8,1,16,16,,,,a;b\n")
    model = load_model_file(path)
    assert model.name == "net"
    assert sorted(model.graph.edges) == [("a", "b"), ("a", "d"), ("b", "d")]
    assert model.graph.in_degree("c") == 0 and model.layers[2].x_in == 1


YAML_HEAD = "name: bad\nlayers:\n  - {name: a, op: conv, k: 8, c: 3, y_in: 16, x_in: 16}\n"
CSV_HEAD = "name,op,k,c,y_in,x_in,inputs\na,conv,8,3,16,16,\n"


@pytest.mark.parametrize("suffix, text, field, problem", [
    (".yaml", YAML_HEAD + "  - {name: b, op: conv, c: 8, y_in: 16}\n", "layers[2] (b).k", "missing field"),
    (".yaml", YAML_HEAD + "  - {name: b, op: conv, k: 8.5, c: 8, y_in: 16}\n", "layers[2] (b).k", "integer"),
    (".yaml", YAML_HEAD + "  - {name: b, op: pool, k: 8, c: 8, y_in: 16}\n", "layers[2] (b).op", "unknown op"),
    (".yaml", YAML_HEAD + "  - {name: b, op: conv, k: 8, c: 8, y_in: 16, inputs: [x]}\n", "layers[2] (b).inputs",
     "unknown input 'x'"),
    (".yaml", YAML_HEAD + "  - {name: b, op: conv, k: 8, c: 8, y_in: 16, inputs: [c]}\n"
                          "  - {name: c, op: conv, k: 8, c: 8, y_in: 16}\n", "layers[2] (b).inputs", "defined later"),
    (".yaml", YAML_HEAD + "  - {name: a, op: conv, k: 8, c: 8, y_in: 16}\n", "layers[2] (a).name", "duplicate"),
    (".yaml", YAML_HEAD + "  - {name: b, op: conv, k: 8, c: 8, y_in: 16, kernel: 3}\n", "layers[2] (b).kernel",
     "unknown field"),
    (".yaml", YAML_HEAD + "  - {name: b, op: dwconv, k: 8, c: 1, y_in: 16}\n", "layers[2] (b)", "dwconv"),
    (".yaml", YAML_HEAD + "  - {name: b, op: conv, k: 8, c: 8, y_in: [16\n", "yaml", "malformed YAML"),
    (".yaml", "- just a list\n", "yaml", "not a mapping"),
    (".yaml", "name: empty\n", "layers", "missing"),
    (".csv", CSV_HEAD + "b,conv,8,8,,16,a\n", "row 3 (b).y_in", "missing field"),
    (".csv", CSV_HEAD + "b,conv,8,eight,16,16,a\n", "row 3 (b).c", "expected an integer, got 'eight'"),
    (".csv", CSV_HEAD + "b,relu,8,8,16,16,a\n", "row 3 (b).op", "unknown op 'relu'"),
    (".csv", CSV_HEAD + "b,conv,8,8,16,16,a;ghost\n", "row 3 (b).inputs", "unknown input 'ghost'"),
    (".csv", "name,op,k,c\na,conv,8,3\n", "y_in", "missing column"),
    (".csv", "name,op,k,c,y_in,colour\n", "column 'colour'", "unknown column"),
])
def test_bad_input_names_file_row_and_field(tmp_path, suffix, text, field, problem):
    path = tmp_path / f"broken{suffix}"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_model_file(path)
    message = str(err.value)
    assert str(path) in message and f"{field}:" in message and problem in message, message
    assert err.value.file == str(path)


def test_bad_paths(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_model_file(tmp_path / "nothing.yaml")
    with pytest.raises(ConfigError, match="extension"):
        save_model_file(get_model("unet"), tmp_path / "unet.json")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ConfigError, match="not a layer table"):
        resolve_model(str(tmp_path / "notes.txt"))
