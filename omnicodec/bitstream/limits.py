"""Hard limits checked before anything a stream declares is allocated.

A stream may declare sizes; none is trusted. Each is checked against these limits and against the bytes present.
"""

MAX_HEADER_BYTES = 1 << 20
"""Largest header (preamble excluded)."""
MAX_PARAMS_BYTES = 1 << 16
"""Largest JSON parameter block."""
MAX_CHUNKS = 1 << 16
"""Most chunks in one stream."""
MAX_CHUNK_BYTES = (1 << 32) - 1
"""Largest chunk payload (also bounded by the bytes actually present)."""
MAX_POINTS = 1 << 28
"""Most points a point-cloud stream may declare."""
MAX_OCTREE_DEPTH = 21
"""Deepest octree (bits per axis of the integer grid)."""
MAX_ATTRIBUTE_CHANNELS = 64
"""Most channels one point attribute may have."""
MAX_PIXELS = 1 << 32
"""Most pixels (over all views) an image or light-field stream may declare."""
