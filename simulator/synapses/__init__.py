"""Synapse models: the base contract and the built-in graded synapses."""

from simulator.synapses.gated_conductance import GatedConductanceSynapse
from simulator.synapses.ionotropic import IonotropicSynapse
from simulator.synapses.synapse import Synapse
from simulator.synapses.tanh import TanhConductanceSynapse, TanhRateSynapse
from simulator.synapses.test import TestSynapse

__all__ = ["GatedConductanceSynapse", "IonotropicSynapse", "Synapse",
           "TanhConductanceSynapse", "TanhRateSynapse", "TestSynapse"]
