"""MCM geometry, routing, presets, generated layouts, YAML round trips and every bad-input message."""

from __future__ import annotations

import networkx as nx
import pytest

from scar_gym.errors import ConfigError, UnknownNameError
from scar_gym.hardware import MCM, PackageSpec, grid_mcm, load_mcm_file, mcm_from_dict, mcm_to_yaml, parse_layout
from scar_gym.presets import MCM_NAMES, family_layout, list_mcms, load_mcm

# -- routing -------------------------------------------------------------------------------------

MESH_ROUTES = [
    # 3x3:  0 1 2 / 3 4 5 / 6 7 8. XY routing: along the row first, then along the column.
    ("nvd-3x3", 0, 8, [0, 1, 2, 5, 8]),
    ("nvd-3x3", 8, 0, [8, 7, 6, 3, 0]),
    ("nvd-3x3", 2, 6, [2, 1, 0, 3, 6]),
    ("nvd-3x3", 6, 2, [6, 7, 8, 5, 2]),
    ("nvd-3x3", 3, 5, [3, 4, 5]),
    ("nvd-3x3", 1, 7, [1, 4, 7]),
    ("nvd-3x3", 4, 4, [4]),
    # 6x6 corner to corner: 5 hops along row 0, then 5 down column 5.
    ("nvd-6x6", 0, 35, [0, 1, 2, 3, 4, 5, 11, 17, 23, 29, 35]),
    ("nvd-6x6", 35, 0, [35, 34, 33, 32, 31, 30, 24, 18, 12, 6, 0]),
    ("nvd-6x6", 5, 30, [5, 4, 3, 2, 1, 0, 6, 12, 18, 24, 30]),
    ("nvd-6x6", 14, 27, [14, 15, 21, 27]),
]

TRI_ROUTES = [
    # Diagonal links run (r, c) - (r+1, c+1) only; they are taken first while dr and dc agree in sign.
    ("nvd-3x3-tri", 0, 8, [0, 4, 8]),
    ("nvd-3x3-tri", 8, 0, [8, 4, 0]),
    ("nvd-3x3-tri", 0, 5, [0, 4, 5]),
    ("nvd-3x3-tri", 0, 7, [0, 4, 7]),
    ("nvd-3x3-tri", 2, 6, [2, 1, 0, 3, 6]),  # anti-diagonal: no link helps, plain XY
    ("nvd-3x3-tri", 6, 2, [6, 7, 8, 5, 2]),
    ("nvd-6x6-tri", 0, 35, [0, 7, 14, 21, 28, 35]),
    ("nvd-6x6-tri", 35, 0, [35, 28, 21, 14, 7, 0]),
    ("nvd-6x6-tri", 0, 17, [0, 7, 14, 15, 16, 17]),
]


@pytest.mark.parametrize("name,src,dst,expected", MESH_ROUTES + TRI_ROUTES)
def test_route(name, src, dst, expected):
    mcm = load_mcm(name)
    assert mcm.route(src, dst) == expected
    assert mcm.hops[src, dst] == len(expected) - 1


@pytest.mark.parametrize("spec", ["nvd-3x3", "nvd-6x6", "nvd-4x5", "nvd-3x3-tri", "nvd-6x6-tri", "nvd-5x3-tri"])
def test_routes_are_shortest_paths_on_the_graph(spec):
    mcm = load_mcm(spec)
    dist = dict(nx.all_pairs_shortest_path_length(mcm.graph))
    for a in range(mcm.num_chiplets):
        for b in range(mcm.num_chiplets):
            path = mcm.route(a, b)
            assert path[0] == a and path[-1] == b
            assert all(mcm.graph.has_edge(u, v) for u, v in zip(path, path[1:]))
            assert mcm.hops[a, b] == dist[a][b]


