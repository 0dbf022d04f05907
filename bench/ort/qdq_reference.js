#!/usr/bin/env node
// ONNX Runtime's outputs on ftdla's pre-quantized (QDQ / QOperator) fixtures, for the agreement test
// (tests/quant/qdq_agreement_test.cpp). Not part of the build or tests: run it when the fixtures change
// and commit what it writes.
//
//   node bench/ort/qdq_reference.js [--data DIR] [--images N] FIXTURE_DIR
//
// For every FIXTURE_DIR/<name>.onnx with a <name>.json sidecar (tools/make_qdq_models.py): runs the first
// N Fashion-MNIST test images (pixel/255, NCHW, float32; default all 10,000) through ONNX Runtime's CPU
// provider (1 thread, default graph optimizations, which fuse DequantizeLinear -> op -> QuantizeLinear
// into integer kernels), turns the float logits back into the model's 8-bit output integers with the
// sidecar's output scale and zero point, and writes them to <name>.ort.u8 (N x 10 bytes, row-major). The
// sidecar gains "ort": {version, images, accuracy, file}.
'use strict';

const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');
const { readIdx } = require('./idx');

function die(msg) {
  process.stderr.write(`qdq_reference: ${msg}\nusage: node qdq_reference.js [--data DIR] [--images N] FIXTURE_DIR\n`);
  process.exit(2);
}

async function main() {
  const argv = process.argv.slice(2);
  let data = '/usr/share/datasets/fashion-mnist', limit = 0, dir = null;
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === '--data') data = argv[++i];
    else if (argv[i] === '--images') limit = Number(argv[++i]);
    else if (dir === null) dir = argv[i];
    else die(`unexpected argument ${argv[i]}`);
  }
  if (!dir) die('missing FIXTURE_DIR');
  const img = readIdx(path.join(data, 't10k-images-idx3-ubyte.gz'));
  const lab = readIdx(path.join(data, 't10k-labels-idx1-ubyte.gz'));
  const count = limit > 0 ? Math.min(limit, img.dims[0]) : img.dims[0];
  // Math.fround(b / 255) is the float32 nearest to b/255, as ftdla's float(b) / 255.0f.
  const pixels = new Float32Array(count * 784);
  for (let i = 0; i < pixels.length; ++i) pixels[i] = Math.fround(img.data[i] / 255);

  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.onnx')).sort()) {
    const name = file.slice(0, -5);
    const sidecarPath = path.join(dir, `${name}.json`);
    if (!fs.existsSync(sidecarPath)) continue;
    const side = JSON.parse(fs.readFileSync(sidecarPath, 'utf8'));
    const session = await ort.InferenceSession.create(path.join(dir, file), {
      intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
    });
    const out = new Uint8Array(count * 10);
    let correct = 0;
    const batch = 100;
    for (let start = 0; start < count; start += batch) {
      const n = Math.min(batch, count - start);
      const x = new ort.Tensor('float32', pixels.subarray(start * 784, (start + n) * 784), [n, 1, 28, 28]);
      const res = await session.run({ [session.inputNames[0]]: x });
      const y = res[session.outputNames[0]].data;
      for (let i = 0; i < n; ++i) {
        let best = 0;
        for (let c = 0; c < 10; ++c) {
          const q = Math.round(y[i * 10 + c] / side.output_scale) + side.output_zero_point;
          if (q < 0 || q > 255) die(`${name}: output ${y[i * 10 + c]} is not a uint8 of scale ${side.output_scale}`);
          out[(start + i) * 10 + c] = q;
          if (q > out[(start + i) * 10 + best]) best = c;
        }
        if (best === lab.data[start + i]) ++correct;
      }
    }
    fs.writeFileSync(path.join(dir, `${name}.ort.u8`), out);
    side.ort = { version: require('onnxruntime-node/package.json').version, images: count, accuracy: correct / count,
                 file: `${name}.ort.u8`, threads: 1, graph_optimization_level: 'all' };
    fs.writeFileSync(sidecarPath, JSON.stringify(side, null, 1) + '\n');
    process.stdout.write(`${name}: ${count} images, ONNX Runtime accuracy ${(correct / count).toFixed(4)}\n`);
  }
}

main().catch((e) => die(e.message));
