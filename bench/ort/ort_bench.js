#!/usr/bin/env node
// ONNX Runtime (CPU, float32) throughput anchor for ftdla's engines: images per second of plain
// inference on a given ONNX model, with intraOpNumThreads = 1 and 2 (interOpNumThreads = 1,
// sequential execution), at batch 1 and batch 128. Not part of ftdla's build or tests.
//
//   node ort_bench.js [--threads 1,2] [--batch 1,128] [--seconds 2] [--random] [--accuracy]
//                     [--no-spin] [--data DIR] MODEL.onnx...
//
// Inputs are Fashion-MNIST test images (pixel/255, NCHW [B,1,28,28]) read from the gzipped IDX
// files in --data (default /usr/share/datasets/fashion-mnist), or seeded uniform noise with
// --random. Each configuration is warmed up (>= 3 runs and >= 0.5 s), then timed for at least
// --seconds; one JSON line per configuration goes to stdout:
//   {"model","threads","batch","images_per_s", ...details}
// A model whose batch dimension is fixed to 1 cannot take a [128,...] tensor; its batch-128 line
// is then 128 sequential batch-1 runs, and says so ("batch_mode": "sequential_batch1").
// --accuracy also runs the whole test set once per model (batch 128 if the model accepts it) and
// prints {"model","accuracy","images"}.
// --no-spin sets session.intra_op.allow_spinning = 0: ORT's pool threads then sleep instead of
// busy-waiting between ops, which is faster at 2 threads when the cores are shared with other work.
'use strict';

const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');
const { readIdx } = require('./idx');

function usage(msg) {
  process.stderr.write(`ort_bench: ${msg}\nusage: node ort_bench.js [--threads 1,2] [--batch 1,128] ` +
                       '[--seconds 2] [--random] [--accuracy] [--no-spin] [--data DIR] MODEL.onnx...\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { threads: [1, 2], batches: [1, 128], seconds: 2, random: false, accuracy: false, spin: true,
              data: '/usr/share/datasets/fashion-mnist', models: [] };
  const list = (s, what) => {
    const v = s.split(',').map(Number);
    if (v.some((x) => !Number.isInteger(x) || x < 1)) usage(`bad ${what} '${s}'`);
    return v;
  };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) usage(`missing value after ${a}`); return argv[++i]; };
    if (a === '--threads') o.threads = list(val(), '--threads');
    else if (a === '--batch') o.batches = list(val(), '--batch');
    else if (a === '--seconds') { o.seconds = Number(val()); if (!(o.seconds > 0)) usage('bad --seconds'); }
    else if (a === '--data') o.data = val();
    else if (a === '--random') o.random = true;
    else if (a === '--accuracy') o.accuracy = true;
    else if (a === '--no-spin') o.spin = false;
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else o.models.push(a);
  }
  if (o.models.length === 0) usage('no model given');
  return o;
}

function findIdx(dir, stem) {
  for (const f of [`${stem}.gz`, stem]) {
    const p = path.join(dir, f);
    if (fs.existsSync(p)) return p;
  }
  usage(`no ${stem}[.gz] in ${dir}`);
}

/// Images as float32 pixel/255 ([count * 784]) and labels; or seeded noise with --random.
function loadImages(o) {
  if (o.random) {
    const count = 1024;
    const x = new Float32Array(count * 784);
    let s = 12345;
    for (let i = 0; i < x.length; ++i) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; x[i] = s / 4294967296; }
    return { count, pixels: x, labels: null, source: 'random' };
  }
  const img = readIdx(findIdx(o.data, 't10k-images-idx3-ubyte'));
  const lab = readIdx(findIdx(o.data, 't10k-labels-idx1-ubyte'));
  const [count, h, w] = img.dims;
  if (h !== 28 || w !== 28) usage(`expected 28x28 images, got ${h}x${w}`);
  const x = new Float32Array(count * 784);
  for (let i = 0; i < x.length; ++i) x[i] = img.data[i] / 255;
  return { count, pixels: x, labels: lab.data, source: 'fashion-mnist-t10k' };
}

