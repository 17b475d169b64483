"""neuroenv: reinforcement-learning environments on biophysical neurons (in progress)."""
