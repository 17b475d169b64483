"""The basal ganglia–thalamus network of Rubin & Terman (2004): :func:`basal_ganglia_network`.

Single-compartment STN, GPe, GPi and TC cells (:mod:`.stn`, :mod:`.pallidum`,
:mod:`.thalamus`) joined by :class:`~.synapse.RTSynapse` s with the published connectivity
(:mod:`.connectivity`). Each compartment is a cylinder of 100 µm² membrane (length 10 µm,
radius 5/π µm), so a density of 1 µA/cm² is 1e-3 nA and 1 mS/cm² is 1e-3 µS.
"""

from __future__ import annotations

import numpy as np

from simulator.models.basal_ganglia.connectivity import block_lists, pathways
from simulator.models.basal_ganglia.pallidum import I_APP, PallidalRT
from simulator.models.basal_ganglia.stn import SubthalamicRT
from simulator.models.basal_ganglia.stn_axon import AREA_SCALE, place_cells, stn_axon_cell
from simulator.models.basal_ganglia.synapse import RTSynapse
from simulator.models.basal_ganglia.thalamus import ThalamocorticalRT

__all__ = ["basal_ganglia_network", "NUCLEI", "STATES", "AREA_CM2", "SYNAPSES",
           "nucleus_cells"]

NUCLEI = ("STN", "GPe", "GPi", "TC")
STATES = ("healthy", "parkinsonian")
#: Membrane area of every cell (cm²): 100 µm².
AREA_CM2 = 1e-6
LENGTH_UM, RADIUS_UM = 10.0, 5.0 / np.pi

#: Kinetics (α, β 1/ms; θ_g, θ_H, σ_H mV) of the transmitter of each presynaptic kind, RT
#: (2004) appendix / authors' XPP files: STN → GPe, STN → GPi (its own slower variable),
#: GPe → STN and GPe, GPe → GPi, GPi → TC.
_STN, _STN_I = (5.0, 1.0, 30.0, -39.0, 8.0), (1.0, 0.05, 30.0, -39.0, 8.0)
_GPE, _GPE_I, _GPI = ((2.0, 0.04, 20.0, -57.0, 2.0), (1.0, 0.1, 20.0, -57.0, 2.0),
                      (2.0, 0.08, 20.0, -57.0, 2.0))
#: ``name: (pre nucleus, post nucleus, g (mS/cm², RT's nS/µm² numbers), e_syn mV, kinetics)``;
#: GPe → GPe is 0.3 healthy and 0 parkinsonian (:func:`basal_ganglia_network`).
SYNAPSES = {"GPe_STN": ("GPe", "STN", 0.9, -100.0, _GPE),
            "GPe_GPe": ("GPe", "GPe", 0.3, -80.0, _GPE),
            "STN_GPe": ("STN", "GPe", 0.3, 0.0, _STN),
            "STN_GPe_cross": ("STN", "GPe", 0.3 * 0.2, 0.0, _STN),
            "STN_GPi": ("STN", "GPi", 0.5, 0.0, _STN_I),
            "GPe_GPi": ("GPe", "GPi", 1.0, -100.0, _GPE_I),
            "GPi_TC": ("GPi", "TC", 0.06, -85.0, _GPI)}


def nucleus_cells(n_per_nucleus: int) -> dict[str, np.ndarray]:
    """The network's cell indices of each nucleus (STN, GPe, GPi: n each; TC: 2 per pair of
    8-cell blocks), in that order."""
    n_blocks = block_lists(n_per_nucleus)
    n_tc = 2 * ((n_blocks + 1) // 2)
    starts = np.cumsum([0, n_per_nucleus, n_per_nucleus, n_per_nucleus])
    sizes = (n_per_nucleus,) * 3 + (n_tc,)
    return {name: np.arange(s, s + k) for name, s, k in zip(NUCLEI, starts, sizes,
                                                             strict=True)}


def _cell(channel):
    from simulator import Branch, Cell, Compartment

    cell = Cell([Branch(Compartment(), ncomp=1)], parents=[-1])
    cell.set("length", LENGTH_UM)
    cell.set("radius", RADIUS_UM)
    cell.insert(channel)
    return cell


def basal_ganglia_network(n_per_nucleus: int = 16, state: str = "healthy", seed: int = 0,
                          v_spread: tuple[float, float] = (-80.0, -40.0),
                          stn_axon: bool = False):
    """The RT (2004) network in ``state`` with initial voltages drawn by ``seed``.

    Args:
        n_per_nucleus: STN, GPe and GPi cells each (a multiple of 8; the paper: 16, with
            2 TC cells).
        state: ``"healthy"`` or ``"parkinsonian"`` (GPe applied current 2 → −2.2 µA/cm²,
            GPe → GPe conductance 0.3 → 0 mS/cm²: the authors' ``.setnorm``/``.setpark``).
        seed: initial voltages uniform in ``v_spread`` (mV), gates at their steady state.
        stn_axon: STN cells get an HH axon and all cells 3-D positions, for extracellular
            DBS (:mod:`.stn_axon`; GPe → STN conductances scale with the larger soma).

    Returns:
        ``(net, cells)``: the :class:`simulator.Network` (channels ``SubthalamicRT``,
        ``PallidalRT`` in GPe and GPi, ``ThalamocorticalRT``) and :func:`nucleus_cells`.
    """
    from simulator import Network
    from simulator.connect import connectivity_matrix_connect

    if state not in STATES:
        raise ValueError(f"state must be one of {STATES}, got {state!r}")
    cells = nucleus_cells(n_per_nucleus)
    channel = {"STN": SubthalamicRT, "GPe": PallidalRT, "GPi": PallidalRT,
               "TC": ThalamocorticalRT}
    templates = {name: _cell(channel[name]()) for name in ("STN", "GPe", "TC")}
    templates["GPi"] = templates["GPe"]
    if stn_axon:
        templates["STN"] = stn_axon_cell(channel["STN"]())
    net = Network([templates[name] for name in NUCLEI for _ in cells[name]])
    for name in ("GPe", "GPi"):
        for i in cells[name]:
            net.cell(int(i)).set("PallidalRT_i_app", I_APP[(name, state)])
    for name, (pre, post) in pathways(n_per_nucleus).items():
        src, dst, g, e_syn, kinetics = SYNAPSES[name]
        if name == "GPe_GPe" and state == "parkinsonian":
            g = 0.0
        scale = AREA_SCALE if stn_axon and dst == "STN" else 1.0
        synapse = RTSynapse(name, g * 1e-3 * AREA_CM2 * 1e6 * scale, e_syn, *kinetics)
        matrix = np.zeros((len(cells[src]), len(cells[dst])), bool)
        matrix[pre, post] = True
        connectivity_matrix_connect(net.cell(cells[src].tolist()),
                                    net.cell(cells[dst].tolist()), synapse, matrix)
    v0 = np.random.default_rng(seed).uniform(*v_spread, len(net.cells))
    net.set("v", v0[net.nodes["global_cell_index"].to_numpy()])
    if stn_axon:
        place_cells(net, cells)
    net.init_states()
    return net, cells
