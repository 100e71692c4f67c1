"""ruralgov: survey waves of rural public service governance → modernization index → report.

The embedded default wave (``2020-replica``) is a calibrated *synthetic* replica, not the
original survey data.
"""

__version__ = "0.1.0"
