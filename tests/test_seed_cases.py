"""Every figure in ../shared/reference/seed-cases.md (the seed teaching documents), exact."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tests.conftest import SPECS, run_file, run_text


def table(report):
    return [(row.output_shape, row.params) for row in report.rows]


# -- 000: the Keras MNIST CNN whose model.summary() the tutorial prints ----------------------------

def test_mnist_cnn_summary_rows_and_total():
    report = run_file("mnist_cnn.yaml")
    assert [row.name for row in report.rows] == [
        "conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "conv2d_2", "flatten", "dense", "dense_1"]
    assert table(report) == [
        ((None, 26, 26, 32), 320), ((None, 13, 13, 32), 0), ((None, 11, 11, 64), 18_496),
        ((None, 5, 5, 64), 0), ((None, 3, 3, 64), 36_928), ((None, 576), 0), ((None, 64), 36_928),
        ((None, 10), 650)]
    # The document's closing sentence says 99,322: a typo for its own table's 93,322.
    assert report.total_params == report.trainable_params == 93_322
    assert report.non_trainable_params == 0


# -- 001: LeNet-5 lecture slides ---------------------------------------------------------------------

def test_lenet5_layer_table():
    report = run_file("lenet5.yaml")
    assert report.input_values == 1_024
    assert [(row.output_shape, row.activations, row.params) for row in report.rows] == [
        ((None, 28, 28, 6), 4_704, 156),        # (5x5x1) x 6 + 6
        ((None, 14, 14, 6), 1_176, 0),
        ((None, 10, 10, 16), 1_600, 2_416),     # (5x5x6) x 16 + 16 (the slide's "f=2, s=2" is a typo)
        ((None, 5, 5, 16), 400, 0),
        ((None, 400), 400, 0),
        ((None, 120), 120, 48_120),             # (5x5x16) x 120 + 120
        ((None, 84), 84, 10_164),               # 120 x 84 + 84
        ((None, 10), 10, 850),                  # 84 x 10 + 10
    ]
    assert report.total_params == 61_706


def test_lenet5_keras_version_with_same_padding_on_28x28():
    report = run_text("""
input: [28, 28, 1]
layers:
  - Conv2D: {filters: 6, kernel_size: 5, padding: same, activation: tanh}
  - AveragePooling2D: 2
  - Conv2D: {filters: 16, kernel_size: 5, activation: tanh}
  - AveragePooling2D: 2
  - Flatten
  - Dense: 120
  - Dense: 84
  - Dense: {units: 10, activation: softmax}
""")
    assert report.rows[0].output_shape == (None, 28, 28, 6)
    assert report.total_params == 61_706


def test_lenet5_on_rgb_exercise():
    report = run_file("lenet5_rgb.yaml")
    assert report.rows[0].params == 456
    assert report.total_params == 62_006


def test_worked_conv_examples_39x39x3():
    report = run_text("""
input: [39, 39, 3]
layers:
  - Conv2D: {filters: 10, kernel_size: 3, strides: 1, padding: 0}
  - Conv2D: {filters: 20, kernel_size: 5, strides: 2}
""")
    assert table(report) == [((None, 37, 37, 10), 280), ((None, 17, 17, 20), 5_020)]


def test_pooling_4x4_f2_s2():
    report = run_text("input: [4, 4, 1]\nlayers: [{MaxPooling2D: {pool_size: 2, strides: 2}}]")
    assert report.rows[0].output_shape == (None, 2, 2, 1)
    assert report.rows[0].derivations[0].q.render() == "(4 - 2 + 0)/2 + 1"


# -- 002: basic CNN tutorial ---------------------------------------------------------------------------

def test_4x4_image_with_3x3_filter_gives_2x2():
    report = run_text("input: [4, 4, 1]\nlayers: [{Conv2D: {filters: 1, kernel_size: 3}}]")
    assert report.rows[0].output_shape == (None, 2, 2, 1)


def test_basic_cnn():
    report = run_file("basic_cnn.yaml")
    assert table(report) == [((None, 26, 26, 8), 72), ((None, 13, 13, 8), 0), ((None, 1_352), 0),
                             ((None, 10), 13_530)]
    assert report.total_params == 13_602


# -- 003: AlexNet as written in PyTorch in the paper review -----------------------------------------

def test_alexnet_227_layers_params_and_macs():
    report = run_file("alexnet.yaml")
    weighted = [(row.output_shape, row.params) for row in report.rows if row.type in ("Conv2d", "Linear")]
    assert weighted == [
        ((None, 96, 55, 55), 34_944), ((None, 256, 27, 27), 307_456), ((None, 384, 13, 13), 885_120),
        ((None, 384, 13, 13), 663_936), ((None, 256, 13, 13), 442_624), ((None, 4096), 37_752_832),
        ((None, 4096), 16_781_312), ((None, 1000), 4_097_000)]
    pools = [row.output_shape for row in report.rows if row.type == "MaxPool2d"]
    assert pools == [(None, 96, 27, 27), (None, 256, 13, 13), (None, 256, 6, 6)]
    assert report.total_params == 60_965_224
    assert report.total_macs == 724_406_816
    assert report.warnings == ()


def test_alexnet_224_floors_and_warns():
    text = (SPECS / "alexnet.yaml").read_text().replace("[3, 227, 227]", "[3, 224, 224]")
    text = text.replace("in_features: 9216, ", "")
    report = run_text(text)
    assert report.rows[0].output_shape == (None, 96, 54, 54)
    assert report.rows[14].output_shape == (None, 256, 5, 5)
    first = report.warnings[0]
    assert first.layer == "conv2d"
    assert "(224 - 11 + 0)/4 + 1 = 54.25" in first.message and "floored to 54" in first.message


# -- 004: MobileNet and depthwise-separable convolution -----------------------------------------------

@pytest.mark.parametrize("n, m, k, d", [(32, 64, 3, 112), (64, 128, 3, 56), (512, 512, 3, 14), (16, 24, 5, 9)])
def test_separable_vs_standard_multiplications(n, m, k, d):
    spec = f"input: [{d}, {d}, {n}]\nlayers: [{{{{kind}}: {{filters: {m}, kernel_size: {k}, padding: same}}}}]"
    standard = run_text(spec.replace("{kind}", "Conv2D")).total_macs
    separable = run_text(spec.replace("{kind}", "SeparableConv2D")).total_macs
    assert standard == m * d**2 * k**2 * n
    assert separable == k**2 * d**2 * n + d**2 * m * n == n * d**2 * (m + k**2)
    assert Fraction(separable, standard) == Fraction(1, m) + Fraction(1, k**2)


def test_seed_ratio_m64_k3():
    ratio = Fraction(1, 64) + Fraction(1, 9)
    assert round(float(ratio), 4) == 0.1267
    assert round(1 / float(ratio)) == 8


def test_mobilenet_paper_totals_and_1x1_share():
    report = run_file("mobilenet_v1.yaml")
    assert round(report.total_macs / 1e6) == 569  # the paper's 569 million mult-adds
    # The paper's 4.2M parameters fold BatchNorm into the convolutions.
    weights = sum(row.params for row in report.rows if row.type != "BatchNormalization")
    assert round(weights / 1e6, 1) == 4.2
    # The seed: about 95% of the multiplications (Table 2 of the paper: 94.86% of mult-adds) and
    # about 75% of the parameters sit in the 1x1 convolutions.
    pointwise = [row for row in report.rows if row.name.startswith("conv_pw_")]
    assert round(100 * sum(r.macs for r in pointwise) / report.total_macs, 2) == 94.86
    assert round(100 * sum(r.params for r in pointwise) / weights) == 75
