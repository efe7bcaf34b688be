"""Windowed transforms: the result does not depend on the window grid; padding and wrap-around indices."""

from __future__ import annotations

import numpy as np
import torch

from omnicodec.image.model import GainHyperprior, ImageModelConfig
from omnicodec.image.tiling import analysis_windowed, source_index, synthesis_windowed


def test_source_index_replicates_or_wraps() -> None:
    idx = np.arange(-3, 13)
    # 8 source columns padded to 10: replicate -> clamp to the edges
    assert source_index(idx, 8, 10, False).tolist() == [0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 7, 7, 7, 7, 7]
    # wrap: padded columns 8, 9 repeat columns 0, 1; beyond the padded width, periodic with period 10
    assert source_index(idx, 8, 10, True).tolist() == [7, 0, 1, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 0, 1, 2]


def _net() -> GainHyperprior:
    torch.manual_seed(0)
    return GainHyperprior(ImageModelConfig(channels=8, latent=6, hyper=8, z_channels=4, levels=2)).eval()


def test_windows_do_not_change_the_transforms() -> None:
    net = _net()
    pixels = np.random.default_rng(0).integers(0, 256, size=(96, 160, 3), dtype=np.uint8)
    with torch.no_grad():
        for wrap in (False, True):
            whole = analysis_windowed(lambda t: net.analysis(t, 1), pixels, (128, 192), 1024, wrap)
            small = analysis_windowed(lambda t: net.analysis(t, 1), pixels, (128, 192), 32, wrap)
            assert whole.shape == (1, 6, 8, 12)
            assert torch.allclose(whole, small, atol=1e-5)
            images = []
            for window in (1024, 48):
                out = np.zeros((128, 192, 3), np.float32)

                def sink(r0, r1, c0, c1, piece, out=out):
                    out[r0:r1, c0:c1] = piece[0].permute(1, 2, 0).numpy()

                synthesis_windowed(lambda t: net.synthesis(t, 1), whole, window, wrap, sink)
                images.append(out)
            assert np.allclose(images[0], images[1], atol=1e-5)


def test_wrapped_analysis_is_periodic() -> None:
    """Rolling a panorama by 64 columns (4 latent columns) rolls its wrapped latent by 4 columns."""
    net = _net()
    pixels = np.random.default_rng(1).integers(0, 256, size=(64, 256, 3), dtype=np.uint8)
    with torch.no_grad():
        a = analysis_windowed(lambda t: net.analysis(t, 0), pixels, (64, 256), 1024, True)
        b = analysis_windowed(lambda t: net.analysis(t, 0), np.roll(pixels, 64, axis=1), (64, 256), 1024, True)
    assert torch.allclose(torch.roll(a, 4, dims=-1), b, atol=1e-5)