def test_hops_formulas():
    mesh, tri = load_mcm("nvd-6x6"), load_mcm("nvd-6x6-tri")
    for a in range(36):
        for b in range(36):
            (r0, c0), (r1, c1) = divmod(a, 6), divmod(b, 6)
            dr, dc = r1 - r0, c1 - c0
            assert mesh.hops[a, b] == abs(dr) + abs(dc)
            assert tri.hops[a, b] == (max(abs(dr), abs(dc)) if dr * dc > 0 else abs(dr) + abs(dc))


def test_neighbors():
    assert load_mcm("nvd-3x3").neighbors(4) == (1, 3, 5, 7)
    assert load_mcm("nvd-3x3").neighbors(0) == (1, 3)
    assert load_mcm("nvd-3x3-tri").neighbors(4) == (0, 1, 3, 5, 7, 8)
    assert load_mcm("nvd-3x3-tri").neighbors(2) == (1, 5)


def test_dram_hops():
    assert load_mcm("het-sides-3x3").dram_hops.tolist() == [0, 1, 0] * 3
    assert load_mcm("het-cross-6x6").dram_hops.tolist() == [0, 1, 2, 2, 1, 0] * 6
    assert load_mcm("nvd-1x5").dram_hops.tolist() == [0, 1, 2, 1, 0]


# -- presets and generated layouts ---------------------------------------------------------------

PRESET_LAYOUTS = {
    "nvd-3x3": ("mesh", "NNN/NNN/NNN"),
    "shi-3x3": ("mesh", "SSS/SSS/SSS"),
    "het-cb-3x3": ("mesh", "NSN/SNS/NSN"),
    "het-sides-3x3": ("mesh", "NSN/NSN/NSN"),
    "nvd-6x6": ("mesh", "/".join(["NNNNNN"] * 6)),
    "shi-6x6": ("mesh", "/".join(["SSSSSS"] * 6)),
    "het-cross-6x6": ("mesh", "NNSSNN/NNSSNN/SSSSSS/SSSSSS/NNSSNN/NNSSNN"),
    "nvd-3x3-tri": ("tri", "NNN/NNN/NNN"),
    "shi-3x3-tri": ("tri", "SSS/SSS/SSS"),
    "het-3x3-tri": ("tri", "NSN/NSN/NSN"),
}


def test_preset_names_and_layouts():
    assert MCM_NAMES == tuple(sorted(PRESET_LAYOUTS))
    for mcm in list_mcms():
        topology, layout = PRESET_LAYOUTS[mcm.name]
        assert (mcm.topology, "/".join(mcm.layout)) == (topology, layout)
        assert mcm.num_pes is None  # the scenario's domain decides
        assert mcm.description


def test_presets_equal_their_generated_family():
    generated = {name: name for name in MCM_NAMES} | {"het-3x3-tri": "het-sides-3x3-tri"}
    for name, pattern in generated.items():
        preset, gen = load_mcm(name), load_mcm(pattern)
        assert (preset.layout, preset.topology) == (gen.layout, gen.topology), name


@pytest.mark.parametrize("spec", ["het-cb-3x3", "het-cb-6x6", "het-cb-4x5", "het-cb-2x7-tri"])
def test_checkerboard_neighbours_differ(spec):
    mcm = load_mcm(spec)
    mesh_edges = load_mcm(f"nvd-{mcm.shape}").graph.edges  # the 4-neighbour links
    assert all(mcm.dataflows[a] != mcm.dataflows[b] for a, b in mesh_edges)
    assert mcm.dataflows[0] == "nvd"


def test_het_cross_counts():
    mcm = load_mcm("het-cross-6x6")
    assert (mcm.count("shi"), mcm.count("nvd")) == (20, 16)
    for i in range(36):
        r, c = mcm.coords(i)
        in_cross = r in (2, 3) or c in (2, 3)
        assert mcm.dataflows[i] == ("shi" if in_cross else "nvd")


