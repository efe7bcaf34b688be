"""The spinning-LiDAR codec ``spin``: exact round trips in scan order, the automatic choice from ``learned``, the
integer arithmetic it rests on, and clean errors on bad streams."""

from __future__ import annotations

import math

import numpy as np
import pytest

import omnicodec
from omnicodec.bitstream import Chunk, StreamHeader, pack, unpack
from omnicodec.errors import BitstreamError, CorruptStreamError, InputError, ModelError
from omnicodec.pointcloud import spin_geometry as sg
from omnicodec.pointcloud.spin_codec import is_sweep, sweep_order
from omnicodec.types import PointCloud
from tests.pointcloud.helpers import box_room_sweep as sweep


def test_round_trip_is_exact_and_keeps_the_order():
    pos = sweep()
    cloud = PointCloud(pos, {"intensity": np.linspace(0, 1, len(pos), dtype=np.float32)})
    stream = omnicodec.compress(cloud, grid_step=0.001, codec="spin")
    out = omnicodec.decompress(stream)
    assert np.array_equal(np.rint(out.positions.astype(np.float64) * 1000), np.rint(pos.astype(np.float64) * 1000))
    assert out.positions.dtype == np.float32
    assert np.array_equal(out.attributes["intensity"], cloud.attributes["intensity"])
    assert 8 * len(unpack(stream).chunk("SPIN")) / len(pos) < 14.0  # a room at 1 cm noise: far below raw 3 x 16 bits


def test_learned_hands_sweeps_to_spin_and_other_clouds_to_the_octree(rng):
    pos = sweep(seed=1)
    assert unpack(omnicodec.compress(PointCloud(pos), grid_step=0.001)).header.codec == "spin"
    scattered = PointCloud(rng.uniform(-8, 8, (20000, 3)).astype(np.float32))
    assert not is_sweep(scattered, 0.001)
    assert unpack(omnicodec.compress(scattered, grid_step=0.001)).header.codec == "learned"
    x, y = np.meshgrid(np.arange(200), np.arange(200))  # a raster-scanned surface: dense, one azimuth step apart
    surface = PointCloud(np.stack([x.ravel() + 50, y.ravel() + 50, np.zeros(x.size)], 1).astype(np.float32))
    assert not is_sweep(surface, None)
    # an explicit model keeps the octree coder
    assert unpack(omnicodec.compress(PointCloud(pos), grid_step=0.001, model="lidar")).header.codec == "learned"
    assert not is_sweep(PointCloud(pos[:1000]), 0.001)  # too few points


@pytest.mark.parametrize("order", ["firing", "shuffled"])
def test_a_sweep_in_another_order_is_coded_ring_by_ring(rng, order):
    pos = sweep(seed=5)
    q = np.rint(pos.astype(np.float64) * 1000).astype(np.int64)
    if order == "firing":  # column after column, as a Velodyne driver writes its packets
        az = np.arctan2(pos[:, 1], pos[:, 0])
        perm = np.lexsort((np.arange(len(pos)), np.floor(az / np.deg2rad(0.4))))
    else:
        perm = rng.permutation(len(pos))
    cloud = PointCloud(pos[perm], {"intensity": np.arange(len(pos), dtype=np.float32)[perm]})
    assert sweep_order(q[perm])[0] is not None
    stream = omnicodec.compress(cloud, grid_step=0.001)
    parsed = unpack(stream)
    assert parsed.header.codec == "spin"
    out = omnicodec.decompress(stream)
    back = np.rint(out.positions.astype(np.float64) * 1000).astype(np.int64)
    assert np.array_equal(np.unique(back, axis=0), np.unique(q, axis=0))
    # each point keeps its own intensity (the input index of the point)
    assert np.array_equal(back, q[out.attributes["intensity"].astype(np.int64)])
    in_order = 8 * len(unpack(omnicodec.compress(PointCloud(pos), grid_step=0.001)).chunk("SPIN")) / len(pos)
    assert 8 * len(parsed.chunk("SPIN")) / len(pos) < 1.05 * in_order


