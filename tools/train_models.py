"""Train small CNNs on Fashion-MNIST and export them to ONNX plus reference data.

Usage:
    /usr/bin/python3 tools/train_models.py [--models lenet5,rescnn,dwcnn,resnet18w32] [--out models]
    /usr/bin/python3 tools/train_models.py --models resnet18w32   # (re)train only the ResNet-18

Writes models/<name>.onnx and models/<name>.json for each model. Inputs are NCHW
float32 pixel/255 in [0,1], shape [N,1,28,28] (dynamic batch N), with no mean/std
normalization. Training is deterministic (fixed torch seed, fixed data-order seed, a
fixed number of CPU threads per model: 1 for the small CNNs, 2 for ResNet-18; --threads
overrides it). The default --models list is every model; ResNet-18 alone takes about
half an hour on two cores.
"""
import argparse
import gzip
import json
import math
import os
import sys
import time
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA_DIR = "/usr/share/datasets/fashion-mnist"
SEED = 20240601


def load_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(split):
    x = load_idx(os.path.join(DATA_DIR, f"{split}-images-idx3-ubyte.gz"))
    y = load_idx(os.path.join(DATA_DIR, f"{split}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)  # [N,1,28,28]
    return x, torch.from_numpy(y.astype(np.int64))


# ---------------------------------------------------------------- models
class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def conv_bn(cin, cout, stride=1, groups=1, k=3):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout))


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = conv_bn(c, c)
        self.b = conv_bn(c, c)

    def forward(self, x):
        return F.relu(x + self.b(F.relu(self.a(x))))


class ResCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            conv_bn(1, 16), nn.ReLU(),
            ResBlock(16),
            conv_bn(16, 32, stride=2), nn.ReLU(),   # 28 -> 14
            ResBlock(32),
            nn.MaxPool2d(2),                          # 14 -> 7
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(32, 10))

    def forward(self, x):
        return self.net(x)


class DWCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            conv_bn(1, 16), nn.ReLU6(),
            conv_bn(16, 16, groups=16), nn.ReLU6(),   # depthwise
            conv_bn(16, 32, k=1), nn.ReLU(),          # pointwise
            nn.AvgPool2d(2, count_include_pad=False), # 28 -> 14 (no explicit Pad node)
            conv_bn(32, 32, groups=32), nn.ReLU6(),   # depthwise
            conv_bn(32, 64, k=1), nn.ReLU(),          # pointwise
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Dropout(0.2),
            nn.Linear(64, 10))

    def forward(self, x):
        return self.net(x)


