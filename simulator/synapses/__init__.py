"""Synapse models: the base contract and the built-in graded synapses."""

from simulator.synapses.ionotropic import IonotropicSynapse
from simulator.synapses.synapse import Synapse
from simulator.synapses.tanh import TanhConductanceSynapse, TanhRateSynapse
from simulator.synapses.test import TestSynapse

__all__ = ["IonotropicSynapse", "Synapse", "TanhConductanceSynapse", "TanhRateSynapse",
           "TestSynapse"]
