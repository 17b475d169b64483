"""Ion pumps and concentration mechanisms (jaxley-compatible: ``jaxley.pumps``)."""

from simulator.pumps.ca_pump import CaPump
from simulator.pumps.faraday_electrolysis import CaFaradayConcentrationChange
from simulator.pumps.nernstreversal import CaNernstReversal
from simulator.pumps.pump import Pump

__all__ = ["CaFaradayConcentrationChange", "CaNernstReversal", "CaPump", "Pump"]
