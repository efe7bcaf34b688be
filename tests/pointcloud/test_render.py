"""render_points / view_rotation: hand-made clouds with exact pixels, the z-buffer, framing and argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from omnicodec.errors import InputError
from omnicodec.pointcloud.render import FRAMES, render_points, view_rotation

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


@pytest.mark.parametrize("frame", sorted(FRAMES))
@pytest.mark.parametrize("view", [(0, 0), (30, 20), (-120, -45), (0, 90), (200, -90)])
def test_view_rotation_is_a_right_handed_rotation(frame, view):
    r = view_rotation(*view, frame=frame)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(np.cross(r[0], r[1]), r[2], atol=1e-12)


def test_named_views():
    np.testing.assert_allclose(view_rotation(0, 0, frame="camera"), np.eye(3), atol=1e-12)  # as the sensor saw it
    top = view_rotation(0, 90, frame="z-up")  # looking down: x right, y up in the image, depth -z
    np.testing.assert_allclose(top, [[1, 0, 0], [0, -1, 0], [0, 0, -1]], atol=1e-12)
    side = view_rotation(90, 0, frame="camera")  # moved 90 degrees to its right: looks along -x
    np.testing.assert_allclose(side[2], [-1, 0, 0], atol=1e-12)
    above = view_rotation(0, 90, frame="camera")  # raised above the scene: looks along +y (down)
    np.testing.assert_allclose(above[2], [0, 1, 0], atol=1e-12)


def test_points_land_on_their_pixels_camera_frame():
    # a 3 x 3 grid of points in the z = 1 plane, x right and y down; framed with no margin on a 3 x 3 image
    xs, ys = np.meshgrid(np.arange(3.0), np.arange(3.0))
    pos = np.stack([xs.ravel() + 0.5, ys.ravel() + 0.5, np.ones(9)], axis=1)
    grey = np.arange(9, dtype=np.uint8) * 20 + 10
    img = render_points(pos, grey, size=(3, 3), bounds=((0, 0, 0), (3, 3, 2)), margin=0.0)
    assert img.shape == (3, 3, 3) and img.dtype == np.uint8
    np.testing.assert_array_equal(img[..., 0], grey.reshape(3, 3))  # row = y, column = x
    np.testing.assert_array_equal(img[..., 0], img[..., 2])


def test_top_view_z_up_and_background():
    # z-up world seen from above: +x to the right, +y up in the image; two points, the rest background
    pos = np.array([[0.5, 0.5, 0.0], [1.5, 1.5, 0.0]])
    img = render_points(pos, np.array([RED, GREEN], np.uint8), view=(0, 90), frame="z-up", size=(2, 2),
                        bounds=((0, 0, 0), (2, 2, 0)), margin=0.0, background=(1, 2, 3))
    assert img[1, 0].tolist() == list(RED)  # (x, y) = (0.5, 0.5): left, bottom
    assert img[0, 1].tolist() == list(GREEN)  # (1.5, 1.5): right, top
    assert img[0, 0].tolist() == [1, 2, 3] and img[1, 1].tolist() == [1, 2, 3]


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0], [1, 2, 0]])
def test_nearest_point_wins(order):
    # three points on one pixel's line of sight at depths 3, 1, 2: the one at depth 1 is drawn, whatever the order
    pos = np.array([[0.5, 0.5, 3.0], [0.5, 0.5, 1.0], [0.5, 0.5, 2.0]])[order]
    rgb = np.array([RED, GREEN, BLUE], np.uint8)[order]
    img = render_points(pos, rgb, size=(1, 1), bounds=((0, 0, 0), (1, 1, 4)), margin=0.0)
    assert img[0, 0].tolist() == list(GREEN)
    # seen from behind (azimuth 180), the farthest one (depth 3) is the nearest
    img = render_points(pos, rgb, view=(180, 0), size=(1, 1), bounds=((0, 0, 0), (1, 1, 4)), margin=0.0)
    assert img[0, 0].tolist() == list(RED)


def test_point_size_splats_a_square():
    pos = np.array([[2.5, 2.5, 0.0]])
    img = render_points(pos, np.array([BLUE], np.uint8), size=(5, 5), bounds=((0, 0, 0), (5, 5, 0)), margin=0.0,
                        point_size=3)
    drawn = (img != 255).any(axis=2)
    expected = np.zeros((5, 5), bool)
    expected[1:4, 1:4] = True
    np.testing.assert_array_equal(drawn, expected)


def test_same_bounds_line_up_and_outside_points_are_dropped():
    rng = np.random.default_rng(5)
    pos = rng.uniform(-1, 1, (500, 3))
    rgb = rng.integers(0, 256, (500, 3), dtype=np.uint8)
    bounds = (np.full(3, -1.0), np.full(3, 1.0))
    a = render_points(pos, rgb, view=(30, 20), size=64, bounds=bounds)
    extra = np.vstack([pos, [[5.0, 5.0, 5.0]]])  # outside the box: not drawn, not framed
    b = render_points(extra, np.vstack([rgb, [[0, 0, 0]]]), view=(30, 20), size=64, bounds=bounds)
    np.testing.assert_array_equal(a, b)
    assert render_points(pos[:250], rgb[:250], view=(30, 20), size=64, bounds=bounds).shape == a.shape


def test_size_from_aspect_ratio_and_float_colours_and_nan_points():
    pos = np.array([[0.0, 0.0, 0.0], [4.0, 1.0, 0.0], [np.nan, 0.0, 0.0]])
    img = render_points(pos, np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]), size=200)
    assert img.shape == (50, 200, 3)
    colours = {tuple(c) for c in img.reshape(-1, 3).tolist()}
    assert colours == {(255, 255, 255), RED, BLUE}  # the NaN point (green) is skipped


def test_points_on_the_far_edges_are_drawn():
    pos = np.array([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [2.0, 2.0, 0.0]])
    img = render_points(pos, np.full((4, 3), 9, np.uint8), size=(2, 2), margin=0.0)
    assert (img == 9).all()


def test_empty_selection_gives_background():
    img = render_points(np.zeros((0, 3)), np.zeros((0, 3), np.uint8), size=(4, 6), bounds=((0, 0, 0), (1, 1, 1)),
                        background=7)
    assert img.shape == (4, 6, 3) and (img == 7).all()


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(positions=np.zeros((3, 2))),
        dict(colours=np.zeros((2, 3), np.uint8)),
        dict(colours=np.zeros((3, 4), np.uint8)),
        dict(colours=np.array(["a", "b", "c"])),
        dict(view=(0, 100)),
        dict(view="top"),
        dict(view=np.ones((3, 3))),
        dict(frame="y-up"),
        dict(point_size=0),
        dict(margin=0.6),
        dict(bounds=((1, 1, 1), (0, 0, 0))),
        dict(size=(0, 4)),
    ],
)
def test_bad_arguments(kwargs):
    args = dict(positions=np.zeros((3, 3)), colours=np.zeros((3, 3), np.uint8))
    args.update(kwargs)
    with pytest.raises(InputError):
        render_points(args.pop("positions"), args.pop("colours"), **args)


def test_no_finite_point_without_bounds():
    with pytest.raises(InputError):
        render_points(np.full((2, 3), np.nan), np.zeros((2, 3), np.uint8))
