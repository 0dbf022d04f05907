"""Write pre-quantized (8-bit) versions of shipped models: the test fixtures of ftdla's QDQ import.

Usage:
    /usr/bin/python3 tools/make_qdq_models.py [--out tests/fixtures/qdq] [--calib-images 512]
    node bench/ort/qdq_reference.js tests/fixtures/qdq      # then: ONNX Runtime's outputs for the test

It does what ONNX Runtime's static quantizer (quantize_static, MinMax calibration) does, written out
here because that quantizer is a Python package Debian does not ship:
  * activations: uint8, asymmetric, per tensor: rmin = min(min, 0), rmax = max(max, 0) over the first
    --calib-images training images, scale = (rmax - rmin) / 255, zero point = round(-rmin / scale);
  * weights: int8, symmetric, per output channel: scale = 2 * max|w| / 255, q = clip(round(w / scale),
    -128, 127) (ties to even, so -128 occurs);
  * biases: int32 with scale = input scale * weight scale (float32), zero point 0;
  * BatchNormalization is folded into its Conv first; pooling and Flatten keep their input's scale.

Models written (each with a <name>.json sidecar: source, form, output scale and zero point):
  lenet5_qdq.onnx  QDQ form, activations kept as ops: Conv -> Relu -> QuantizeLinear -> DequantizeLinear
  dwcnn_qdq.onnx   QDQ form with depthwise convolutions, activations folded into the output quantization
                   (Conv -> QuantizeLinear with the Relu/Clip output's range, as ORT's quantizer removes
                   activations the saturation already performs)
  lenet5_qop.onnx  QOperator form: QuantizeLinear, QLinearConv (the fully connected layers as 1x1
                   QLinearConv after a Reshape: QLinearMatMul has no bias), uint8 MaxPool, DequantizeLinear

Inputs are NCHW float32 pixel/255 (as the shipped models). Deterministic: no randomness.
"""
import argparse
import gzip
import json
import os

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

DATA_DIR = "/usr/share/datasets/fashion-mnist"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_images(split, count):
    name = "train-images-idx3-ubyte.gz" if split == "train" else "t10k-images-idx3-ubyte.gz"
    with gzip.open(os.path.join(DATA_DIR, name), "rb") as f:
        data = f.read()
    n = int.from_bytes(data[4:8], "big")
    x = np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, 1, 28, 28)[:count]
    return (x.astype(np.float32) / np.float32(255.0)).astype(np.float32)


def attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def simplify(model):
    """Sequential layer list of a shipped float model: BN folded, Constant Clip bounds resolved."""
    inits = {t.name: numpy_helper.to_array(t).astype(np.float32) for t in model.graph.initializer}
    consts, layers, alias = {}, [], {}
    name_of = lambda t: alias.get(t, t)
    for node in model.graph.node:
        a = attrs(node)
        ins = [name_of(i) for i in node.input]
        if node.op_type == "Constant":
            consts[node.output[0]] = numpy_helper.to_array(a["value"]).astype(np.float32)
        elif node.op_type == "BatchNormalization":
            conv = layers[-1]
            assert conv["op"] == "Conv" and conv["out"] == ins[0]
            g, b, mean, var = (inits[i] for i in node.input[1:5])
            f = g / np.sqrt(var + a.get("epsilon", 1e-5))
            conv["w"] = (conv["w"] * f[:, None, None, None]).astype(np.float32)
            conv["b"] = ((conv["b"] - mean) * f + b).astype(np.float32)
            alias[node.output[0]] = conv["out"]
        else:
            layer = {"op": node.op_type, "in": ins[0], "out": node.output[0], "attrs": a}
            if node.op_type in ("Conv", "Gemm"):
                layer["w"] = inits[node.input[1]]
                k = layer["w"].shape[0]
                layer["b"] = inits[node.input[2]] if len(node.input) > 2 else np.zeros(k, np.float32)
            if node.op_type == "Clip":
                layer["lo"], layer["hi"] = float(consts[node.input[1]]), float(consts[node.input[2]])
            layers.append(layer)
    return layers