@pytest.mark.parametrize("spec,layout", [
    ("nvd-2x4", "NNNN/NNNN"),
    ("shi-1x1", "S"),
    ("het-cb-2x3", "NSN/SNS"),
    ("het-sides-2x3", "NSN/NSN"),
    ("het-sides-1x4", "NSSN"),
    ("het-sides-1x5", "NSSSN"),
    ("het-sides-1x6", "NNSSNN"),
    ("het-sides-1x9", "NNNSSSNNN"),
    ("het-cross-3x3", "NSN/SSS/NSN"),
    ("het-cross-4x4", "NSSN/SSSS/SSSS/NSSN"),
    ("het-cross-5x7", "NNSSSNN/SSSSSSS/SSSSSSS/SSSSSSS/NNSSSNN"),
    ("HET-SIDES-3X3", "NSN/NSN/NSN"),
])
def test_family_patterns(spec, layout):
    mcm = load_mcm(spec)
    assert "/".join(mcm.layout) == layout
    assert mcm.topology == "mesh"
    assert mcm.name == spec.lower()


def test_family_tri_suffix():
    mcm = load_mcm("het-cross-6x6-tri")
    assert mcm.topology == "tri"
    assert mcm.layout == load_mcm("het-cross-6x6").layout


@pytest.mark.parametrize("spec,layout,topology", [
    ("NSN/SNS/NSN", "NSN/SNS/NSN", "mesh"),
    ("nsn,sns,nsn", "NSN/SNS/NSN", "mesh"),
    ("nsn/sns@tri", "NSN/SNS", "tri"),
    ("NSN/NSN@mesh", "NSN/NSN", "mesh"),
    ("N S N / S N S", "NSN/SNS", "mesh"),
    ("NSSN", "NSSN", "mesh"),
    ("NSE/ESN", "NSE/ESN", "mesh"),
])
def test_layout_strings(spec, layout, topology):
    mcm = load_mcm(spec)
    assert ("/".join(mcm.layout), mcm.topology) == (layout, topology)


def test_num_pes_and_domains():
    assert load_mcm("het-sides-3x3", num_pes=1024).pes == 1024
    mcm = load_mcm("het-sides-3x3")
    assert mcm.for_domain("datacenter").pes == 4096
    assert mcm.for_domain("arvr").pes == 256
    assert all(c.num_pes == 256 for c in mcm.for_domain("arvr").classes)
    assert mcm.for_domain("arvr").spec_for("shi").cluster == 8  # a (256/8) x 8 array, MAESTRO's template
    # An explicit num_pes wins over the domain.
    assert load_mcm("nvd-3x3", num_pes=512).for_domain("arvr").pes == 512


def test_parse_layout_accepts_rendered_grid():
    mcm = load_mcm("het-cb-3x3")
    assert parse_layout(mcm.render()) == mcm.layout
    assert parse_layout(["N S N", "S N S"]) == ("NSN", "SNS")


# -- YAML round trip -----------------------------------------------------------------------------

@pytest.mark.parametrize("mcm", [
    *(load_mcm(n) for n in ("het-sides-3x3", "het-cross-6x6", "het-3x3-tri")),
    MCM(name="custom", layout=("NSE", "ESN"), topology="tri", num_pes=1024,
        chiplet={"l2_bytes": 4 * 1024 * 1024, "cluster_size": 32},
        package=PackageSpec(clock_hz=1e9, dram_energy_j_per_bit=10e-12, bytes_per_element=2),
        description="a custom one"),
], ids=lambda m: m.name)
def test_yaml_round_trip(mcm, tmp_path):
    path = tmp_path / "mcm.yaml"
    mcm_to_yaml(mcm, path)
    back = load_mcm_file(path)
    assert back.to_dict() == mcm.to_dict()
    assert (back.layout, back.topology, back.num_pes, back.chiplet, back.package, back.description) == (
        mcm.layout, mcm.topology, mcm.num_pes, mcm.chiplet, mcm.package, mcm.description)
    assert load_mcm(str(path)).to_dict() == mcm.to_dict()  # load_mcm takes the path too


