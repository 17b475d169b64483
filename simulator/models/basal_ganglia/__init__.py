"""The basal ganglia–thalamus network of Rubin & Terman (2004), J. Comput. Neurosci. 16:211.

Single-compartment STN, GPe, GPi and thalamocortical (TC) cells with the paper's currents,
graded synapses with the published connectivity, a healthy and a parkinsonian state, the
sensorimotor input to TC cells, DBS of the STN and the TC relay error index::

    from simulator.models.basal_ganglia import basal_ganglia_network, sensorimotor_input
    net, cells = basal_ganglia_network(16, "parkinsonian", seed=0)

Units: RT's densities (pF/µm², nS/µm², pA/µm²) have the dynamics of C = 1 µF/cm², mS/cm²,
µA/cm²; channel conductances are in S/cm² (RT × 1e-3), each cell has 100 µm² of membrane.
Numerics: the pallidal cells' instantaneous Na activation gives a slope conductance near
−170 mS/cm² at spike onset, so the linearised implicit step (``bwd_euler``, and NEURON's)
is stable only for Δt ≤ 0.0025 ms; ``fwd_euler`` at Δt = 0.01 ms (So et al. 2012's scheme)
is stable. See docs/basal_ganglia.md.
"""

from simulator.models.basal_ganglia.axon_hh import AxonHH
from simulator.models.basal_ganglia.connectivity import pathways
from simulator.models.basal_ganglia.error_index import error_index, spike_times
from simulator.models.basal_ganglia.extracellular_dbs import add_dbs_contact, biphasic_pulses
from simulator.models.basal_ganglia.inputs import (
    dbs_current,
    irregular_sensorimotor_input,
    pulse_train,
    sensorimotor_input,
    to_nA,
)
from simulator.models.basal_ganglia.network import (
    NUCLEI,
    STATES,
    SYNAPSES,
    basal_ganglia_network,
    nucleus_cells,
)
from simulator.models.basal_ganglia.pallidum import PallidalRT
from simulator.models.basal_ganglia.stn import SubthalamicRT
from simulator.models.basal_ganglia.synapse import RTSynapse
from simulator.models.basal_ganglia.thalamus import ThalamocorticalRT

__all__ = ["NUCLEI", "STATES", "SYNAPSES", "AxonHH", "PallidalRT", "RTSynapse",
           "SubthalamicRT", "ThalamocorticalRT", "add_dbs_contact", "basal_ganglia_network",
           "biphasic_pulses", "dbs_current", "error_index", "irregular_sensorimotor_input",
           "nucleus_cells", "pathways", "pulse_train", "sensorimotor_input", "spike_times",
           "to_nA"]