/// Tensors of `batch` consecutive images (wrapping), enough to cycle through the set once.
function makeBatches(images, batch) {
  const n = Math.max(1, Math.min(Math.ceil(images.count / batch), 256));
  const out = [];
  for (let b = 0; b < n; ++b) {
    const x = new Float32Array(batch * 784);
    for (let j = 0; j < batch; ++j) {
      const i = (b * batch + j) % images.count;
      x.set(images.pixels.subarray(i * 784, (i + 1) * 784), j * 784);
    }
    out.push(new ort.Tensor('float32', x, [batch, 1, 28, 28]));
  }
  return out;
}

const now = () => Number(process.hrtime.bigint()) / 1e9;

async function createSession(model, threads, spin) {
  return ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
    extra: { session: { intra_op: { allow_spinning: spin ? '1' : '0' } } },
  });
}

/// Whether the session accepts a batch of 2 (i.e. the batch dimension is not fixed to 1).
async function acceptsBatch(session, tensor2) {
  try {
    await session.run({ [session.inputNames[0]]: tensor2 });
    return true;
  } catch (e) {
    return false;
  }
}

/// Images per second: `step()` processes `perStep` images; warm up, then time >= `seconds`.
async function timeLoop(step, perStep, seconds) {
  const w0 = now();
  for (let r = 0; r < 3 || now() - w0 < 0.5; ++r) await step(r);
  let runs = 0;
  const t0 = now();
  let t = t0;
  while (t - t0 < seconds) {
    await step(runs++);
    t = now();
  }
  return { images_per_s: (runs * perStep) / (t - t0), runs, seconds: t - t0 };
}

async function accuracy(session, images, native) {
  const batch = native ? 128 : 1;
  const input = session.inputNames[0];
  const output = session.outputNames[0];
  let correct = 0;
  for (let s = 0; s < images.count; s += batch) {
    const b = Math.min(batch, images.count - s);
    const t = new ort.Tensor('float32', images.pixels.slice(s * 784, (s + b) * 784), [b, 1, 28, 28]);
    const y = (await session.run({ [input]: t }))[output].data;
    const classes = y.length / b;
    for (let j = 0; j < b; ++j) {
      let best = 0;
      for (let c = 1; c < classes; ++c) if (y[j * classes + c] > y[j * classes + best]) best = c;
      if (best === images.labels[s + j]) ++correct;
    }
  }
  return correct / images.count;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const images = loadImages(o);
  const batches = new Map();
  const batchesOf = (b) => { if (!batches.has(b)) batches.set(b, makeBatches(images, b)); return batches.get(b); };
  for (const model of o.models) {
    if (!fs.existsSync(model)) usage(`no such model ${model}`);
    const name = path.basename(model, '.onnx');
    for (const threads of o.threads) {
      const session = await createSession(model, threads, o.spin);
      const input = session.inputNames[0];
      const native = await acceptsBatch(session, new ort.Tensor('float32', new Float32Array(2 * 784), [2, 1, 28, 28]));
      if (o.accuracy && images.labels && threads === o.threads[0]) {
        const acc = await accuracy(session, images, native);
        console.log(JSON.stringify({ model: name, accuracy: acc, images: images.count, runtime: `onnxruntime-node ${ort.env.versions.node}` }));
      }
      for (const batch of o.batches) {
        let r;
        let mode;
        if (batch === 1 || native) {
          const ts = batchesOf(batch);
          mode = 'native';
          r = await timeLoop((i) => session.run({ [input]: ts[i % ts.length] }), batch, o.seconds);
        } else {
          // Fixed batch of 1: `batch` sequential batch-1 runs per step.
          const ts = batchesOf(1);
          mode = 'sequential_batch1';
          r = await timeLoop(async (i) => {
            for (let j = 0; j < batch; ++j) await session.run({ [input]: ts[(i * batch + j) % ts.length] });
          }, batch, o.seconds);
        }
        console.log(JSON.stringify({
          model: name, threads, batch, images_per_s: Number(r.images_per_s.toFixed(2)),
          batch_mode: mode, runs: r.runs, seconds: Number(r.seconds.toFixed(3)), input: images.source,
          runtime: `onnxruntime-node ${ort.env.versions.node}`, inter_op_threads: 1, execution_mode: 'sequential',
          allow_spinning: o.spin, load_avg_1min: Number(require('os').loadavg()[0].toFixed(2)),
        }));
      }
      await session.release();
    }
  }
}

main().catch((e) => {
  process.stderr.write(`ort_bench: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});