class BasicBlock(nn.Module):
    """ResNet BasicBlock: conv3x3(stride)-BN-ReLU-conv3x3-BN + shortcut, then ReLU.
    The shortcut is a 1x1 conv(stride) + BN when the shape changes, else the identity."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.a = conv_bn(cin, cout, stride=stride)
        self.b = conv_bn(cout, cout)
        self.down = conv_bn(cin, cout, stride=stride, k=1) if stride != 1 or cin != cout else None

    def forward(self, x):
        sc = x if self.down is None else self.down(x)
        return F.relu(self.b(F.relu(self.a(x))) + sc)


class ResNet18(nn.Module):
    """ResNet-18 for 1x28x28 input: 3x3 stem (stride 1, no max-pool), four stages of two
    BasicBlocks (widths w, 2w, 4w, 8w; stride 2 at the first block of stages 2-4:
    28 -> 14 -> 7 -> 4), global average pool, Linear to 10 classes."""

    def __init__(self, w=32):
        super().__init__()
        layers = [conv_bn(1, w), nn.ReLU()]
        cin = w
        for i, c in enumerate([w, 2 * w, 4 * w, 8 * w]):
            layers += [BasicBlock(cin, c, 1 if i == 0 else 2), BasicBlock(c, c, 1)]
            cin = c
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 10)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


# name -> (constructor, epochs, peak lr, batch size, random crop?, CPU threads)
# (all models use random horizontal flips; the tiny ones skip the crop)
CONFIGS = {
    "lenet5": (LeNet5, 18, 3e-3, 128, True, 1),
    "rescnn": (ResCNN, 8, 1e-2, 128, False, 1),
    "dwcnn": (DWCNN, 10, 1e-2, 128, False, 1),
    # ~2.8 M parameters, ~114 M MACs per image: 1.5 epochs (703 steps) take ~30 min of 2 CPU cores.
    "resnet18w32": (lambda: ResNet18(32), 1.5, 3e-3, 128, False, 2),
}


# ---------------------------------------------------------------- training
def augment(x, gen, crop):
    """Random horizontal flip, optionally random crop (pad 2, per-sample shift)."""
    b = x.shape[0]
    flip = torch.rand(b, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    if not crop:
        return x
    xp = F.pad(x, (2, 2, 2, 2))
    oy = torch.randint(0, 5, (b,), generator=gen)
    ox = torch.randint(0, 5, (b,), generator=gen)
    ar = torch.arange(28)
    rows = (oy[:, None] + ar)[:, :, None]
    cols = (ox[:, None] + ar)[:, None, :]
    return xp[torch.arange(b)[:, None, None], 0, rows, cols].unsqueeze(1)


@torch.no_grad()
def predict(model, x, bs=1000):
    model.eval()
    return torch.cat([model(x[i:i + bs]) for i in range(0, len(x), bs)])


def train(name, model, epochs, lr, bs, crop, xtr, ytr, xte, yte):
    """`epochs` may be fractional: the last epoch then stops after its share of the batches
    (the one-cycle schedule spans exactly the steps taken)."""
    gen = torch.Generator().manual_seed(SEED + 1)  # data order + augmentation
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    per_epoch = (len(xtr) + bs - 1) // bs
    steps = round(epochs * per_epoch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.2)
    done = 0
    for ep in range(math.ceil(epochs)):
        model.train()
        t0 = time.time()
        perm = torch.randperm(len(xtr), generator=gen)
        tot_loss, seen = 0.0, 0
        for i in range(0, len(xtr), bs):
            if done == steps:
                break
            idx = perm[i:i + bs]
            xb = augment(xtr[idx], gen, crop)
            loss = F.cross_entropy(model(xb), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            done += 1
            tot_loss += loss.item() * len(idx)
            seen += len(idx)
            step = i // bs + 1
            if step % 100 == 0:
                print(f"[{name}]   step {step}: loss {loss.item():.4f} ({time.time() - t0:.0f}s)", flush=True)
        logits = predict(model, xte)
        acc = (logits.argmax(1) == yte).float().mean().item()
        print(f"[{name}] epoch {ep + 1}/{epochs:g} loss {tot_loss / seen:.4f} "
              f"test acc {acc:.4f} ({time.time() - t0:.1f}s)", flush=True)
    return logits  # of the trained model on the test set (eval mode)


# ---------------------------------------------------------------- export
def export(model, path):
    model.eval()
    # torch warns about constant folding with PRESERVE even when the model is in eval
    # mode; folding only touches constant subgraphs (Identity/Constant), never BN.
    warnings.filterwarnings("ignore", message="It is recommended that constant folding")
    torch.onnx.export(
        model, torch.zeros(1, 1, 28, 28), path, opset_version=13,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        # PRESERVE + eval() keeps BatchNormalization nodes (in inference form);
        # EVAL mode would fuse them into the preceding Conv.
        training=torch.onnx.TrainingMode.PRESERVE,
        do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    for n in m.graph.node:
        if n.op_type == "BatchNormalization" and len(n.output) != 1:
            raise RuntimeError(f"{path}: BatchNormalization {n.name} is in training form")
    return sorted({n.op_type for n in m.graph.node})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(CONFIGS))
    ap.add_argument("--out", default="models")
    ap.add_argument("--epochs", type=float, default=0, help="override epochs, may be fractional (0 = default)")
    ap.add_argument("--threads", type=int, default=0, help="override CPU threads (0 = per-model default)")
    args = ap.parse_args()
    names = args.models.split(",")
    for name in names:
        if name not in CONFIGS:
            ap.error(f"unknown model '{name}' (known: {', '.join(CONFIGS)})")

    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)
    xtr, ytr = load_split("train")
    xte, yte = load_split("t10k")
    print(f"train {tuple(xtr.shape)} test {tuple(xte.shape)}", flush=True)

    for name in names:
        ctor, epochs, lr, bs, crop, threads = CONFIGS[name]
        epochs = args.epochs or epochs
        epochs = int(epochs) if float(epochs).is_integer() else epochs
        threads = args.threads or threads
        torch.set_num_threads(threads)
        torch.manual_seed(SEED)
        model = ctor()
        t0 = time.time()
        logits = train(name, model, epochs, lr, bs, crop, xtr, ytr, xte, yte)
        train_s = time.time() - t0

        acc = (logits.argmax(1) == yte).sum().item() / len(yte)  # exact fraction
        onnx_path = os.path.join(args.out, f"{name}.onnx")
        ops = export(model, onnx_path)
        if name != "lenet5" and "BatchNormalization" not in ops:
            raise RuntimeError(f"{onnx_path}: BatchNormalization nodes were folded away")
        meta = {
            "name": name,
            "float_accuracy": acc,
            "test_images": len(xte),
            "input": "pixel/255 NCHW [N,1,28,28]",
            "mean": 0.0,
            "std": 1.0,
            "logits_first32": [[float(v) for v in row] for row in logits[:32]],
            "labels_first32": [int(v) for v in yte[:32]],
            "epochs": epochs,
            "seed": SEED,
            "threads": threads,
            "params": sum(p.numel() for p in model.parameters()),
            "onnx_ops": ops,
            "train_seconds": round(train_s, 1),
            "torch_version": torch.__version__,
            "command": " ".join(["/usr/bin/python3"] + sys.argv),
        }
        with open(os.path.join(args.out, f"{name}.json"), "w") as f:
            json.dump(meta, f, indent=1)
            f.write("\n")
        print(f"[{name}] float acc {acc:.4f} params {meta['params']} "
              f"size {os.path.getsize(onnx_path)} B ops {ops} ({train_s:.0f}s)", flush=True)


if __name__ == "__main__":
    main()