def test_yaml_numeric_strings_and_default_name(tmp_path):
    path = tmp_path / "my-mcm.yaml"
    path.write_text("layout: [NSN, NSN]\npackage:\n  dram_energy_j_per_bit: 14.8e-12\ndescription:\n")
    mcm = load_mcm_file(path)
    assert mcm.name == "my-mcm"
    assert mcm.package.dram_energy_j_per_bit == pytest.approx(14.8e-12)
    assert mcm.description == ""


# -- bad input -----------------------------------------------------------------------------------

BAD_FILES = [
    # (YAML text, field named in the error)
    ("name: x\nlayout: NXN/NSN\n", "layout"),
    ("name: x\nlayout: NSN/NS/NSN\n", "layout"),
    ("name: x\nlayout: []\n", "layout"),
    ("name: x\nlayout: 42\n", "layout"),
    ("name: x\nlayout: NSN\ntopology: ring\n", "topology"),
    ("name: x\nlayout: NSN\nnum_pes: 0\n", "num_pes"),
    ("name: x\nlayout: NSN\nnum_pes: -256\n", "num_pes"),
    ("name: x\nlayout: NSN\nnum_pes: 256.5\n", "num_pes"),
    ("name: x\nlayout: NSN\nnum_pes: lots\n", "num_pes"),
    ("name: x\nlayout: NSN\ncolour: red\n", "colour"),
    ("name: x\n", "layout"),
    ("name: x\nlayout: NSN\nchiplet: {l2_bytes: 0}\n", "chiplet.l2_bytes"),
    ("name: x\nlayout: NSN\nchiplet: {l3_bytes: 5}\n", "chiplet.l3_bytes"),
    ("name: x\nlayout: NSN\nchiplet: {cluster_size: 100}\n", "chiplet.cluster_size"),
    ("name: x\nlayout: NSN\nchiplet: 5\n", "chiplet"),
    ("name: x\nlayout: NSN\nchiplet: {noc_bw: 0}\n", "chiplet.noc_bw"),
    ("name: x\nlayout: NSN\nchiplet: {offchip_bw: fast}\n", "chiplet.offchip_bw"),
    ("name: x\nlayout: NSN\nchiplet: {offchip_bw: .nan}\n", "chiplet.offchip_bw"),
    ("name: x\nlayout: NSN\nchiplet: {offchip_bw: .inf}\n", "chiplet.offchip_bw"),
    ("name: x\nlayout: NSN\nchiplet: {noc_hop_cycles: -1}\n", "chiplet.noc_hop_cycles"),
    ("name: x\nlayout: NSN\nchiplet: {l2_bandwidth_bytes_per_cycle: 64}\n", "chiplet.l2_bandwidth_bytes_per_cycle"),
    ("name: x\nlayout: NSN\nchiplet: {shi: 64}\n", "chiplet.shi"),
    ("name: x\nlayout: NSN\nchiplet: {shi: {noc_bandwidth: 64}}\n", "chiplet.shi.noc_bandwidth"),
    ("name: x\nlayout: NSN\nchiplet: {shi: {noc_bw: -64}}\n", "chiplet.shi.noc_bw"),
    ("name: x\nlayout: NSN\npackage: {clock_hz: fast}\n", "package.clock_hz"),
    ("name: x\nlayout: NSN\npackage: {clock_hz: -1}\n", "package.clock_hz"),
    ("name: x\nlayout: NSN\npackage: {warp_drive: 1}\n", "package.warp_drive"),
    ("- just\n- a list\n", "(top level)"),
    ("", "(top level)"),
    ("name: x\nlayout: [NSN\n", "(yaml)"),
    ("name: x\n  layout: NSN\n bad: indent\n", "(yaml)"),
]


