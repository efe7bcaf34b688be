"""The wavelet image core: the CDF 9/7 transform, exact context bins, the plane coder, its model file and its
streams (header checks, panoramas, grey images)."""

from __future__ import annotations

import numpy as np
import pytest

import omnicodec
from omnicodec.bitstream import pack, unpack
from omnicodec.entropy import get_coder
from omnicodec.errors import CorruptStreamError, InputError, ModelError
from omnicodec.image import dwt, subband_model, wavelet
from omnicodec.image.subband_coder import band_shapes, code_plane, dequantise, half_octave_bin, quantise
from omnicodec.metrics.image import psnr
from omnicodec.pointcloud import attr_model
from omnicodec.pointcloud.attr_model import model_loader
from omnicodec.types import ErpImage

from .test_codec import _smooth_image, _with_params


@pytest.mark.parametrize(("shape", "levels", "wrap"), [((37, 50), 4, False), ((64, 96), 5, True), ((1, 1), 0, False),
                                                      ((3, 5), 1, False), ((2, 8), 3, True), ((129, 7), 2, False)])
def test_transform_is_invertible_at_any_size(shape, levels, wrap) -> None:
    x = np.random.default_rng(0).normal(0, 50, shape)
    ll, bands = dwt.forward(x, levels, wrap)
    assert ll.shape == band_shapes(*shape, levels)[0]
    assert [[b.shape for b in tri] for tri in bands] == band_shapes(*shape, levels)[1]
    assert np.abs(dwt.inverse(ll, bands, wrap) - x).max() < 1e-9


def test_periodic_columns_make_a_yaw_a_roll_of_the_bands() -> None:
    x = np.random.default_rng(1).normal(0, 1, (64, 128))
    ll, bands = dwt.forward(x, 5, wrap=True)
    ll2, bands2 = dwt.forward(np.roll(x, 32, axis=1), 5, wrap=True)  # 32 columns = one LL column
    assert np.array_equal(np.roll(ll, 1, axis=1), ll2)
    assert np.array_equal(np.roll(bands[-1][2], 16, axis=1), bands2[-1][2])
    with pytest.raises(ValueError, match="divisible"):
        dwt.forward(np.zeros((64, 100)), 5, wrap=True)


