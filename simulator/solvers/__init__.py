"""Numerical solvers: gate updates and (elsewhere) the cable-equation solvers."""