def test_no_return_zeros_go_last_and_cost_little(rng):
    """Drivers that keep a point per firing write (0, 0, 0) where a firing had no return."""
    pos = sweep(seed=6)
    holes = rng.random(len(pos)) < 0.3
    with_zeros = np.where(holes[:, None], 0.0, pos).astype(np.float32)
    stream = omnicodec.compress(PointCloud(with_zeros), grid_step=0.001)
    parsed = unpack(stream)
    assert parsed.header.codec == "spin"
    out = np.rint(omnicodec.decompress(stream).positions.astype(np.float64) * 1000)
    live = int((~holes).sum())
    assert np.array_equal(out[:live], np.rint(pos[~holes].astype(np.float64) * 1000)) and not out[live:].any()
    alone = unpack(omnicodec.compress(PointCloud(pos[~holes]), grid_step=0.001)).chunk("SPIN")
    assert len(parsed.chunk("SPIN")) < 1.1 * len(alone)


def test_a_cloud_without_an_azimuth_step_is_refused(rng):
    cloud = PointCloud(rng.uniform(-5, 5, (5000, 3)).astype(np.float32))
    with pytest.raises(InputError, match="not a spinning sensor"):
        omnicodec.compress(cloud, grid_step=0.001, codec="spin")


def test_points_beyond_the_coordinate_bound_are_refused():
    pos = sweep().astype(np.float64)
    pos[0] = [20000.0, 0.0, 0.0]  # 20 km on a 1 mm grid
    with pytest.raises(InputError, match="2\\*\\*24"):
        omnicodec.compress(PointCloud(pos), grid_step=0.001, codec="spin")


def test_merge_duplicates_keeps_first_order_and_averages():
    pos = sweep(seed=2)
    dup = np.concatenate([pos, pos[:10]])
    values = np.arange(len(dup), dtype=np.int64).astype(np.uint16)
    cloud = PointCloud(dup, {"reflectance": values})
    out = omnicodec.decompress(omnicodec.compress(cloud, grid_step=0.001, codec="spin", merge_duplicates=True))
    assert len(out) == len(pos)
    merged = out.attributes["reflectance"]
    assert merged[5] == np.uint16(round((5 + len(pos) + 5) / 2))  # the mean of the point and its repeat
    assert np.array_equal(merged[10:20], values[10:20])


def test_integer_square_root_rounds_to_nearest():
    n = np.array([0, 1, 2, 3, 4, 6, 7, 2**50 - 1, 2**50, (2**25 + 1) ** 2 - 1, 12345678901234], np.int64)
    exact = np.array([math.isqrt(int(v)) + (int(v) - math.isqrt(int(v)) ** 2 > math.isqrt(int(v))) for v in n])
    assert np.array_equal(sg._isqrt_round(n), exact)


def test_size_classes_and_raw_bits_invert():
    v = np.array([0, 1, -1, 2, -3, 7, -8, 1000, -(2**26) + 1], np.int64)
    sym, bits = sg.size_class(v)
    assert list(sym[:5]) == [0, 1, 2, 3, 4]
    assert np.array_equal(sg._from_raw(sym, sg._raw_bits(v, bits)), v)


