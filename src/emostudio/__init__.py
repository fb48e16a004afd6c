"""Emotion Studio: speech emotion recognition on emotion2vec+."""

__version__ = "0.1.0"
