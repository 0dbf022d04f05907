#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Write the ONNX backend node test cases of every operator ftdla imports to tests/fixtures/conformance/.

Run with Debian's python3-onnx (1.12): /usr/bin/python3 tools/make_conformance.py
The build and the tests never need Python: the generated files are committed.

Layout (the ONNX backend test-case format): <case>/model.onnx and <case>/test_data_set_0/{input,output}_<i>.pb.
The cases come from onnx's own generators (onnx.backend.test.case.node.<op> modules; each module's export
functions call expect(), which records the model and its reference inputs and outputs). Only the operator
modules ftdla imports are loaded (importing every module fails on numpy >= 1.24, which removed np.float
that bernoulli.py uses); a case is kept when every node of its graph is an operator ftdla imports.

Besides the ONNX cases, for every case with more than one graph input the script writes "<case>_frozen": the
same model with inputs 1.. turned into initializers holding the case's input values. ftdla takes weights,
biases, Clip bounds and Reshape shapes only as constants, so this is how those cases exercise the operator.

Cases larger than MAX_CASE_BYTES are not written (they are printed; list them in not_applicable.txt with
"not committed"). tests/fixtures/conformance/applicable.txt and not_applicable.txt are maintained by hand and
read by tests/conformance/conformance_test.cpp, which fails when a case directory is in neither.
"""
import importlib
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import numpy_helper
import onnx.backend.test.case.node as node_cases

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "conformance")
MAX_CASE_BYTES = 100_000

OPS = {"Conv", "Gemm", "MatMul", "Relu", "Clip", "MaxPool", "AveragePool", "GlobalAveragePool", "Add", "Flatten",
       "Reshape", "BatchNormalization", "Softmax", "LogSoftmax", "Identity", "Dropout", "Constant"}
MODULES = ["conv", "gemm", "matmul", "relu", "clip", "maxpool", "averagepool", "globalaveragepool", "add", "flatten",
           "reshape", "batchnorm", "softmax", "logsoftmax", "identity", "dropout", "constant"]


def proto_of(value, vi):
    """The TensorProto (or SequenceProto / OptionalProto) of one input or output, as onnx's cmd_tools writes it."""
    t = vi.type
    if t.HasField("sequence_type"):
        return numpy_helper.from_list(value, vi.name)
    if t.HasField("optional_type"):
        return numpy_helper.from_optional(value, vi.name)
    return numpy_helper.from_array(value, vi.name)


def serialized(model, inputs, outputs):
    files = {"model.onnx": model.SerializeToString()}
    for j, x in enumerate(inputs):
        files[f"test_data_set_0/input_{j}.pb"] = proto_of(x, model.graph.input[j]).SerializeToString()
    for j, y in enumerate(outputs):
        files[f"test_data_set_0/output_{j}.pb"] = proto_of(y, model.graph.output[j]).SerializeToString()
    return files


def frozen(model, inputs):
    """The model with graph inputs 1.. stored as initializers, or None if they are not all tensors."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    keep = [m.graph.input[0]]
    for vi, x in zip(list(m.graph.input)[1:], inputs[1:]):
        # Scalars (Clip bounds, Dropout ratio) come as numpy scalars, not arrays.
        if not vi.type.HasField("tensor_type") or not isinstance(x, (np.ndarray, np.generic)):
            return None
        m.graph.initializer.append(numpy_helper.from_array(np.asarray(x), vi.name))
    del m.graph.input[:]
    m.graph.input.extend(keep)
    return m


def main():
    for mod in MODULES:
        importlib.import_module("onnx.backend.test.case.node." + mod)
    cases = [c for c in node_cases._NodeTestCases if {n.op_type for n in c.model.graph.node} <= OPS]

    if os.path.isdir(OUT):
        for entry in os.listdir(OUT):
            if os.path.isdir(os.path.join(OUT, entry)):
                shutil.rmtree(os.path.join(OUT, entry))
    os.makedirs(OUT, exist_ok=True)

    written, skipped, total = [], [], 0
    for c in cases:
        inputs, outputs = c.data_sets[0]
        variants = [(c.name, c.model, inputs)]
        if len(inputs) > 1:
            fm = frozen(c.model, inputs)
            if fm is not None:
                variants.append((c.name + "_frozen", fm, inputs[:1]))
        for name, model, ins in variants:
            files = serialized(model, ins, outputs)
            size = sum(len(b) for b in files.values())
            if size > MAX_CASE_BYTES:
                skipped.append((name, size))
                continue
            for rel, data in files.items():
                path = os.path.join(OUT, name, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as f:
                    f.write(data)
            written.append(name)
            total += size

    print(f"wrote {len(written)} cases ({total / 1024:.0f} KiB) to {os.path.relpath(OUT, ROOT)}")
    for name, size in skipped:
        print(f"not written (over {MAX_CASE_BYTES} bytes): {name} ({size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
