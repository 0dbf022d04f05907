"""Write small ONNX test fixtures (and JSON sidecars) into tests/fixtures/.

Usage:
    /usr/bin/python3 tools/make_fixtures.py [--out tests/fixtures]

Fixtures (opset 13, each < 50 KB):
  ops_gemm_matmul.onnx    hand-built with onnx.helper: Flatten, Gemm, Relu, Identity,
                          Dropout, Reshape, Constant, MatMul, Add, Softmax
  ops_conv_variants.onnx  exported from torch: strided/padded/dilated Conv, grouped and
                          depthwise Conv, BatchNormalization (non-trivial stats), Clip,
                          AveragePool, MaxPool, residual Add, GlobalAveragePool, Gemm
  bad_unsupported_op.onnx valid model with a Sigmoid node "my_sigmoid"
  bad_truncated.onnx      first 100 bytes of ops_gemm_matmul.onnx
  bad_not_onnx.onnx       a text file
  bad_input_shape.onnx    valid model whose input is [1,3,32,32]

Sidecar <name>.json (for every fixture that is a valid model):
  {"input_shape": [...], "input": [flat floats], "expected": [flat floats],
   "expected_pre_softmax": [...] (ops_gemm_matmul only), "description": "..."}
Expected values are float32 results computed with numpy or PyTorch.
"""
import argparse
import gzip
import json
import os
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import TensorProto, helper, numpy_helper

SEED = 1234
OPSET = 13
TEST_IMAGES = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"


def fmnist_test_image(index):
    """Test image `index` as float32 pixel/255, shape [1,1,28,28]."""
    with gzip.open(TEST_IMAGES, "rb") as f:
        data = f.read()
    off = 16 + index * 784
    img = np.frombuffer(data[off:off + 784], dtype=np.uint8).astype(np.float32) / 255.0
    return img.reshape(1, 1, 28, 28)


def flat(a):
    return [float(v) for v in np.asarray(a, dtype=np.float32).ravel()]


def write_sidecar(out, name, x, expected, description, **extra):
    doc = {"description": description, "input_shape": list(x.shape), "input": flat(x),
           "expected": flat(expected)}
    doc.update({k: flat(v) for k, v in extra.items()})
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(doc, f)
        f.write("\n")


def save_model(model, path):
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)


def make_model(nodes, name, inp, out, inits):
    graph = helper.make_graph(nodes, name, [inp], [out], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="ftdla-make_fixtures")
    model.ir_version = 7  # readable by onnx >= 1.7 / onnxruntime
    return model


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


# ---------------------------------------------------------------- hand-built graphs
def gemm_matmul(out, rng):
    hidden = 12
    w1 = (rng.standard_normal((hidden, 784)) / np.sqrt(784 / 4)).astype(np.float32)  # transB=1
    b1 = (rng.standard_normal(hidden) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((hidden, 10)) * 3 / np.sqrt(hidden)).astype(np.float32)
    b2 = (rng.standard_normal(10) * 0.1).astype(np.float32)
    nodes = [
        helper.make_node("Flatten", ["input"], ["flat"], name="flatten", axis=1),
        helper.make_node("Constant", [], ["fc1_bias"], name="fc1_bias_const",
                         value=numpy_helper.from_array(b1, "fc1_bias_value")),
        helper.make_node("Gemm", ["flat", "fc1_weight", "fc1_bias"], ["fc1"], name="fc1",
                         transB=1, alpha=1.0, beta=1.0),
        helper.make_node("Relu", ["fc1"], ["relu1"], name="relu1"),
        helper.make_node("Identity", ["relu1"], ["ident"], name="identity"),
        helper.make_node("Dropout", ["ident"], ["drop"], name="dropout"),
        helper.make_node("Reshape", ["drop", "reshape_shape"], ["reshaped"], name="reshape"),
        helper.make_node("MatMul", ["reshaped", "fc2_weight"], ["mm"], name="fc2_matmul"),
        helper.make_node("Add", ["mm", "fc2_bias"], ["pre_softmax"], name="fc2_add"),
        helper.make_node("Softmax", ["pre_softmax"], ["probs"], name="softmax", axis=1),
    ]
    inits = [init("fc1_weight", w1), init("reshape_shape", np.array([1, -1], np.int64)),
             init("fc2_weight", w2), init("fc2_bias", b2)]
    model = make_model(
        nodes, "ops_gemm_matmul",
        helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 28, 28]),
        helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, 10]), inits)
    path = os.path.join(out, "ops_gemm_matmul.onnx")
    save_model(model, path)

    x = fmnist_test_image(0)
    h = np.maximum(x.reshape(1, -1) @ w1.T + b1, np.float32(0))
    z = (h.reshape(1, -1) @ w2 + b2).astype(np.float32)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    probs = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    write_sidecar(out, "ops_gemm_matmul", x, probs,
                  "Fashion-MNIST test image 0 /255; expected = softmax output",
                  expected_pre_softmax=z)
    return path