def forward(layers, x):
    """Float forward pass (torch); returns every tensor by name."""
    t = {"input": torch.from_numpy(x)}
    for L in layers:
        v, a = t[L["in"]], L["attrs"]
        op = L["op"]
        if op == "Conv":
            p = a.get("pads", [0, 0, 0, 0])
            assert p[0] == p[2] and p[1] == p[3]
            y = F.conv2d(v, torch.from_numpy(L["w"]), torch.from_numpy(L["b"]), stride=a.get("strides", [1, 1]),
                         padding=(p[0], p[1]), dilation=a.get("dilations", [1, 1]), groups=a.get("group", 1))
        elif op == "Gemm":
            y = v @ torch.from_numpy(L["w"]).T + torch.from_numpy(L["b"])
        elif op == "Relu":
            y = torch.relu(v)
        elif op == "Clip":
            y = torch.clamp(v, L["lo"], L["hi"])
        elif op == "MaxPool":
            y = F.max_pool2d(v, a["kernel_shape"], a["strides"])
        elif op == "AveragePool":
            y = F.avg_pool2d(v, a["kernel_shape"], a["strides"])
        elif op == "GlobalAveragePool":
            y = v.mean(dim=(2, 3), keepdim=True)
        elif op == "Flatten":
            y = v.reshape(v.shape[0], -1)
        else:
            raise SystemExit(f"make_qdq_models: op {op} not handled")
        t[L["out"]] = y
    return t


def act_params(lo, hi):
    """uint8 asymmetric (ORT's QUInt8 MinMax): scale float32, zero point uint8."""
    rmin, rmax = min(lo, 0.0), max(hi, 0.0)
    scale = np.float32((rmax - rmin) / 255.0) if rmax > rmin else np.float32(1.0)
    zp = int(np.clip(np.round(-rmin / float(scale)), 0, 255))
    return scale, zp


def weight_params(w):
    """int8 symmetric per output channel: scales float32 [K], integers int8."""
    k = w.shape[0]
    amax = np.abs(w.reshape(k, -1)).max(axis=1)
    scale = np.where(amax > 0, 2.0 * amax / 255.0, 1.0).astype(np.float32)
    shape = (k,) + (1,) * (w.ndim - 1)
    q = np.clip(np.round(w / scale.reshape(shape)), -128, 127).astype(np.int8)
    return scale, q


def calibrate(layers, images):
    ranges = {}
    for i in range(0, len(images), 128):
        for name, v in forward(layers, images[i:i + 128]).items():
            lo, hi = float(v.min()), float(v.max())
            old = ranges.get(name, (lo, hi))
            ranges[name] = (min(old[0], lo), max(old[1], hi))
    return ranges


class Builder:
    def __init__(self):
        self.nodes, self.inits = [], []

    def init(self, name, array):
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def node(self, op, ins, out, **kw):
        self.nodes.append(helper.make_node(op, ins, [out], name=out + "_node", **kw))
        return out

    def qparams(self, tensor, scale, zp):
        return (self.init(tensor + "_scale", np.array(scale, np.float32)),
                self.init(tensor + "_zp", np.array(zp, np.uint8)))

    def qdq(self, tensor, scale, zp):
        s, z = self.qparams(tensor, scale, zp)
        q = self.node("QuantizeLinear", [tensor, s, z], tensor + "_q")
        return self.node("DequantizeLinear", [q, s, z], tensor + "_dq")

    def dq_weight(self, name, scale, q):
        s = self.init(name + "_scale", scale)
        z = self.init(name + "_zp", np.zeros(scale.shape, np.int8))
        qi = self.init(name + "_q", q)
        return self.node("DequantizeLinear", [qi, s, z], name + "_dq", axis=0)

    def dq_bias(self, name, bias_scale, bq):
        s = self.init(name + "_scale", bias_scale)
        z = self.init(name + "_zp", np.zeros(bias_scale.shape, np.int32))
        qi = self.init(name + "_q", bq)
        return self.node("DequantizeLinear", [qi, s, z], name + "_dq", axis=0)

    def model(self, name, output):
        inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 28, 28])
        out = helper.make_tensor_value_info(output, TensorProto.FLOAT, ["N", 10])
        graph = helper.make_graph(self.nodes, name, [inp], [out], self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="ftdla tools/make_qdq_models.py")
        m.ir_version = 7
        onnx.checker.check_model(m)
        return m