@pytest.mark.parametrize("text,field", BAD_FILES)
def test_bad_mcm_file(text, field, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_mcm_file(path)
    assert info.value.field == field
    assert info.value.file == str(path)
    assert str(info.value).startswith(f"{path}: {field}: ")
    with pytest.raises(ConfigError):  # the same through load_mcm
        load_mcm(str(path))


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="no such file") as info:
        load_mcm_file(tmp_path / "nope.yaml")
    assert info.value.field == "path" and "nope.yaml" in str(info.value)
    with pytest.raises(ConfigError, match="is a directory, not a file"):
        load_mcm_file(tmp_path)
    with pytest.raises(ConfigError, match="no such file"):
        load_mcm(str(tmp_path / "nope.yaml"))


@pytest.mark.parametrize("kwargs,field", [
    (dict(layout="NQN"), "layout"),
    (dict(layout="NN/N"), "layout"),
    (dict(layout="NSN", topology="torus"), "topology"),
    (dict(layout="NSN", num_pes=0), "num_pes"),
    (dict(layout="NSN", num_pes=-4), "num_pes"),
    (dict(layout="NSN", chiplet={"bogus": 1}), "chiplet.bogus"),
])
def test_bad_mcm_constructor(kwargs, field):
    with pytest.raises(ConfigError) as info:
        MCM(name="x", **kwargs)
    assert info.value.field == field


def test_bad_dict_and_grid():
    with pytest.raises(ConfigError) as info:
        mcm_from_dict({"layout": "NSN"})
    assert info.value.field == "name"
    with pytest.raises(ConfigError, match="topology"):
        grid_mcm("NSN", topology="hex")
    with pytest.raises(ConfigError, match="domain"):
        load_mcm("nvd-3x3").for_domain("mobile")
    with pytest.raises(ConfigError, match="num_pes"):
        load_mcm("nvd-3x3", num_pes=0)


@pytest.mark.parametrize("spec,needle", [
    ("het-sides-3x2", "at least 1 rows and 3 columns"),
    ("het-cross-2x6", "at least 3 rows and 3 columns"),
    ("nvd-0x3", "empty"),
    ("NSN/NSN@ring", "unknown topology 'ring'"),
    ("NSN/NS", "different lengths"),
    ("", "non-empty"),
])
def test_bad_specs(spec, needle):
    with pytest.raises(ConfigError, match="mcm") as info:
        load_mcm(spec)
    assert needle in str(info.value)


@pytest.mark.parametrize("spec", ["het-sides", "simba", "nsn", "het-4x4", "shi-3x3-mesh", "nvd-3x3@tri"])
def test_unknown_mcm(spec):
    with pytest.raises(UnknownNameError) as info:
        load_mcm(spec)
    msg = str(info.value)
    assert repr(spec) in msg
    assert all(name in msg for name in MCM_NAMES)
    assert "<family>-<R>x<C>" in msg and "NSN/SNS/NSN" in msg and ".yaml" in msg


def test_family_layout_unknown_family():
    with pytest.raises(UnknownNameError):
        family_layout("het-diag", 3, 3)


def test_chiplet_bandwidths_shared_and_per_dataflow(tmp_path):
    path = tmp_path / "bw.yaml"
    path.write_text("name: bw\nlayout: NSN\nnum_pes: 256\n"
                    "chiplet: {noc_bw: 1000, offchip_bw: 128, shi: {offchip_bw: 64, noc_hop_cycles: 0}}\n")
    mcm = load_mcm_file(path)
    nvd, shi = mcm.spec_for("nvd"), mcm.spec_for("shi")
    assert (nvd.noc_bw, nvd.offchip_bw, nvd.noc_hop_cycles) == (1000, 128, 1)
    assert (shi.noc_bw, shi.offchip_bw, shi.noc_hop_cycles) == (1000, 64, 0)
    # Unset means: the cost preset decides (unconstrained under the maestro preset).
    plain = load_mcm("het-sides-3x3").spec_for("nvd")
    assert (plain.noc_bw, plain.offchip_bw) == (None, None)
    back = mcm_from_dict(mcm.to_dict())
    assert back.spec_for("shi") == shi and back.spec_for("nvd") == nvd
