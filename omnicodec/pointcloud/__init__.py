"""Point-cloud codecs: octree structure, occupancy coding, attributes."""