def layer_scales(layers, ranges, fold_activations):
    """Quantization (scale, zp) of every quantized tensor, and which tensor quantizes each layer's output."""
    params = {"input": act_params(*ranges["input"])}
    for i, L in enumerate(layers):
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if L["op"] in ("Conv", "Gemm"):
            follows = nxt is not None and nxt["op"] in ("Relu", "Clip")
            # Quantized where the activation ends (its output range), whether the activation stays an op or not.
            params[L["out"]] = act_params(*ranges[nxt["out"] if follows else L["out"]])
            if follows:
                params[nxt["out"]] = params[L["out"]]
        elif L["op"] in ("MaxPool", "AveragePool", "GlobalAveragePool", "Flatten"):
            params[L["out"]] = params[L["in"]]
    return params


def bias_ints(L, s_in, w_scale):
    bias_scale = (np.float32(s_in) * w_scale).astype(np.float32)
    bq = np.round(L["b"].astype(np.float64) / bias_scale.astype(np.float64)).astype(np.int32)
    return bias_scale, bq


def build_qdq(layers, params, fold_activations, name):
    b = Builder()
    cur = b.qdq("input", *params["input"])
    real = {"input": cur}  # tensor name in the float model -> its dequantized name here
    skip = set()
    for i, L in enumerate(layers):
        if i in skip:
            continue
        x = real[L["in"]]
        s_in = params[L["in"]][0]
        if L["op"] in ("Conv", "Gemm"):
            w_scale, wq = weight_params(L["w"])
            w = b.dq_weight(L["out"] + "_w", w_scale, wq)
            bs, bq = bias_ints(L, s_in, w_scale)
            bias = b.dq_bias(L["out"] + "_b", bs, bq)
            if L["op"] == "Conv":
                a = L["attrs"]
                y = b.node("Conv", [x, w, bias], L["out"], strides=a.get("strides", [1, 1]), pads=a.get("pads", [0, 0, 0, 0]),
                           dilations=a.get("dilations", [1, 1]), group=a.get("group", 1), kernel_shape=list(L["w"].shape[2:]))
            else:
                y = b.node("Gemm", [x, w, bias], L["out"], transB=1)
            nxt = layers[i + 1] if i + 1 < len(layers) else None
            if nxt is not None and nxt["op"] in ("Relu", "Clip"):
                if fold_activations:
                    real[nxt["out"]] = b.qdq(y, *params[L["out"]])
                else:
                    if nxt["op"] == "Relu":
                        act = b.node("Relu", [y], nxt["out"])
                    else:
                        lo = b.init(nxt["out"] + "_lo", np.array(nxt["lo"], np.float32))
                        hi = b.init(nxt["out"] + "_hi", np.array(nxt["hi"], np.float32))
                        act = b.node("Clip", [y, lo, hi], nxt["out"])
                    real[nxt["out"]] = b.qdq(act, *params[nxt["out"]])
                skip.add(i + 1)
            else:
                real[L["out"]] = b.qdq(y, *params[L["out"]])
        elif L["op"] in ("MaxPool", "AveragePool"):
            a = L["attrs"]
            y = b.node(L["op"], [x], L["out"], kernel_shape=a["kernel_shape"], strides=a["strides"])
            real[L["out"]] = b.qdq(y, *params[L["out"]])
        elif L["op"] == "GlobalAveragePool":
            real[L["out"]] = b.qdq(b.node("GlobalAveragePool", [x], L["out"]), *params[L["out"]])
        elif L["op"] == "Flatten":
            real[L["out"]] = b.qdq(b.node("Flatten", [x], L["out"], axis=1), *params[L["out"]])
        else:
            raise SystemExit(f"make_qdq_models: {L['op']} not handled in QDQ form")
    logits = real[layers[-1]["out"]]
    out = b.node("Identity", [logits], "logits")
    return b.model(name, out)


