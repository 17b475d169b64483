"""Bad input to module construction, selection, mechanisms, layout, morphology ops and connect
(issue 13, sections 3 and 4): every case raises a TypeError (wrong type) or ValueError (wrong
value) whose message names the argument, shows the value and says what was expected.

Each case lists strings its message must contain. Before these checks the cases gave, e.g.:
``delete(None)`` AttributeError 'name'; ``Network(None)`` "'NoneType' object is not
iterable"; ``sparse_connect(p="0.5")`` "'<=' not supported"; ``branch(0).delete("HH")`` with
HH elsewhere: nothing; ``record("HH_m")``, ``delete("HH")``, ``integrate``: KeyError 'HH_m';
parents ``[-1, False]``, a 3-column ``xyzr`` and an all-NaN connectivity matrix (9 synapses):
accepted.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import simulator as jx
from simulator.channels import HH, Leak
from simulator.modules.arguments import SelectionIndexError, SelectionTypeError
from simulator.synapses import IonotropicSynapse


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def y_cell():
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), [-1, 0, 0])
    cell.insert(HH())
    return cell


def net(n=3):
    return jx.Network([y_cell() for _ in range(n)])


def _cmc(matrix):
    n = net()
    jx.connectivity_matrix_connect(n.cell("all"), n.cell("all"), IonotropicSynapse(), matrix)


def _sparse(**kwargs):
    n = net()
    jx.sparse_connect(n.cell("all"), n.cell("all"), IonotropicSynapse(), **kwargs)


def _fully(**kwargs):
    n = net()
    jx.fully_connect(n.cell("all"), n.cell("all"), IonotropicSynapse(), **kwargs)


def _synapse_view():
    n = net()
    jx.fully_connect(n.cell(0), n.cell(1), IonotropicSynapse())
    # net.IonotropicSynapse holds the synapses' compartments (as jaxley): select none.
    return n.select(edges="all", nodes=[])


def _xyzr(xyzr, n_branches=1):
    return jx.Cell(jx.Branch(), [-1, 0][:n_branches], xyzr=xyzr)


# (case id, call, exception, strings the message must contain)
CASES = [
    # ------------------------------------------------------------ construction
    ("parents_bool", lambda: jx.Cell(jx.Branch(), [-1, False]), ValueError,
     ["parents", "[-1, False]", "not bools"]),
    ("parents_bool_true", lambda: jx.Cell(jx.Branch(), [-1, True]), ValueError,
     ["parents", "[-1, True]"]),
    ("parents_none_entry", lambda: jx.Cell(jx.Branch(), [-1, None]), ValueError,
     ["parents", "[-1, None]"]),
    ("cell_no_branches", lambda: jx.Cell([]), ValueError, ["Cell needs at least one branch"]),
    ("xyzr_3_columns", lambda: _xyzr([np.zeros((2, 3))]), ValueError,
     ["xyzr[0]", "(N, 4)", "(2, 3)"]),
    ("xyzr_1d", lambda: _xyzr([np.ones(4)]), ValueError, ["xyzr[0]", "(4,)"]),
    ("xyzr_no_points", lambda: _xyzr([np.zeros((0, 4))]), ValueError, ["xyzr[0]", "(0, 4)"]),
    ("xyzr_string", lambda: _xyzr(["abc"]), TypeError, ["xyzr[0]", "'abc'"]),
    ("xyzr_none_entry", lambda: _xyzr([None]), TypeError, ["xyzr[0]", "None"]),
    ("xyzr_not_a_list", lambda: _xyzr(5), TypeError, ["xyzr", "got 5"]),
    ("xyzr_inf", lambda: _xyzr([np.full((2, 4), np.inf)]), ValueError, ["xyzr[0]", "finite"]),
    ("xyzr_negative_radius", lambda: _xyzr([np.array([[0, 0, 0, -1.0], [1, 0, 0, 1.0]])]),
     ValueError, ["xyzr[0] radii", "-1.0"]),
    ("xyzr_complex", lambda: _xyzr([np.ones((2, 4)) * 1j]), TypeError,
     ["xyzr[0]", "real numbers"]),
    ("xyzr_bools", lambda: _xyzr([np.ones((2, 4), dtype=bool)]), TypeError,
     ["xyzr[0]", "not bools"]),
    ("xyzr_wrong_count", lambda: _xyzr([np.ones((2, 4))], n_branches=2), ValueError,
     ["xyzr needs one array per branch (2), got 1"]),
    ("network_none", lambda: jx.Network(None), TypeError, ["Network expects a list of Cells",
                                                            "None"]),
    ("network_single_cell", lambda: jx.Network(y_cell()), TypeError,
     ["Network([cell])"]),
    ("network_string", lambda: jx.Network("ab"), TypeError, ["'ab'"]),
    ("network_int", lambda: jx.Network(5), TypeError, ["got 5"]),
    # ------------------------------------------------------------ selection
    ("branch_bool", lambda: y_cell().branch(True), SelectionTypeError,
     ["branch index", "True", "a single bool"]),
    ("branch_float", lambda: y_cell().branch(1.0), SelectionTypeError,
     ["branch index", "integer", "1.0"]),
    ("branch_none", lambda: y_cell().branch(None), SelectionTypeError,
     ["branch index", "None"]),
    ("branch_nested", lambda: y_cell().branch([[0]]), SelectionTypeError,
     ["branch index", "[[0]]"]),
    ("branch_mixed_bool", lambda: y_cell().branch([0, True]), SelectionTypeError,
     ["mixes bools and integers", "[0, True]"]),
    ("branch_dict", lambda: y_cell().branch({}), SelectionTypeError, ["branch index", "{}"]),
    ("branch_complex", lambda: y_cell().branch(1 + 0j), SelectionTypeError,
     ["branch index", "(1+0j)"]),
    ("branch_slice_str", lambda: y_cell().branch(slice("a", None)), SelectionTypeError,
     ["slice bounds", "slice('a', None, None)"]),
    ("branch_slice_step0", lambda: y_cell().branch(slice(None, None, 0)), ValueError,
     ["step must not be zero"]),
    ("branch_out_of_range", lambda: y_cell().branch(99), SelectionIndexError,
     ["branch index 99", "-3 <= index < 3"]),
    ("branch_negative_out_of_range", lambda: y_cell().branch(-4), SelectionIndexError,
     ["branch index -4"]),
    ("comp_bool", lambda: y_cell().branch(0).comp(True), SelectionTypeError,
     ["compartment index", "True"]),
    ("comp_float", lambda: y_cell().branch(0).comp(0.5), SelectionTypeError,
     ["compartment index", "0.5"]),
    ("comp_out_of_range", lambda: y_cell().branch(0).comp(5), SelectionIndexError,
     ["compartment index 5"]),
    ("cell_bool", lambda: net().cell(True), SelectionTypeError, ["cell index", "True"]),
    ("cell_out_of_range", lambda: net().cell(3), SelectionIndexError, ["cell index 3"]),
    ("getitem_too_many", lambda: net()[0, 0, 0, 0], SelectionIndexError,
     ["too many indices (4)", "cell, branch, comp"]),
    ("loc_bool", lambda: y_cell().branch(0).loc(True), TypeError, ["loc: at", "True"]),
    ("loc_none", lambda: y_cell().branch(0).loc(None), TypeError, ["loc: at", "None"]),
    ("loc_dict", lambda: y_cell().branch(0).loc({}), TypeError, ["loc: at", "{}"]),
    ("loc_complex", lambda: y_cell().branch(0).loc(0.5j), TypeError, ["loc: at", "0.5j"]),
    ("loc_out_of_range", lambda: y_cell().branch(0).loc(1.5), ValueError, ["[0, 1]", "1.5"]),
    ("select_float", lambda: y_cell().select(nodes=[1.5]), SelectionTypeError,
     ["select: nodes", "[1.5]"]),
    ("select_str", lambda: y_cell().select(nodes="abc"), SelectionTypeError,
     ["select: nodes", "'abc'"]),
    ("select_bool", lambda: y_cell().select(nodes=True), SelectionTypeError,
     ["select: nodes", "True"]),
    ("select_missing", lambda: y_cell().select(nodes=[99]), SelectionIndexError,
     ["node index 99"]),
    ("select_edges_str", lambda: net().select(edges="a"), SelectionTypeError,
     ["select: edges", "'a'"]),
    ("edge_without_synapses", lambda: net().edge(0), SelectionIndexError,
     ["edge index 0", "no edge"]),
    # ------------------------------------------------------------ mechanisms
    ("delete_none", lambda: y_cell().delete(None), TypeError,
     ["delete expects a Channel or Pump instance or its name", "None"]),
    ("delete_int", lambda: y_cell().delete(5), TypeError, ["delete expects", "got 5"]),
    ("delete_class", lambda: y_cell().delete(HH), TypeError, ["delete expects", "HH"]),
    ("delete_unknown", lambda: y_cell().delete("Na"), ValueError, ["'Na' is not inserted"]),
    ("insert_class", lambda: y_cell().insert(HH), TypeError, ["an instance: HH()"]),
    ("init_states_negative", lambda: y_cell().init_states(delta_t=-1), ValueError,
     ["delta_t", "positive", "-1"]),
    ("init_states_str", lambda: y_cell().init_states(delta_t="a"), TypeError,
     ["delta_t", "'a'"]),
    ("init_states_bool", lambda: y_cell().init_states(delta_t=True), TypeError,
     ["delta_t", "not a bool"]),
    ("init_states_nan", lambda: y_cell().init_states(delta_t=np.nan), ValueError,
     ["delta_t", "nan"]),
    ("diffuse_none", lambda: y_cell().diffuse(None), TypeError, ["diffuse", "None"]),
    # ------------------------------------------------------------ layout
    ("move_str", lambda: y_cell().move("a"), TypeError, ["move: x", "'a'"]),
    ("move_bool", lambda: y_cell().move(True), TypeError, ["move: x", "not a bool"]),
    ("move_list", lambda: y_cell().move(0.0, [1, 2]), TypeError, ["move: y", "[1, 2]"]),
    ("move_none", lambda: y_cell().move(0.0, 0.0, None), TypeError, ["move: z", "None"]),
    ("move_complex", lambda: y_cell().move(1j), TypeError, ["move: x", "1j"]),
    ("move_nan", lambda: y_cell().move(np.nan), ValueError, ["move: x", "nan"]),
    ("move_to_str", lambda: y_cell().move_to("a"), TypeError, ["move_to: x", "'a'"]),
    ("move_to_bool", lambda: y_cell().move_to(True), TypeError, ["move_to: x", "not bools"]),
    ("move_to_none", lambda: y_cell().move_to(0.0, None), TypeError, ["move_to: y", "None"]),
    ("rotate_str", lambda: y_cell().rotate("a"), TypeError, ["rotate: degrees", "'a'"]),
    ("rotate_bool", lambda: y_cell().rotate(True), TypeError, ["rotate: degrees",
                                                                "not a bool"]),
    ("rotate_none", lambda: y_cell().rotate(None), TypeError, ["rotate: degrees", "None"]),
    ("rotate_list", lambda: y_cell().rotate([1, 2]), TypeError, ["rotate: degrees", "[1, 2]"]),
    ("rotate_axis_list", lambda: y_cell().rotate(10, ["xy"]), ValueError,
     ["rotation_axis", "['xy']"]),
    # ------------------------------------------------------------ morphology ops
    ("set_ncomp_min_radius_str", lambda: y_cell().set_ncomp(2, min_radius="a"), TypeError,
     ["min_radius", "'a'"]),
    ("set_ncomp_min_radius_bool", lambda: y_cell().set_ncomp(2, min_radius=True), TypeError,
     ["min_radius", "not a bool"]),
    ("set_ncomp_min_radius_negative", lambda: y_cell().set_ncomp(2, min_radius=-1), ValueError,
     ["min_radius", "-1"]),
    ("d_lambda_min_radius_str", lambda: y_cell().set_ncomp_d_lambda(0.1, min_radius="a"),
     TypeError, ["min_radius", "'a'"]),
    ("distance_from_str", lambda: y_cell().distance_from("a"), TypeError,
     ["distance_from: view", "'a'"]),
    # ------------------------------------------------------------ connect
    ("connect_pre_str", lambda: jx.connect("a", net().cell(0), IonotropicSynapse()), TypeError,
     ["pre must be a view of a Network", "'a'"]),
    ("connect_post_none", lambda: jx.connect(net().cell(0), None, IonotropicSynapse()),
     TypeError, ["post must be a view of a Network", "None"]),
    ("sparse_p_str", lambda: _sparse(p="0.5"), TypeError, ["p must be a probability",
                                                          "'0.5'"]),
    ("sparse_p_none", lambda: _sparse(p=None), TypeError, ["p must be a probability", "None"]),
    ("sparse_p_bool", lambda: _sparse(p=True), TypeError, ["p must be", "not a bool"]),
    ("sparse_p_list", lambda: _sparse(p=[0.5]), TypeError, ["p must be", "[0.5]"]),
    ("sparse_p_nan", lambda: _sparse(p=np.nan), ValueError, ["p must be", "nan"]),
    ("sparse_p_above_one", lambda: _sparse(p=1.5), ValueError, ["p must be", "1.5"]),
    ("sparse_seed_str", lambda: _sparse(p=0.5, random_state="a"), TypeError,
     ["random_state", "'a'"]),
    ("sparse_seed_negative", lambda: _sparse(p=0.5, random_state=-1), ValueError,
     ["random_state", "-1"]),
    ("fully_random_post_comp_str", lambda: _fully(random_post_comp="yes"), TypeError,
     ["random_post_comp", "'yes'"]),
    ("cmc_all_nan", lambda: _cmc(np.full((3, 3), np.nan)), ValueError,
     ["connectivity_matrix", "nan", "9 such entries"]),
    ("cmc_two", lambda: _cmc(np.full((3, 3), 2.0)), ValueError, ["connectivity_matrix", "2.0"]),
    ("cmc_minus_one", lambda: _cmc(-np.ones((3, 3), dtype=int)), ValueError,
     ["connectivity_matrix", "-1"]),
    ("cmc_half", lambda: _cmc(np.eye(3) * 0.5), ValueError, ["connectivity_matrix", "0.5",
                                                             "[0, 0]"]),
    ("cmc_strings", lambda: _cmc(np.full((3, 3), "a")), TypeError,
     ["connectivity_matrix", "dtype <U1"]),
    ("cmc_none", lambda: _cmc(None), TypeError, ["connectivity_matrix", "None"]),
    ("cmc_complex", lambda: _cmc(np.ones((3, 3)) * 1j), TypeError,
     ["connectivity_matrix", "complex"]),
    ("cmc_ragged", lambda: _cmc([[1, 0], [1], [0]]), ValueError,
     ["connectivity_matrix", "rectangular"]),
    ("cmc_wrong_shape", lambda: _cmc(np.ones((2, 3), dtype=bool)), ValueError,
     ["connectivity_matrix must have shape (3, 3)", "(2, 3)"]),
    # ------------------------------------------------------------ views of synapses
    # (no compartments): these were silent no-ops, or "max() arg is an empty sequence".
    ("synapse_view_insert", lambda: _synapse_view().insert(Leak()), ValueError,
     ["insert(Leak) acts on compartments", "none"]),
    ("synapse_view_add_to_group", lambda: _synapse_view().add_to_group("g"), ValueError,
     ["add_to_group('g') acts on compartments"]),
    ("synapse_view_move", lambda: _synapse_view().move(1.0), ValueError,
     ["move acts on compartments"]),
    ("synapse_view_init_states", lambda: _synapse_view().init_states(), ValueError,
     ["init_states acts on compartments"]),
    ("synapse_view_branch", lambda: _synapse_view().branch(0), ValueError,
     ["branch(0) acts on compartments"]),
    ("synapse_view_comp", lambda: _synapse_view().comp(0), ValueError,
     ["comp(0) acts on compartments"]),
    ("synapse_view_stimulate", lambda: _synapse_view().stimulate(np.ones(4)), ValueError,
     ["stimulate acts on compartments"]),
    ("synapse_view_data_stimulate", lambda: _synapse_view().data_stimulate(np.ones(4)),
     ValueError, ["data_stimulate acts on compartments"]),
    ("copy_node_property_none", lambda: net().copy_node_property_to_edges(None), TypeError,
     ["properties", "None"]),
]


@pytest.mark.parametrize("call, exc, needles", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_gives_a_clear_error(call, exc, needles):
    with pytest.raises(exc) as err:
        call()
    assert isinstance(err.value, TypeError | ValueError)  # never a bare IndexError/KeyError
    for needle in needles:
        assert needle in str(err.value), (needle, str(err.value))


def test_index_errors_are_still_index_errors():
    # Earlier versions raised IndexError / ValueError for these; both still catch them.
    with pytest.raises(IndexError):
        y_cell().branch(99)
    with pytest.raises(ValueError):
        y_cell().branch(99)
    with pytest.raises(ValueError):
        y_cell().branch(1.0)
    with pytest.raises(TypeError):
        y_cell().branch(1.0)


# ------------------------------------------------------------------ delete
def test_delete_absent_from_selection_names_what_is_there():
    cell = jx.Cell(jx.Branch(jx.Compartment(), 2), [-1, 0, 0])
    cell.branch(1).insert(HH())
    cell.branch(0).insert(Leak())
    with pytest.raises(ValueError, match=r"cannot delete 'HH'.*inserted here: \['Leak'\].*"
                                         r"'HH' is in 2 other compartments"):
        cell.branch(0).delete("HH")
    with pytest.raises(ValueError, match="inserted here: no channel"):
        cell.branch(2).delete("HH")
    cell.delete("HH")  # present in part of the selection: deleted there
    assert [c.name for c in cell.channels] == ["Leak"]


def test_delete_refuses_a_different_channel_type_with_the_name():
    cell = y_cell()
    other = Leak().change_name("HH")
    with pytest.raises(ValueError, match="is a HH, not a Leak"):
        cell.delete(other)


def test_delete_while_recording_needs_it_is_refused():
    # Issue 13: record("HH_m"), delete("HH"), integrate -> KeyError 'HH_m' inside integrate.
    cell = y_cell()
    cell.branch(0).comp(0).record("HH_m", verbose=False)
    before = cell.nodes.copy()
    with pytest.raises(ValueError, match=r"cannot delete 'HH' here: recordings of 'HH_m' "
                                         r"\(delete_recordings\(\)\)"):
        cell.delete("HH")
    assert cell.nodes.equals(before) and [c.name for c in cell.channels] == ["HH"]
    cell.branch(1).delete("HH")  # the recording is in branch 0: allowed elsewhere
    out = jx.integrate(cell, t_max=0.1, delta_t=0.025)
    assert out.shape[0] == 1 and np.all(np.isfinite(np.asarray(out)))
    cell.delete_recordings()
    cell.delete("HH")
    assert cell.channels == []


@pytest.mark.parametrize("need, match", [
    (lambda c: c.branch(0).record("i_HH", verbose=False), "recordings of 'i_HH'"),
    (lambda c: c.branch(0).clamp("HH_m", np.full(4, 0.1), verbose=False),
     r"a clamp of 'HH_m' \(delete_clamps\('HH_m'\)\)"),
    (lambda c: c.branch(0).make_trainable("HH_gNa", verbose=False),
     r"a trainable parameter 'HH_gNa' \(delete_trainables\(\)\)"),
])
def test_delete_refused_for_each_kind_of_reference(need, match):
    cell = y_cell()
    need(cell)
    with pytest.raises(ValueError, match=match):
        cell.branch(0).delete("HH")
    cell.branch(2).delete("HH")  # nothing refers to branch 2


def test_delete_allowed_when_another_channel_keeps_the_state():
    from simulator.channels import K, Na

    cell = jx.Cell(jx.Branch(jx.Compartment(), 1), [-1, 0])
    cell.insert(Na())
    cell.insert(K())
    shared = sorted(set(Na().channel_params) & set(K().channel_params))
    assert shared  # vt is a parameter of both
    cell.make_trainable(shared[0], verbose=False)
    cell.delete("Na")  # K still has it: the trainable keeps its values
    assert cell.nodes[shared[0]].notna().all()


# ------------------------------------------------------------------ accepted inputs
def test_connectivity_matrix_accepts_bools_and_zero_one_numbers():
    expected = np.array([[1, 0, 1], [0, 0, 1], [1, 1, 0]])
    for matrix in (expected.astype(bool), expected, expected.astype(float),
                   expected.astype(np.uint8), expected.tolist()):
        n = net()
        jx.connectivity_matrix_connect(n.cell("all"), n.cell("all"), IonotropicSynapse(),
                                       matrix)
        assert len(n.edges) == 5


def test_connect_refuses_views_without_compartments():
    # Before: an edge view as pre connected nothing, silently.
    n = net()
    jx.fully_connect(n.cell(0), n.cell(1), IonotropicSynapse())
    with pytest.raises(ValueError, match="pre_cell_view selects no compartment"):
        jx.fully_connect(n.select(edges="all", nodes=[]), n.cell(1), IonotropicSynapse())
    assert len(n.edges) == 1


def test_accepted_forms_still_work():
    cell = jx.Cell(jx.Branch(), [-1, 0], xyzr=[np.full((2, 4), np.nan),
                                                [[0, 0, 0, 1.0], [5, 0, 0, 1.0]]])
    assert cell.xyzr[1].shape == (2, 4)
    assert jx.Network(c for c in (y_cell(), y_cell())).shape[0] == 2
    cell = y_cell()
    cell.move(np.float32(1.0), np.int64(2), 3)
    cell.move_to([1.0], 2.0, 3.0)
    cell.rotate(np.float64(45.0))
    cell.init_states(delta_t=np.float32(0.025))
    assert len(y_cell().branch(np.int64(1)).nodes) == 2
    assert len(y_cell().branch(np.array([True, False, True])).nodes) == 4
    assert len(y_cell().branch(range(2)).nodes) == 4
    n = net()
    jx.sparse_connect(n.cell("all"), n.cell("all"), IonotropicSynapse(), np.float32(1.0),
                      random_state=np.random.default_rng(0), random_post_comp=np.bool_(True))
    assert len(n.edges) == 9
