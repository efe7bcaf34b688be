"""Builders of training sets (HDF5) for the learned point-cloud geometry codecs.

* :mod:`.paths`: the shared data folder, the real training files and the guard refusing evaluation-only data.
* :mod:`.grid`: voxelisation, Morton-sorted unique coordinates, rotations, crops.
* :mod:`.meshes`, :mod:`.shape_recipes`, :mod:`.surface_voxels`, :mod:`.synthetic_surfaces`: synthetic dense clouds
  (people and objects voxelised on a 10-bit grid).
* :mod:`.synthetic_indoor`: synthetic single-view indoor scans.
* :mod:`.lidar_scenes`, :mod:`.synthetic_lidar`: synthetic spinning-LiDAR scans on the 1 mm grid.
* :mod:`.real_scans`: the real training scans on their grids, and augmentations.
* :mod:`.h5store`: the HDF5 layout, writer and reader (with bounded-memory crops).
* :mod:`.stats`: geometry statistics comparing synthetic and real samples (``python -m datasets.stats``).
* :mod:`.build`: the command line (``python -m datasets.build``).
"""