def build_qop(layers, params, name):
    """LeNet-5 in QOperator form: integer tensors between ops, fully connected layers as 1x1 QLinearConv."""
    b = Builder()
    s, z = b.qparams("input", *params["input"])
    cur = b.node("QuantizeLinear", ["input", s, z], "input_q")
    cur_name = "input"
    i = 0
    while i < len(layers):
        L = layers[i]
        if L["op"] in ("Conv", "Gemm"):
            nxt = layers[i + 1] if i + 1 < len(layers) else None
            follows = nxt is not None and nxt["op"] == "Relu"
            w_scale, wq = weight_params(L["w"])
            bs, bq = bias_ints(L, params[cur_name][0], w_scale)
            if L["op"] == "Gemm":
                # [N, F] -> [N, F, 1, 1]: a Gemm is a 1x1 convolution with weight [out, in, 1, 1].
                shape = b.init(L["out"] + "_shape4", np.array([-1, wq.shape[1], 1, 1], np.int64))
                cur = b.node("Reshape", [cur, shape], L["out"] + "_in4")
                wq = wq.reshape(wq.shape[0], wq.shape[1], 1, 1)
                attrs_ = {}
            else:
                a = L["attrs"]
                attrs_ = dict(strides=a.get("strides", [1, 1]), pads=a.get("pads", [0, 0, 0, 0]),
                              dilations=a.get("dilations", [1, 1]), group=a.get("group", 1))
            xs, xz = b.init(L["out"] + "_xs", np.array(params[cur_name][0], np.float32)), \
                b.init(L["out"] + "_xz", np.array(params[cur_name][1], np.uint8))
            ws = b.init(L["out"] + "_ws", w_scale)
            wz = b.init(L["out"] + "_wz", np.array(0, np.int8))
            wi = b.init(L["out"] + "_wq", wq)
            ys, yz = b.init(L["out"] + "_ys", np.array(params[L["out"]][0], np.float32)), \
                b.init(L["out"] + "_yz", np.array(params[L["out"]][1], np.uint8))
            bi = b.init(L["out"] + "_bq", bq)
            # A following Relu is the output quantization's saturation (zero point 0): no op of its own.
            cur = b.node("QLinearConv", [cur, xs, xz, wi, ws, wz, ys, yz, bi], L["out"] + "_q", **attrs_)
            if L["op"] == "Gemm":
                shape = b.init(L["out"] + "_shape2", np.array([-1, wq.shape[0]], np.int64))
                cur = b.node("Reshape", [cur, shape], L["out"] + "_q2")
            cur_name = L["out"]
            i += 2 if follows else 1
            if follows:
                params[nxt["out"]] = params[L["out"]]
        elif L["op"] == "MaxPool":
            a = L["attrs"]
            cur = b.node("MaxPool", [cur], L["out"] + "_q", kernel_shape=a["kernel_shape"], strides=a["strides"])
            params[L["out"]] = params[cur_name]
            cur_name = L["out"]
            i += 1
        elif L["op"] == "Flatten":
            cur = b.node("Flatten", [cur], L["out"] + "_q", axis=1)
            params[L["out"]] = params[cur_name]
            cur_name = L["out"]
            i += 1
        else:
            raise SystemExit(f"make_qdq_models: {L['op']} not handled in QOperator form")
    s, z = b.qparams("logits", *params[cur_name])
    out = b.node("DequantizeLinear", [cur, s, z], "logits")
    return b.model(name, out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "tests/fixtures/qdq"))
    ap.add_argument("--calib-images", type=int, default=512)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    calib = load_images("train", args.calib_images)
    jobs = [("lenet5", "lenet5_qdq", "qdq", False), ("dwcnn", "dwcnn_qdq", "qdq", True), ("lenet5", "lenet5_qop", "qop", False)]
    for source, name, form, fold in jobs:
        layers = simplify(onnx.load(os.path.join(ROOT, "models", source + ".onnx")))
        layers[-1]["out"] = "last_gemm"  # the graph output is named "logits" below
        ranges = calibrate(layers, calib)
        params = layer_scales(layers, ranges, fold)
        model = build_qdq(layers, params, fold, name) if form == "qdq" else build_qop(layers, dict(params), name)
        path = os.path.join(args.out, name + ".onnx")
        onnx.save(model, path)
        out_scale, out_zp = params[layers[-1]["out"]]
        side = {"source": f"models/{source}.onnx", "form": form, "activations_folded": fold,
                "calib_images": args.calib_images, "output_scale": float(out_scale), "output_zero_point": int(out_zp),
                "input": "pixel/255 NCHW [N,1,28,28]", "command": "/usr/bin/python3 tools/make_qdq_models.py"}
        with open(os.path.join(args.out, name + ".json"), "w") as f:
            json.dump(side, f, indent=1)
        print(f"{path}: {os.path.getsize(path)} bytes, {len(model.graph.node)} nodes")


if __name__ == "__main__":
    main()
