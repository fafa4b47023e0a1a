"""temporalkit: temporal architecture picking and frame-sampler auditing for video ML.

Importing this package must stay cheap: no torch, no libcst at import time.
"""

__version__ = "0.1.0"
