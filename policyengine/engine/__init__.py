"""Evaluation: compiled policies x resources -> findings. No I/O here."""
