// Reference implementation of the vectors/detect pipeline on tfjs (node).
//
// Usage: node detect.mjs MANIFEST.json [--backend cpu|wasm] [--bench N]
//        [--embed DIR/model.json | --dlib]
// MANIFEST lists {"file": path of raw RGBA bytes, "width", "height"}.
// Prints one JSON document: {"images": [{"faces": [...]}], "bench": {...}}.
//
// The pipeline is written from the same specification as the Go package
// (see ../../doc.go): letterbox to 256, BlazeFace, anchor decoding,
// tf.image.nonMaxSuppression, rotated 1.5x region to 192, FaceMesh twice,
// landmarks back to image pixels. All sampling uses tf.image.transform
// (bilinear, constant 0 fill, output->input map), which is the convention of
// align.WarpFloat.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import * as tfconv from '@tensorflow/tfjs-converter';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const modelDir = join(here, '..', '..', 'model');

const BLAZE = 256, MESH = 192, ROI_SCALE = 1.5;
const MIN_SCORE = 0.5, IOU = 0.3, MAX_FACES = 10, MIN_MESH = 0.5;

function loadModel(name, dir = modelDir) {
  const mj = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  const specs = [];
  const bufs = [];
  for (const g of mj.weightsManifest) {
    specs.push(...g.weights);
    for (const p of g.paths) bufs.push(readFileSync(join(dir, p)));
  }
  const all = Buffer.concat(bufs);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return tfconv.loadGraphModel({
    load: async () => ({ modelTopology: mj.modelTopology, weightSpecs: specs, weightData, format: mj.format, generatedBy: mj.generatedBy, convertedBy: mj.convertedBy }),
  });
}

function anchors() {
  const a = [];
  for (const [stride, per] of [[16, 2], [32, 6]]) {
    const cells = BLAZE / stride;
    for (let y = 0; y < cells; y++) for (let x = 0; x < cells; x++) for (let k = 0; k < per; k++) a.push([stride * (x + 0.5), stride * (y + 0.5)]);
  }
  return a;
}
const ANCHORS = anchors();

// Affine maps [A,B,C,D,E,F]: (x,y) -> (A x + B y + C, D x + E y + F).
const apply = (m, x, y) => [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];
const then = (m, n) => [
  n[0] * m[0] + n[1] * m[3], n[0] * m[1] + n[1] * m[4], n[0] * m[2] + n[1] * m[5] + n[2],
  n[3] * m[0] + n[4] * m[3], n[3] * m[1] + n[4] * m[4], n[3] * m[2] + n[4] * m[5] + n[5],
];

function letterbox(w, h) {
  const s = Math.max(w, h), k = s / BLAZE;
  const padX = (s - w) / 2, padY = (s - h) / 2;
  return [k, 0, 0.5 * k - 0.5 - padX, 0, k, 0.5 * k - 0.5 - padY];
}

function roiToImage(r, n) {
  const k = r.side / n;
  const local = [k, 0, 0.5 * k - r.side / 2, 0, k, 0.5 * k - r.side / 2];
  const c = Math.cos(r.theta), s = Math.sin(r.theta);
  return then(local, [c, -s, r.cx, s, c, r.cy]);
}

// sample returns [1,n,n,3] of img sampled at m (output->input), v*scale+offset.
function sample(img, m, n, scale, offset) {
  return tf.tidy(() => {
    const t = tf.image.transform(img, tf.tensor2d([[m[0], m[1], m[2], m[3], m[4], m[5], 0, 0]]), 'bilinear', 'constant', 0, [n, n]);
    return tf.add(tf.mul(t, scale), offset);
  });
}

async function boxes(blaze, img, w, h) {
  const toImg = letterbox(w, h);
  const x = sample(img, toImg, BLAZE, 1 / 127.5, -1);
  const outs = blaze.execute(x);
  x.dispose();
  const byShape = {};
  for (const o of outs) byShape[o.shape.slice(1).join('x')] = o;
  const scores = [...await byShape['512x1'].data(), ...await byShape['384x1'].data()];
  const regs = [...await byShape['512x16'].data(), ...await byShape['384x16'].data()];
  outs.forEach((o) => o.dispose());
  const cands = [];
  for (let i = 0; i < ANCHORS.length; i++) {
    const logit = Math.max(-80, Math.min(80, scores[i]));
    const sc = 1 / (1 + Math.exp(-logit));
    const r = regs.slice(16 * i, 16 * i + 16);
    const [ax, ay] = ANCHORS[i];
    const cx = ax + r[0], cy = ay + r[1], bw = r[2], bh = r[3];
    const [x0, y0] = apply(toImg, cx - bw / 2 - 0.5, cy - bh / 2 - 0.5);
    const [x1, y1] = apply(toImg, cx + bw / 2 - 0.5, cy + bh / 2 - 0.5);
    const kp = [];
    for (let k = 0; k < 6; k++) kp.push(apply(toImg, ax + r[4 + 2 * k] - 0.5, ay + r[5 + 2 * k] - 0.5));
    cands.push({ score: sc, box: [x0, y0, x1 - x0, y1 - y0], kp, valid: bw > 0 && bh > 0 });
  }
  const valid = cands.filter((c) => c.valid);
  const bt = tf.tensor2d(valid.map((c) => [c.box[1], c.box[0], c.box[1] + c.box[3], c.box[0] + c.box[2]]), [valid.length, 4]);
  const st = tf.tensor1d(valid.map((c) => c.score));
  const keep = await tf.image.nonMaxSuppressionAsync(bt, st, MAX_FACES, IOU, MIN_SCORE);
  const idx = await keep.array();
  tf.dispose([bt, st, keep]);
  return idx.map((i) => valid[i]);
}

