"""STN cells with an axon, placed in space, for extracellular DBS of the RT (2004) network.

A single-compartment cell cannot be excited extracellularly: V_e enters the cable equation
only through the axial term g_ij (V_e,j − V_e,i) (the activating function), and a point
neuron sees one uniform V_e. Clinical DBS excites STN axons, whose spikes invade the somata
antidromically (local cells and passing fibres: So, Kent & Grill 2012, J. Comput. Neurosci.
32:499). With ``basal_ganglia_network(..., stn_axon=True)`` each STN cell is

- the RT (2004) STN soma (:class:`~.stn.SubthalamicRT`, unchanged densities) as one
  compartment of ``SOMA_AREA_UM2`` = 3,000 µm² (length 20 µm, radius 75/π µm; 30 × the
  network's 100 µm², so that the axon's load on it stays small),
- plus an axon of ``AXON_NCOMP`` = 20 compartments × 50 µm (1 mm), radius 1 µm, axial
  resistivity 100 Ω·cm, with the Hodgkin–Huxley membrane at 20 °C
  (:class:`~.axon_hh.AxonHH`: NEURON's ``hh`` with Q10 = 3 rates, so that it follows
  130 Hz) and its voltage axis shifted by ``V_SHIFT_MV`` = +5 mV, so that it rests at
  −60 mV, the STN's leak reversal (at HH's −65 mV the axon drains the soma: isolated
  cells fire 10–45 % slower, depending on the sizes).

The sizes are a compromise, measured on isolated cells (i_app 25 µA/cm², 100–400 ms): a
larger soma or a thinner axon loads the soma less but an antidromic spike then fails to
invade it (5,000 µm² with a 1 µm axon: the soma follows 130 Hz pulses only 1:2); a smaller
soma or a thicker axon slows its pacemaking (2,000 µm² / 1 µm at HH's rest: 20 instead of
37 Hz). This one: 33 vs 37 Hz isolated, and 1:1 following above threshold.

Conductances given per cell (the GPe → STN synapses, DBS by current injection) scale with
the soma's area: :data:`AREA_SCALE` (30) × the 100 µm² numbers, so every density is the
same as in the default network. Somata sit on a grid in the y–z plane (``SPACING_UM``
apart, centred on the x axis), axons run in parallel along +x; the other nuclei (single
compartments, which V_e cannot excite) sit 5 mm away.
"""

from __future__ import annotations

import numpy as np

__all__ = ["AREA_SCALE", "AXON_NCOMP", "AXON_LENGTH_UM", "AXON_RADIUS_UM", "SOMA_AREA_UM2",
           "SPACING_UM", "grid", "place_cells", "stn_axon_cell"]

SOMA_LENGTH_UM, SOMA_RADIUS_UM = 20.0, 75.0 / np.pi
#: Soma membrane (µm²) of the axon variant, and its ratio to the network's 100 µm².
SOMA_AREA_UM2 = 2.0 * np.pi * SOMA_RADIUS_UM * SOMA_LENGTH_UM
AREA_SCALE = SOMA_AREA_UM2 / 100.0
#: Axon: compartments, length of each (µm), radius (µm), axial resistivity (Ω·cm).
AXON_NCOMP, AXON_LENGTH_UM, AXON_RADIUS_UM, AXIAL_OHM_CM = 20, 50.0, 1.0, 100.0
#: Shift (mV) of the axon's HH voltage axis: its rest moves from −65 to −60 mV, the STN's
#: leak reversal, so no steady current flows between soma and axon there.
V_SHIFT_MV = 5.0
#: Distance (µm) between neighbouring STN somata on their grid; other nuclei's offset.
SPACING_UM, FAR_UM = 40.0, 5000.0


def stn_axon_cell(channel, soma_radius_um: float = SOMA_RADIUS_UM,
                  axon_radius_um: float = AXON_RADIUS_UM):
    """An STN cell: soma (x from 0 to 20 µm, ``channel`` inserted) and an HH axon along +x
    from the soma's end (branches 0 and 1); radii in µm (defaults: the module's)."""
    from simulator import Branch, Cell, Compartment
    from simulator.models.basal_ganglia.axon_hh import AxonHH

    soma_r, axon_r = float(soma_radius_um), float(axon_radius_um)
    end = SOMA_LENGTH_UM + AXON_NCOMP * AXON_LENGTH_UM
    xyzr = [np.array([[0.0, 0, 0, soma_r], [SOMA_LENGTH_UM, 0, 0, soma_r]]),
            np.array([[SOMA_LENGTH_UM, 0, 0, axon_r], [end, 0, 0, axon_r]])]
    cell = Cell([Branch(Compartment(), ncomp=1), Branch(Compartment(), ncomp=AXON_NCOMP)],
                parents=[-1, 0], xyzr=xyzr)
    for b, (length, radius) in enumerate(((SOMA_LENGTH_UM, soma_r), (AXON_LENGTH_UM, axon_r))):
        cell.branch(b).set("length", length)
        cell.branch(b).set("radius", radius)
    cell.set("axial_resistivity", AXIAL_OHM_CM)
    cell.branch(0).insert(channel)
    cell.branch(1).insert(AxonHH())
    cell.branch(1).set("AxonHH_v_shift", V_SHIFT_MV)
    return cell


def grid(n: int, spacing: float = SPACING_UM) -> np.ndarray:
    """(n, 2) (y, z) µm: ``n`` points on a square grid, ``spacing`` apart, centred on 0."""
    side = int(np.ceil(np.sqrt(n)))
    k = np.arange(n)
    yz = np.stack([k % side, k // side], axis=1) * spacing
    return yz - (side - 1) * spacing / 2.0


def place_cells(net, cells: dict) -> None:
    """Move the STN cells' somata onto the y–z grid (axons along +x) and every other cell
    ``FAR_UM`` away along −x (in a row, ``SPACING_UM`` apart)."""
    stn = np.asarray(cells["STN"])
    others = np.setdiff1d(np.concatenate(list(cells.values())), stn)
    xyz = np.zeros((len(stn) + len(others), 3))
    xyz[stn, 1:] = grid(len(stn))
    xyz[others, 0] = -FAR_UM
    xyz[others, 1] = (np.arange(len(others)) - len(others) / 2.0) * SPACING_UM
    net.move_to(x=xyz[:, 0], y=xyz[:, 1], z=xyz[:, 2])
