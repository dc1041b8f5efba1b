"""Names the engine reserves for itself inside the model.

Person resources are built by correlation across sources, never collected; they
carry this source (instance) name, so no connector instance may use it.
"""

from __future__ import annotations

#: ``source`` of the person resources built by correlation; refused as an instance name.
CORRELATION_INSTANCE = "correlation"