async function runMesh(mesh, img, r) {
  const toImg = roiToImage(r, MESH);
  const x = sample(img, toImg, MESH, 1 / 255, 0);
  const outs = mesh.execute(x, ['Identity_2', 'Identity_1']);
  x.dispose();
  const pts = await outs[0].data();
  const flag = (await outs[1].data())[0];
  outs.forEach((o) => o.dispose());
  const k = r.side / MESH;
  const res = [];
  for (let i = 0; i < 468; i++) {
    const [ix, iy] = apply(toImg, pts[3 * i] - 0.5, pts[3 * i + 1] - 0.5);
    res.push([ix, iy, pts[3 * i + 2] * k]);
  }
  return [res, flag];
}

function meshROI(m) {
  const xs = m.map((p) => p[0]), ys = m.map((p) => p[1]);
  const minX = Math.min(...xs), maxX = Math.max(...xs), minY = Math.min(...ys), maxY = Math.max(...ys);
  const a = m[33], b = m[263];
  return { cx: (minX + maxX) / 2, cy: (minY + maxY) / 2, side: ROI_SCALE * Math.max(maxX - minX, maxY - minY), theta: Math.atan2(b[1] - a[1], b[0] - a[0]) };
}

const mean2 = (m, idx) => [idx.reduce((s, i) => s + m[i][0], 0) / idx.length, idx.reduce((s, i) => s + m[i][1], 0) / idx.length];
const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1]);

function measure(c, m) {
  const deg = 180 / Math.PI;
  const a = m[33], b = m[263];
  const lx = b[0] - a[0], ly = b[1] - a[1], lz = b[2] - a[2];
  const t = m[10], ch = m[152];
  const vx = ch[0] - t[0], vy = ch[1] - t[1], vz = ch[2] - t[2];
  const w = dist(m[61], m[291]);
  return {
    score: c.score,
    box: c.box,
    five: [mean2(m, [33, 133, 159, 145]), mean2(m, [263, 362, 386, 374]), mean2(m, [1]), mean2(m, [61]), mean2(m, [291])],
    landmarks: m.map((p) => [p[0], p[1]]),
    yaw: Math.atan2(lz, Math.hypot(lx, ly)) * deg,
    pitch: Math.atan2(-vz, Math.hypot(vx, vy)) * deg,
    roll: Math.atan2(ly, lx) * deg,
    mouth_open: w > 0 ? dist(m[13], m[14]) / w : 0,
  };
}

async function detect(blaze, mesh, img, w, h) {
  const faces = [];
  for (const c of await boxes(blaze, img, w, h)) {
    const e0 = c.kp[0], e1 = c.kp[1];
    let r = { cx: c.box[0] + c.box[2] / 2, cy: c.box[1] + c.box[3] / 2, side: ROI_SCALE * Math.max(c.box[2], c.box[3]), theta: Math.atan2(e1[1] - e0[1], e1[0] - e0[0]) };
    let [m, p] = await runMesh(mesh, img, r);
    if (p < MIN_MESH) continue;
    [m, p] = await runMesh(mesh, img, meshROI(m));
    if (p < MIN_MESH) continue;
    faces.push(measure(c, m));
  }
  return faces;
}

// ArcFace 112x112 template and the least-squares similarity (no reflection)
// from five points onto it, as vectors/align computes it.
const ARCFACE = [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]];
function similarity(src, dst) {
  const n = src.length;
  let msx = 0, msy = 0, mdx = 0, mdy = 0;
  for (let i = 0; i < n; i++) { msx += src[i][0] / n; msy += src[i][1] / n; mdx += dst[i][0] / n; mdy += dst[i][1] / n; }
  let num = 0, cross = 0, den = 0;
  for (let i = 0; i < n; i++) {
    const sx = src[i][0] - msx, sy = src[i][1] - msy, dx = dst[i][0] - mdx, dy = dst[i][1] - mdy;
    num += sx * dx + sy * dy; cross += sx * dy - sy * dx; den += sx * sx + sy * sy;
  }
  const a = num / den, b = cross / den;
  return [a, -b, mdx - a * msx + b * msy, b, a, mdy - b * msx - a * msy];
}
function invert(m) {
  const det = m[0] * m[4] - m[1] * m[3];
  const a = m[4] / det, b = -m[1] / det, d = -m[3] / det, e = m[0] / det;
  return [a, b, -(a * m[2] + b * m[5]), d, e, -(d * m[2] + e * m[5])];
}

