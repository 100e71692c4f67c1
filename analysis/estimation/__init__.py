"""Estimation: everything computed from a scored study (:mod:`analysis.estimation.study`) — the
design-based degree, the index and its sensitivity, the determinant models, panels, the
reproduction of the seed paper, and the out-of-core path."""
