// Reference dlib ResNet forward pass: face-api 1.7.15's FaceRecognitionNet
// on tfjs 4.22 (node), the implementation the Go package vectors/dlibresnet
// must agree with. It loads face_recognition_model from the installed npm
// package, reads raw 150×150 RGB chips (uint8, N×150×150×3) and prints the
// descriptors face-api computes (not L2-normalised).
//
//   node descriptor.cjs embed --crops FILE [--backend cpu|wasm]
//   node descriptor.cjs bench --crops FILE [--backend wasm|cpu] [--iters K] [--threads T]
// tfjs prints a banner with console.log; keep stdout for the JSON result.
console.log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');

const SIZE = 150;

function args() {
  const a = { mode: process.argv[2], backend: 'cpu', iters: 5 };
  for (let i = 3; i < process.argv.length; i += 2) a[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
  if (a.mode !== 'embed' && a.mode !== 'bench') throw new Error('mode must be embed or bench');
  if (!a.crops) throw new Error('--crops FILE is required');
  a.iters = Number(a.iters);
  return a;
}

async function main() {
  const a = args();
  if (a.backend === 'wasm') {
    wasm.setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
    if (Number(a.threads) > 0) wasm.setThreadsCount(Number(a.threads));
  }
  if (!(await tf.setBackend(a.backend))) throw new Error(`backend ${a.backend} unavailable`);
  await tf.ready();
  const dir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  await faceapi.nets.faceRecognitionNet.loadFromDisk(dir);
  const hash = crypto.createHash('sha256');
  hash.update(fs.readFileSync(path.join(dir, 'face_recognition_model-weights_manifest.json')));
  hash.update(fs.readFileSync(path.join(dir, 'face_recognition_model.bin')));
  const raw = fs.readFileSync(a.crops);
  const per = SIZE * SIZE * 3;
  if (raw.length === 0 || raw.length % per !== 0) throw new Error(`crops file has ${raw.length} bytes`);
  const crops = [];
  for (let off = 0; off < raw.length; off += per) crops.push(Float32Array.from(raw.subarray(off, off + per)));
  const embed = async (c) => {
    const t = tf.tensor3d(c, [SIZE, SIZE, 3], 'float32');
    const d = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(t);
    t.dispose();
    return d;
  };
  if (a.mode === 'embed') {
    const embeddings = [];
    for (const c of crops) embeddings.push(Array.from(await embed(c)));
    process.stdout.write(JSON.stringify({ backend: tf.getBackend(), model_sha256: hash.digest('hex'), embeddings }) + '\n');
    return;
  }
  for (let i = 0; i < 2; i++) await embed(crops[i % crops.length]);
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  for (let it = 0; it < a.iters; it++) for (const c of crops) await embed(c);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(c0);
  const faces = a.iters * crops.length;
  process.stdout.write(JSON.stringify({
    backend: tf.getBackend(), faces, ms_per_face: ms / faces, cpu_ms_per_face: (cpu.user + cpu.system) / 1e3 / faces,
    wasm_threads: a.backend === 'wasm' ? wasm.getThreadsCount() : 0,
  }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`descriptor.cjs: ${e.stack || e}\n`);
  process.exit(1);
});