// dlib's 150x150 chip: where the five points land (vectors/dlibresnet.Template).
const DLIB = [[47.5492, 46.5990], [100.4761, 46.5990], [74.0127, 76.5625], [50.4149, 103.0233], [97.6104, 103.0233]];

// dlibNet loads face-api 1.7.15's FaceRecognitionNet (the dlib ResNet) from
// the dlib package's node peer (../../../dlibresnet/testdata/node), on its
// own tfjs instance and the same backend. Crops cross over as plain arrays.
async function dlibNet(backend) {
  const req = createRequire(join(here, '..', '..', '..', 'dlibresnet', 'testdata', 'node', 'package.json'));
  // face-api's bundle prints a banner on stdout and re-registers the wasm
  // kernels of the tfjs it loads (one warning each): keep both quiet.
  const { log, warn } = console;
  console.log = console.warn = () => {};
  const ftf = req('@tensorflow/tfjs');
  const fwasm = req('@tensorflow/tfjs-backend-wasm');
  const faceapi = req('@vladmandic/face-api/dist/face-api.node-wasm.js');
  Object.assign(console, { log, warn });
  if (backend === 'wasm') fwasm.setWasmPaths(join(dirname(req.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
  if (!(await ftf.setBackend(backend))) throw new Error(`face-api backend ${backend} unavailable`);
  await ftf.ready();
  await faceapi.nets.faceRecognitionNet.loadFromDisk(join(dirname(req.resolve('@vladmandic/face-api/package.json')), 'model'));
  return {
    size: 150, template: DLIB,
    run: async (crop) => {
      const t = ftf.tensor3d(crop, [150, 150, 3], 'float32');
      const d = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(t);
      t.dispose();
      let n = 0;
      for (const x of d) n += x * x;
      return Array.from(d, (x) => x / Math.sqrt(n));
    },
  };
}

// graphNet wraps a tfjs graph model reading the ArcFace 112x112 crop.
function graphNet(net) {
  return {
    size: 112, template: ARCFACE,
    run: async (crop) => {
      const v = tf.tidy(() => {
        const out = net.execute(tf.tensor4d(crop, [1, 112, 112, 3]));
        return tf.div(out, tf.norm(out));
      });
      const data = Array.from(await v.data());
      v.dispose();
      return data;
    },
  };
}

// embed aligns a face onto the network's template (rounded to bytes, as the
// Go engine's *image.RGBA crop is) and runs the embedding network.
async function embed(net, img, face) {
  const inv = invert(similarity(face.five, net.template));
  const c = tf.tidy(() => tf.round(tf.clipByValue(sample(img, inv, net.size, 1, 0), 0, 255)));
  const crop = await c.data();
  c.dispose();
  return net.run(crop);
}

async function main() {
  const args = process.argv.slice(2);
  const manifest = JSON.parse(readFileSync(args[0], 'utf8'));
  const backend = args.includes('--backend') ? args[args.indexOf('--backend') + 1] : 'cpu';
  const bench = args.includes('--bench') ? Number(args[args.indexOf('--bench') + 1]) : 0;
  if (backend === 'wasm') {
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    wasm.setWasmPaths(dist + '/');
    if (args.includes('--threads')) wasm.setThreadsCount(Number(args[args.indexOf('--threads') + 1]));
  }
  await tf.setBackend(backend);
  await tf.ready();
  const blaze = await loadModel('blazeface.json');
  const mesh = await loadModel('facemesh.json');
  // --embed DIR/model.json adds alignment and a graph-model embedding network
  // on the ArcFace crop; --dlib adds dlib's chip and face-api's dlib ResNet.
  let net = null;
  if (args.includes('--embed')) {
    const p = args[args.indexOf('--embed') + 1];
    net = graphNet(await loadModel(p.split('/').pop(), dirname(p)));
  } else if (args.includes('--dlib')) {
    net = await dlibNet(backend);
  }
  const run = async (im) => {
    const faces = await detect(blaze, mesh, im.img, im.w, im.h);
    if (net) for (const f of faces) f.vector = await embed(net, im.img, f);
    return faces;
  };
  const imgs = manifest.map((e) => {
    const raw = readFileSync(e.file);
    const rgb = new Float32Array(e.width * e.height * 3);
    for (let i = 0; i < e.width * e.height; i++) for (let c = 0; c < 3; c++) rgb[3 * i + c] = raw[4 * i + c];
    return { img: tf.tensor4d(rgb, [1, e.height, e.width, 3]), w: e.width, h: e.height };
  });
  const out = { backend: tf.getBackend(), images: [] };
  for (const im of imgs) out.images.push({ faces: await run(im) });
  if (bench > 0) {
    let faces = 0, rss = process.memoryUsage().rss;
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < bench; i++) {
      for (const im of imgs) {
        faces += (await run(im)).length;
        rss = Math.max(rss, process.memoryUsage().rss);
      }
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(cpu0);
    out.bench = { runs: bench, faces, ms_per_face: ms / faces, cpu_ms_per_face: (cpu.user + cpu.system) / 1000 / faces, ms_per_image: ms / (bench * imgs.length), peak_rss_mb: rss / 1048576 };
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => { console.error(e); process.exit(1); });
