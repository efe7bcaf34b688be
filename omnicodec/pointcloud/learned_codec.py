"""The learned lossless point-cloud codec (codec id ``learned``, the default for point clouds).

The same stream layout as the baseline ``octree`` codec (positions on an integer grid, points per voxel, lossless
attributes), with the occupancy coded by :mod:`.learned_coder`: a small integer network over sparse convolution
features of the coarser level and the child-level neighbourhood decoded so far, mixed with adaptive counts. Two
models ship (:mod:`.model_zoo`): ``dense`` for voxelised surfaces and ``lidar`` for LiDAR sweeps on a fine grid;
``model="auto"`` picks one from the data. The stream header records the model's name and sha256, and decoding refuses a
stream whose model this installation does not have.

With ``model="auto"``, a sweep of a spinning LiDAR (:func:`.spin_codec.is_sweep`) goes to the ``spin``
codec instead, which codes such sweeps in fewer bits and faster; its stream names ``spin`` as the codec.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..bitstream import StreamHeader
from ..codecs.registry import register_codec
from ..errors import CorruptStreamError, InputError, ModelError
from .model_zoo import AUTO, choose_model, load_model
from .octree_codec import OctreeCodec
from .spin_codec import SpinCodec, is_sweep

__all__ = ["LearnedCodec"]


@register_codec("learned", modality="pointcloud")
class LearnedCodec(OctreeCodec):
    """Octree occupancy with a learned, exactly computed probability model; attributes coded losslessly.

    ``compress(cloud, grid_step=None, coder="constriction", merge_duplicates=False, progress=False, model="auto")``;
    ``model`` is ``"auto"`` (dense or LiDAR, chosen from the data) or a model name from
    :func:`~omnicodec.pointcloud.model_zoo.list_models`.
    """

    description = "octree occupancy, learned sparse-convolution entropy model (lossless on the grid)"
    geometry_options = ("model",)

    def compress(self, data, *, grid_step: float | None = None, coder: str = "constriction",
                 merge_duplicates: bool = False, attr_rate: int | None = None, progress: bool = False,
                 **geometry: Any) -> bytes:
        """As :meth:`.OctreeCodec.compress`; with ``model="auto"`` (the default) a spinning sensor's sweep in scan
        order is coded by the ``spin`` codec."""
        if geometry.get("model", AUTO) == AUTO and is_sweep(data, grid_step):
            return SpinCodec().compress(data, grid_step=grid_step, coder=coder, merge_duplicates=merge_duplicates,
                                        attr_rate=attr_rate, progress=progress)
        return super().compress(data, grid_step=grid_step, coder=coder, merge_duplicates=merge_duplicates,
                                attr_rate=attr_rate, progress=progress, **geometry)

    def _encode_geometry(self, codes: list[np.ndarray], encoder, progress, model: str = AUTO) -> dict[str, Any]:
        from .learned_coder import encode_occupancy_learned  # torch: imported only for octree coding

        name = choose_model(codes) if model == AUTO else model
        net = load_model(name)
        encode_occupancy_learned(codes, net, encoder, progress=progress)
        return {"model": name, "weights_sha256": net.sha256, "params": {"direct_levels": True}}

    def _decode_geometry(self, decoder, depth: int, voxels: int, progress, header: StreamHeader) -> np.ndarray:
        name, digest = header.model, header.weights_sha256.hex()
        if not name or len(digest) != 64:
            raise CorruptStreamError("learned stream does not name its model and its weights' sha256")
        try:
            net = load_model(name)
        except (InputError, ModelError) as exc:  # an unknown name is a stream from another installation
            raise ModelError(f"the stream was coded with model {name!r}, which cannot be loaded here: {exc}") from None
        if net.sha256 != digest:
            raise ModelError(f"the stream was coded with model {name!r} sha256 {digest[:16]}..., this installation has "
                             f"{net.sha256[:16]}...; decode with the omnicodec version that wrote it")
        direct = header.params.get("direct_levels", False)
        if not isinstance(direct, bool):
            raise CorruptStreamError(f"learned stream parameter direct_levels is {direct!r}, not true or false")
        from .learned_coder import decode_occupancy_learned

        return decode_occupancy_learned(decoder, depth, voxels, net, progress=progress, direct_levels=direct)
