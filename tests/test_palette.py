"""The cluster palette stays readable for red-green colour-blind readers, up to k = 12.

Each colour is simulated as a protanope and a deuteranope would see it (Machado, Oliveira and
Fernandes 2009, severity 1.0, applied in linear RGB), converted to CIELAB (D65) and compared
pairwise with CIEDE2000. Every pair of the first k colours, for every k up to 12, must stay
more than MIN_DELTA_E apart, for normal vision too.

Why 9: a CIEDE2000 difference near 2 is just noticeable between two large patches side by
side; the colours of a chart are small marks (bars, legend swatches, 15 px map bins), often
apart, and differences must be several times larger to tell them apart at a glance (Szafir,
"Modeling Color Difference for Visualization Design", IEEE VIS 2017, finds the needed
difference grows steeply as marks shrink). 9 is over four times the just-noticeable one; the
old tableau10 palette has pairs near 1 (red and green look the same olive to a deuteranope).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from spotclust.charts import theme

MIN_DELTA_E = 9.0
MAX_K = 12

# Machado et al. 2009, severity 1.0 (linear RGB in, linear RGB out)
PROTANOPIA = np.array(
    [
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ]
)
DEUTERANOPIA = np.array(
    [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ]
)
VISIONS = {"normal": np.eye(3), "protanopia": PROTANOPIA, "deuteranopia": DEUTERANOPIA}
# Vega's tableau10, the palette the charts used before (k <= 10)
TABLEAU10 = "4c78a8f58518e4575672b7b254a24beeca3bb279a2ff9da69d755dbab0ac"
TABLEAU10 = tuple("#" + TABLEAU10[i : i + 6] for i in range(0, 60, 6))


def linear_rgb(colour: str) -> np.ndarray:
    srgb = np.array([int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)])
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of a linear-RGB colour."""
    to_xyz = np.array(
        [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
         [0.0193339, 0.1191920, 0.9503041]]
    )  # fmt: skip
    xyz = to_xyz @ np.clip(rgb, 0, 1) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e_2000(lab1: np.ndarray, lab2: np.ndarray) -> float:
    """CIEDE2000 (Sharma, Wu and Dalal 2005)."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean**7 / (c_mean**7 + 25**7)))
    a1, a2 = (1 + g) * a1, (1 + g) * a2
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    h1, h2 = np.degrees(np.arctan2(b1, a1)) % 360, np.degrees(np.arctan2(b2, a2)) % 360
    dh = 0.0 if c1 * c2 == 0 else (h2 - h1 + 180) % 360 - 180
    d_hue = 2 * np.sqrt(c1 * c2) * np.sin(np.radians(dh / 2))
    l_mean, c_mean = (l1 + l2) / 2, (c1 + c2) / 2
    if c1 * c2 == 0:
        h_mean = h1 + h2
    elif abs(h1 - h2) <= 180:
        h_mean = (h1 + h2) / 2
    else:
        h_mean = (h1 + h2 + 360) / 2 if h1 + h2 < 360 else (h1 + h2 - 360) / 2
    t = (
        1
        - 0.17 * np.cos(np.radians(h_mean - 30))
        + 0.24 * np.cos(np.radians(2 * h_mean))
        + 0.32 * np.cos(np.radians(3 * h_mean + 6))
        - 0.20 * np.cos(np.radians(4 * h_mean - 63))
    )
    rotation = (
        -np.sin(np.radians(60 * np.exp(-(((h_mean - 275) / 25) ** 2))))
        * 2
        * np.sqrt(c_mean**7 / (c_mean**7 + 25**7))
    )
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c, s_h = 1 + 0.045 * c_mean, 1 + 0.015 * c_mean * t
    dl, dc, dh_ = (l2 - l1) / s_l, (c2 - c1) / s_c, d_hue / s_h
    return float(np.sqrt(dl**2 + dc**2 + dh_**2 + rotation * dc * dh_))


def closest_pair(palette, k: int) -> tuple[float, str, str, str]:
    """(smallest ΔE2000, vision, colour, colour) among the first k colours of palette."""
    pairs = []
    for vision, matrix in VISIONS.items():
        seen = {c: lab(matrix @ linear_rgb(c)) for c in palette[:k]}
        pairs += [
            (delta_e_2000(seen[a], seen[b]), vision, a, b)
            for a, b in itertools.combinations(palette[:k], 2)
        ]
    return min(pairs)


def test_delta_e_2000_matches_sharma_test_data():
    # pairs 1 and 17 of Sharma, Wu and Dalal's table
    assert delta_e_2000(np.array([50, 2.6772, -79.7751]), np.array([50, 0, -82.7485])) == (
        pytest.approx(2.0425, abs=1e-4)
    )
    assert delta_e_2000(
        np.array([22.7233, 20.0904, -46.694]), np.array([23.0331, 14.973, -42.5619])
    ) == (pytest.approx(2.0373, abs=1e-4))


@pytest.mark.parametrize("k", range(2, MAX_K + 1))
def test_cluster_colours_stay_apart_for_colour_blind_readers(k):
    palette = [theme.cluster_colour(i, k) for i in range(k)]
    distance, vision, a, b = closest_pair(palette, k)
    assert distance > MIN_DELTA_E, f"k={k}: {a} and {b} are {distance:.1f} apart ({vision})"


def test_the_old_palette_fails_the_same_check():
    distance, vision, a, b = closest_pair(TABLEAU10, 10)
    assert distance < MIN_DELTA_E / 4 and vision in {"protanopia", "deuteranopia"}


def test_every_chart_gets_cluster_i_the_colour_of_cluster_i():
    clusters = [theme.cluster_label(i, f"name {i}") for i in range(5)]
    scale = theme.cluster_color(clusters).to_dict()["scale"]
    assert scale["domain"] == clusters
    assert scale["range"] == [theme.cluster_colour(i, 5) for i in range(5)]
    assert theme.cluster_colour(3, 4) == theme.cluster_colour(3, 12)  # k does not reshuffle