def test_band_gains_are_the_energy_of_one_coefficient() -> None:
    g_ll, gains = dwt.band_gains(3)
    shape = (128, 128)
    ll, bands = dwt.forward(np.zeros(shape), 3)
    ll[8, 8] = 1.0
    assert (dwt.inverse(ll, bands) ** 2).sum() == pytest.approx(g_ll, rel=1e-9)
    for lev in range(3):
        for o in range(3):
            ll, bands = dwt.forward(np.zeros(shape), 3)
            b = bands[lev][o]
            b[b.shape[0] // 2, b.shape[1] // 2] = 1.0
            assert (dwt.inverse(ll, bands) ** 2).sum() == pytest.approx(gains[lev][o], rel=1e-9)


def test_half_octave_bins_are_exact() -> None:
    x = np.arange(0, 300000)
    for den in (1, 2):
        expected = np.minimum(np.floor(2 * np.log2(1 + x / den) + 1e-12), 15)
        # exact boundaries: (1 + x/den)^2 = 2^k for integer results
        assert np.array_equal(half_octave_bin(x, den), expected.astype(np.int64))
    assert half_octave_bin(np.array([0, 1, 2, 3, 10**12]), 1).tolist() == [0, 2, 3, 4, 15]


def test_quantiser_and_offsets() -> None:
    x = np.array([-2.7, -0.6, 0.0, 0.64, 0.66, 1.7, 5.0])
    q = quantise(x, 1.0)
    assert q.tolist() == [-3, 0, 0, 0, 1, 2, 5]  # floor(|x| + 0.35)
    assert dequantise(q, 2.0, np.array([100, -50])).tolist() == pytest.approx(
        [-2 * (3 - 50 / 1024), 0, 0, 0, 2 * (1 + 100 / 1024), 2 * (2 - 50 / 1024), 2 * (5 - 50 / 1024)])


def test_plane_coder_round_trip_with_luma_context() -> None:
    rng = np.random.default_rng(2)
    model = subband_model.load_model()
    h, w, levels = 45, 70, 3
    ll_shape, shapes = band_shapes(h, w, levels)

    def random_bands(scale: float):
        return (rng.integers(-500, 500, ll_shape),
                [[np.round(rng.laplace(0, scale * 2 ** -i, s)).astype(np.int64) for s in level]
                 for i, level in enumerate(shapes)])

    luma, chroma = random_bands(8.0), random_bands(3.0)
    chroma[1][0][0][0, 0] = 10**6  # far outside the tables: escaped, still lossless
    enc = get_coder("constriction").encoder()
    code_plane(enc, model, 0, h, w, levels, luma)
    code_plane(enc, model, 2, h, w, levels, chroma, luma)
    dec = get_coder("constriction").decoder(enc.finish())
    got_luma = code_plane(dec, model, 0, h, w, levels)
    got_chroma = code_plane(dec, model, 2, h, w, levels, None, got_luma)
    dec.finish()
    for want, got in ((luma, got_luma), (chroma, got_chroma)):
        assert np.array_equal(want[0], got[0])
        for a, b in zip(want[1], got[1], strict=True):
            assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_model_file_checks() -> None:
    w = subband_model.prior_weights()
    with pytest.raises(ModelError):
        subband_model.SubbandModel(w[:-1])
    with pytest.raises(ModelError):
        subband_model.SubbandModel(w, np.full((subband_model.DETAIL_GROUPS, 2), 5000))
    data = subband_model.model_to_bytes(w, subband_model.default_offsets())
    loader = model_loader(subband_model.SubbandModel)
    model = loader(data)
    assert model.weights.shape == w.shape and np.array_equal(model.offsets_q, subband_model.default_offsets())
    with pytest.raises(ModelError):
        loader(b"not a model")
    with pytest.raises(ModelError):  # an attribute model's file lacks the offsets
        loader(attr_model.model_to_bytes(attr_model.prior_weights()))


def test_wavelet_streams_beat_the_hyperprior_and_reach_their_quality() -> None:
    pixels = _smooth_image(96, 160, seed=3)
    results = {}
    for model in ("image_wavelet", "image_core"):
        stream = omnicodec.compress(ErpImage(pixels), codec="image", rate=7, model=model)
        results[model] = (len(stream), psnr(pixels, omnicodec.decompress(stream).pixels))
    (bytes_w, q_w), (bytes_h, q_h) = results["image_wavelet"], results["image_core"]
    assert q_w > 38.0, results
    assert q_w > q_h or bytes_w < bytes_h, results


def test_grey_images_code_one_plane() -> None:
    grey = _smooth_image(50, 70)[..., 0]
    stream = omnicodec.compress(ErpImage(grey), codec="image", rate=5)
    assert [c.tag for c in unpack(stream).chunks] == ["PLNE", "LOOP"]
    out = omnicodec.decompress(stream).pixels
    assert out.shape == (50, 70, 1) and psnr(grey[..., None], out) > 35.0


def test_chroma_option() -> None:
    pixels = _smooth_image(64, 64)
    small = omnicodec.compress(ErpImage(pixels), codec="image", rate=4, chroma=4.0)
    assert unpack(small).header.params["chroma"] == 64
    assert len(small) < len(omnicodec.compress(ErpImage(pixels), codec="image", rate=4))
    for bad in (0.1, 100, "x", True):
        with pytest.raises(InputError, match="chroma"):
            omnicodec.compress(ErpImage(pixels), codec="image", chroma=bad)


def test_bad_wavelet_headers_raise_corrupt_stream() -> None:
    stream = omnicodec.compress(ErpImage(_smooth_image(40, 48)), codec="image", rate=2)
    for changes in ({"transform": "haar"}, {"chroma": 0}, {"chroma": 10**6}, {"channels": 2}, {"rate": 9},
                    {"height": 2**40}, {"wrap": True}, {"sphere": True}, {"rate": 2.0}, {"wrap": 1},
                    {"loop": 1}, {"loop": False}, {"filter": True}):
        with pytest.raises(CorruptStreamError):
            omnicodec.decompress(_with_params(stream, **changes))
    s = unpack(stream)
    with pytest.raises(CorruptStreamError):
        omnicodec.decompress(pack(s.header, s.chunks[:2]))


def test_panoramas_wrap_when_their_width_allows() -> None:
    h = 64
    pano = _smooth_image(h, 2 * h, seed=6)
    stream = omnicodec.compress(ErpImage(pano), codec="erp", rate=4)
    params = unpack(stream).header.params
    assert params["wrap"] and params["sphere"] and params["transform"] == wavelet.TRANSFORM
    out = omnicodec.decompress(stream).pixels
    assert psnr(pano, out) > 30.0
    odd = _smooth_image(h, 2 * h + 2, seed=6)  # 130 columns: not divisible by 2**levels, coded without wrap
    assert not unpack(omnicodec.compress(ErpImage(odd), codec="erp", rate=4)).header.params["wrap"]


def test_models_of_other_kinds_are_refused_with_the_image_models_named() -> None:
    pixels = _smooth_image(32, 32)
    with pytest.raises(InputError, match="not an image model; available: image_wavelet"):
        omnicodec.compress(ErpImage(pixels), codec="image", model="lidar")