def unsupported_op(out, rng):
    w = (rng.standard_normal((10, 784)) / np.sqrt(784 / 4)).astype(np.float32)
    b = (rng.standard_normal(10) * 0.1).astype(np.float32)
    nodes = [
        helper.make_node("Flatten", ["input"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc_weight", "fc_bias"], ["fc"], name="fc", transB=1),
        helper.make_node("Sigmoid", ["fc"], ["output"], name="my_sigmoid"),
    ]
    model = make_model(
        nodes, "bad_unsupported_op",
        helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 28, 28]),
        helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 10]),
        [init("fc_weight", w), init("fc_bias", b)])
    save_model(model, os.path.join(out, "bad_unsupported_op.onnx"))
    x = fmnist_test_image(1)
    z = x.reshape(1, -1) @ w.T + b
    write_sidecar(out, "bad_unsupported_op", x, (1 / (1 + np.exp(-z))).astype(np.float32),
                  "valid ONNX, but Sigmoid (node 'my_sigmoid') is not supported; "
                  "expected = sigmoid output, for reference")


# ---------------------------------------------------------------- torch-exported graphs
def export_torch(module, x, path):
    module.eval()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="It is recommended that constant folding")
        # PRESERVE + eval(): BatchNormalization stays a separate (inference-form) node.
        torch.onnx.export(module, torch.from_numpy(x), path, opset_version=OPSET,
                          input_names=["input"], output_names=["logits"],
                          training=torch.onnx.TrainingMode.PRESERVE,
                          do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


class ConvVariants(nn.Module):
    def __init__(self):
        super().__init__()
        # 28 -> 13: stride 2, padding 1, dilation 2
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1, dilation=2),
                                  nn.BatchNorm2d(8), nn.ReLU())
        self.grouped = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=2, bias=False),
                                     nn.BatchNorm2d(8), nn.ReLU6())
        self.depthwise = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=8),
                                       nn.BatchNorm2d(8))
        self.avgpool = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)  # 13 -> 7
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)                           # 7 -> 4
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))

    def forward(self, x):
        x = self.stem(x)
        x = self.grouped(x)
        x = torch.clamp(x + self.depthwise(x), 0.0, 6.0)  # residual Add + Clip
        return self.head(self.maxpool(self.avgpool(x)))


def conv_variants(out):
    torch.manual_seed(SEED)
    m = ConvVariants()
    with torch.no_grad():
        for bn in m.modules():
            if isinstance(bn, nn.BatchNorm2d):
                bn.weight.uniform_(0.5, 1.5)
                bn.bias.uniform_(-0.5, 0.5)
                bn.running_mean.uniform_(-0.5, 0.5)
                bn.running_var.uniform_(0.25, 2.0)
    x = fmnist_test_image(2)
    path = os.path.join(out, "ops_conv_variants.onnx")
    y = export_torch(m, x, path)
    ops = {n.op_type for n in onnx.load(path).graph.node}
    assert "BatchNormalization" in ops, ops
    write_sidecar(out, "ops_conv_variants", x, y,
                  "Fashion-MNIST test image 2 /255; expected = PyTorch eval-mode logits")


def input_shape(out):
    torch.manual_seed(SEED + 1)
    m = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                      nn.Flatten(), nn.Linear(4, 10))
    # multiples of 1/256 in [0,1): exact in float32 and short in JSON
    x = (np.random.default_rng(SEED + 1).integers(0, 256, (1, 3, 32, 32)) / 256).astype(np.float32)
    y = export_torch(m, x, os.path.join(out, "bad_input_shape.onnx"))
    write_sidecar(out, "bad_input_shape", x, y,
                  "valid ONNX with input [1,3,32,32] (not Fashion-MNIST); seeded random input k/256")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="tests/fixtures")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(SEED)

    gemm_path = gemm_matmul(args.out, rng)
    unsupported_op(args.out, rng)
    conv_variants(args.out)
    input_shape(args.out)
    with open(gemm_path, "rb") as f:
        head = f.read(100)
    with open(os.path.join(args.out, "bad_truncated.onnx"), "wb") as f:
        f.write(head)
    with open(os.path.join(args.out, "bad_not_onnx.onnx"), "w") as f:
        f.write("this is not an onnx model\n")

    for name in sorted(os.listdir(args.out)):
        path = os.path.join(args.out, name)
        print(f"{os.path.getsize(path):8d}  {path}")


if __name__ == "__main__":
    main()
