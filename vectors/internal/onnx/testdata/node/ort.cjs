// Reference runs on onnxruntime-node (CPU execution provider): the runtime
// the Go ONNX loader (vectors/internal/onnx) and the fr-feature engine
// (vectors/frfeature) must agree with.
//
//   node ort.cjs run < request.json
//       request: {"threads": T, "cases": [{"model": PATH, "feeds":
//       {NAME: {"dims": [...], "file": PATH of little-endian float32}}}]}
//       prints {"ort_version", "results": [{"outputs": {NAME: {"dims",
//       "data"}}}]} with every output of every case.
//   node ort.cjs embed --model PATH --crops FILE [--threads T]
//       FILE holds raw 112×112 RGB crops (uint8, N×112×112×3); each becomes
//       the input faceplugin-face-recognition-js@0.0.1 (lib/fr_feature.js)
//       feeds its fr_feature.onnx: float32 [1, 3, 112, 112], channels R, G,
//       B, value (v − 127) / 128. Prints {"ort_version", "model_sha256",
//       "embeddings": [[512 floats], ...]} as the network returns them.
//   node ort.cjs bench --model PATH --crops FILE [--iters K] [--threads T]
//       times K passes over the crops after one warm-up pass and prints
//       {"faces", "ms_per_face" (wall), "cpu_ms_per_face" (user+system CPU
//       time of this process), "threads"}.
'use strict';

const fs = require('node:fs');
const crypto = require('node:crypto');
const ort = require('onnxruntime-node');

const SIZE = 112;

function args() {
  const a = { mode: process.argv[2], threads: 1, iters: 10 };
  for (let i = 3; i < process.argv.length; i += 2) {
    a[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
  }
  a.threads = Number(a.threads);
  a.iters = Number(a.iters);
  return a;
}

function session(model, threads) {
  return ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
}

function floats(file) {
  const b = fs.readFileSync(file);
  if (b.length % 4 !== 0) throw new Error(`${file}: ${b.length} bytes`);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

async function run() {
  const req = JSON.parse(fs.readFileSync(0, 'utf8'));
  const results = [];
  for (const c of req.cases) {
    const s = await session(c.model, req.threads || 1);
    const feeds = {};
    for (const [name, f] of Object.entries(c.feeds)) {
      feeds[name] = new ort.Tensor('float32', floats(f.file), f.dims);
    }
    const out = await s.run(feeds);
    const outputs = {};
    for (const name of s.outputNames) {
      outputs[name] = { dims: out[name].dims, data: Array.from(out[name].data) };
    }
    results.push({ outputs });
    await s.release();
  }
  return { ort_version: ort.env.versions.common, results };
}

// crops returns the network inputs of the crops in file, preprocessed as
// the package does.
function crops(file) {
  const b = fs.readFileSync(file);
  const per = SIZE * SIZE * 3;
  if (b.length === 0 || b.length % per !== 0) throw new Error(`crops file has ${b.length} bytes`);
  const out = [];
  for (let off = 0; off < b.length; off += per) {
    const x = new Float32Array(per);
    for (let y = 0; y < SIZE; y++) {
      for (let xx = 0; xx < SIZE; xx++) {
        for (let c = 0; c < 3; c++) {
          x[c * SIZE * SIZE + y * SIZE + xx] = (b[off + (y * SIZE + xx) * 3 + c] - 127) / 128.0;
        }
      }
    }
    out.push(new ort.Tensor('float32', x, [1, 3, SIZE, SIZE]));
  }
  return out;
}

async function embed(a) {
  const raw = fs.readFileSync(a.model);
  const s = await session(a.model, a.threads);
  const embeddings = [];
  for (const x of crops(a.crops)) {
    const out = await s.run({ [s.inputNames[0]]: x });
    embeddings.push(Array.from(out[s.outputNames[0]].data));
  }
  return {
    ort_version: ort.env.versions.common,
    model_sha256: crypto.createHash('sha256').update(raw).digest('hex'),
    embeddings,
  };
}

async function bench(a) {
  const s = await session(a.model, a.threads);
  const xs = crops(a.crops);
  for (const x of xs) await s.run({ [s.inputNames[0]]: x });
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < a.iters; k++) {
    for (const x of xs) await s.run({ [s.inputNames[0]]: x });
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(c0);
  const faces = a.iters * xs.length;
  return {
    faces,
    ms_per_face: wall / faces,
    cpu_ms_per_face: (cpu.user + cpu.system) / 1e3 / faces,
    threads: a.threads,
  };
}

(async () => {
  const a = args();
  let r;
  switch (a.mode) {
    case 'run': r = await run(); break;
    case 'embed': r = await embed(a); break;
    case 'bench': r = await bench(a); break;
    default: throw new Error('mode must be run, embed or bench');
  }
  process.stdout.write(JSON.stringify(r));
})().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