def test_symbol_counts_cover_every_predicted_point():
    q = np.rint(sweep(seed=3).astype(np.float64) * 1000).astype(np.int64)
    dr, e = sg.symbol_counts(q, *sg.rotation(sg.azimuth_step(q)))
    predicted = len(q) - -(-len(q) // sg.SEQUENCE)
    assert dr.sum() == predicted and e.sum() == 3 * predicted


def _stream(pos=None) -> bytes:
    return omnicodec.compress(PointCloud(sweep(seed=4) if pos is None else pos), grid_step=0.001, codec="spin")


def test_truncated_and_damaged_streams_fail_cleanly():
    s = unpack(_stream())
    data = s.chunk("SPIN")
    for payload in (data[: len(data) // 2], data[:10], bytes(len(data)), bytes(b ^ 0x5A for b in data)):
        bad = pack(s.header, [Chunk("SPIN", payload)])
        with pytest.raises((BitstreamError, CorruptStreamError)):
            omnicodec.decompress(bad)


@pytest.mark.parametrize("change", [{"points": 2**27}, {"turn": [1, 2, 3]}, {"turn": [2**40, 0]}, {"turn": "x"},
                                    {"points": -1}, {"points": 10**12}, {"grid_step": 0}, {"grid_step": -1.0},
                                    {"positions_dtype": "U8"}, {"attributes": 5}])
def test_malformed_parameters_are_corrupt_stream_errors(change):
    s = unpack(_stream())
    params = {**s.header.params, **change}
    header = StreamHeader(modality="pointcloud", codec="spin", coder_id=s.header.coder_id, params=params,
                          model=s.header.model, weights_sha256=s.header.weights_sha256)
    with pytest.raises(CorruptStreamError):
        omnicodec.decompress(pack(header, s.chunks))


def test_a_stream_of_another_model_version_is_refused():
    s = unpack(_stream())
    header = StreamHeader(modality="pointcloud", codec="spin", coder_id=s.header.coder_id, params=s.header.params,
                          model="spin", weights_sha256=bytes(32))
    with pytest.raises(ModelError, match="sha256"):
        omnicodec.decompress(pack(header, s.chunks))


def test_real_kitti_frame_round_trip_and_rate(shared_data):
    path = shared_data / "pointcloud/lidar/kitti00/000004.bin"  # a training-side frame
    cloud = omnicodec.read(path)
    stream = omnicodec.compress(cloud, grid_step=0.001)
    parsed = unpack(stream)
    assert parsed.header.codec == "spin"
    out = omnicodec.decompress(stream)
    grid = np.rint(cloud.positions.astype(np.float64) * 1000)
    assert np.array_equal(np.rint(out.positions.astype(np.float64) * 1000), grid)
    assert np.array_equal(out.attributes["intensity"], cloud.attributes["intensity"])
    bpp = 8 * len(parsed.chunk("SPIN")) / len(cloud)
    assert bpp < 17.0, bpp  # G-PCC v23's predictive mode: about 18.5 on frames of this sequence


def test_batch_codes_sweeps_with_spin_and_resumes_them(tmp_path):
    from omnicodec.batch import run

    src = tmp_path / "seq"
    src.mkdir()
    for i in range(3):
        pos = sweep(seed=10 + i)
        omnicodec.write(src / f"{i:06d}.bin", PointCloud(pos, {"intensity": np.zeros(len(pos), np.float32)}))
    out = tmp_path / "out"
    first = run([src], out, grid_step=0.001, workers=1, log=None, progress=False)
    assert first.ok and first.summary["encoded"] == 3
    assert {unpack((out / f"{i:06d}.omc").read_bytes()).header.codec for i in range(3)} == {"spin"}
    again = run([src], out, grid_step=0.001, workers=1, resume=True, log=None, progress=False)
    assert again.summary["resumed"] == 3 and again.summary["encoded"] == 0
    octree = run([src], out, grid_step=0.001, workers=1, resume=True, log=None, progress=False, codec="octree")
    assert octree.summary["encoded"] == 3  # another codec asked for: coded again


def test_golden_stream_decodes_to_its_recorded_points():
    """A stream written by this version (8-beam room sweep, 5331 points, model ``spin``): decoding it must give the
    same grid points forever, or the format version must change."""
    import hashlib
    from pathlib import Path

    data = (Path(__file__).parent / "data" / "spin_v1_room8.bin").read_bytes()
    out = omnicodec.decompress(data)
    q = np.rint(out.positions.astype(np.float64) * 1000).astype("<i8")
    assert len(q) == 5331
    assert hashlib.sha256(q.tobytes()).hexdigest() == "2d7247e60c7dc81ce3cb1c7813b77285172a6b610bf244ee8b10fc26b264afa0"
    assert np.array_equal(q, np.rint(sweep(beams=8, cols=700, seed=21).astype(np.float64) * 1000))


def test_cli_codec_spin_and_info(tmp_path, capsys):
    from omnicodec.cli import main

    src = tmp_path / "frame.bin"
    pos = sweep(seed=30)
    omnicodec.write(src, PointCloud(pos, {"intensity": np.ones(len(pos), np.float32)}))
    assert main(["compress", str(src), "-o", str(tmp_path / "a.omc"), "--grid-step", "0.001", "-q"]) == 0
    assert main(["info", str(tmp_path / "a.omc")]) == 0
    assert any(line.split() == ["codec", "spin"] for line in capsys.readouterr().out.splitlines())
    scattered = tmp_path / "noise.bin"
    omnicodec.write(scattered, PointCloud(np.random.default_rng(0).uniform(-5, 5, (6000, 3)).astype(np.float32),
                                          {"intensity": np.ones(6000, np.float32)}))
    assert main(["compress", str(scattered), "-o", str(tmp_path / "b.omc"), "--codec", "spin",
                 "--grid-step", "0.001", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a spinning sensor" in err[0]
    assert not (tmp_path / "b.omc").exists()
    assert main(["compress", str(src), "-o", str(tmp_path / "c.omc"), "--codec", "spin", "--rate", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has no option 'rate'" in err[0]
    assert not (tmp_path / "c.omc").exists()


def test_lossy_keeps_the_smaller_spin_stream_at_its_geometry_only_rates(tmp_path):
    """At a geometry-only lidar rate point, a sweep's ``spin`` stream on the coarsened grid, with the decoded points
    at the cell centres as ``lossy`` puts them, replaces the lossy stream when smaller."""
    from omnicodec.pointcloud.lossy_zoo import GEOMETRY_ONLY, RATE_POINTS

    q = np.rint(sweep(beams=32, cols=900, seed=40).astype(np.float64) * 1000)
    cloud = PointCloud(q)  # integer millimetres as float64, grid step 1
    rate = max(r for r, p in enumerate(RATE_POINTS["lidar"], 1) if p[1] is GEOMETRY_ONLY)
    stream = omnicodec.compress(cloud, rate=rate)
    header = unpack(stream).header
    assert header.codec == "spin"
    shift = header.params["shift"]
    assert (header.params["rate"], header.params["input_points"], header.params["family"]) == (rate, len(q), "lidar")
    assert header.params["input_grid_step"] == 1.0 and header.params["grid_step"] == 2.0**shift
    out = omnicodec.decompress(stream).positions
    cells = np.unique(np.floor(q / 2**shift), axis=0) * 2**shift + (2**shift - 1) / 2
    assert np.array_equal(np.unique(out, axis=0), cells)
    from omnicodec.batch import run

    src = tmp_path / "seq"
    src.mkdir()
    omnicodec.write(src / "000000.ply", cloud)
    first = run([src], tmp_path / "out", rate=rate, workers=1, verify=True, log=None, progress=False)
    assert first.ok and first.summary["encoded"] == 1
    again = run([src], tmp_path / "out", rate=rate, workers=1, resume=True, log=None, progress=False)
    assert again.summary["resumed"] == 1


def test_offset_is_checked():
    with pytest.raises(InputError, match="offset"):
        omnicodec.compress(PointCloud(sweep()), grid_step=0.004, codec="spin", offset=0.004)
    s = unpack(omnicodec.compress(PointCloud(sweep()), grid_step=0.004, codec="spin", offset=0.0015))
    assert s.header.params["offset"] == 0.0015
    header = StreamHeader(modality="pointcloud", codec="spin", coder_id=s.header.coder_id,
                          params={**s.header.params, "offset": 0.01}, model=s.header.model,
                          weights_sha256=s.header.weights_sha256)
    with pytest.raises(CorruptStreamError, match="offset"):
        omnicodec.decompress(pack(header, s.chunks))
