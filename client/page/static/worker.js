// FaceSign page worker: runs the WebAssembly SDK (Go: attestation, sealing,
// face tracking, wallet) off the page's main thread. Secrets stay here: the
// entropy never leaves this worker, the unique ID is never passed on, and
// the recovery phrase goes to the page only when the person asks to see it.
"use strict";

let client = null;   // facesign client (attested enclave)
let capture = null;  // live capture of the current challenge
let op = null;       // "enroll" | "login" | "remove"
let wallet = null;   // wallet of the last answer (keys derived in Go)
let canvas = null;   // OffscreenCanvas for frames
let ctx = null;

function fail(code, message) {
  const e = new Error(message);
  e.code = code;
  return e;
}

async function init({ wasmExec, wasm, config }) {
  importScripts(wasmExec);
  const go = new Go();
  const { instance } = await WebAssembly.instantiateStreaming(fetch(wasm), go.importObject);
  go.run(instance); // runs until the worker ends
  for (let i = 0; i < 200 && !self.facesign; i++) await new Promise(r => setTimeout(r, 10));
  if (!self.facesign) throw fail("client_error", "the SDK did not start");
  const opts = { url: config.api || self.location.origin };
  if (config.pcrs && Object.keys(config.pcrs).length) opts.pcrs = config.pcrs;
  if (config.simulator) {
    opts.rootsPEM = config.rootsPEM;
    if (config.fetchSimulatorRoot) { // a simulator page built before the simulator ran
      const r = await fetch(opts.url + "/v1/simulator/root.pem", { cache: "no-store" });
      if (!r.ok) throw fail("attestation_failed", "no simulator root at the API");
      opts.rootsPEM = [await r.text()];
    }
    if (!opts.pcrs) opts.anyMeasurement = true;
  }
  if (config.policyHash) opts.policyHash = config.policyHash;
  client = await facesign.newClient(opts);
  self.trackerReady = facesign.loadTracker(); // models load while the person reads
  return { version: facesign.version };
}

async function attest() {
  const a = await client.attest();
  return { moduleId: a.moduleId, engine: a.engine, policyHash: a.policyHash, pcr0: a.pcrs["0"] };
}

async function start({ operation }) {
  if (!["enroll", "login", "remove"].includes(operation)) throw fail("bad_argument", "unknown operation");
  cancel();
  await self.trackerReady;
  const ch = await client.challenge();
  capture = await client.capture(ch);
  op = operation;
  return { actions: ch.actions, expiresAt: ch.expiresAt };
}

async function frame({ bitmap }) {
  if (!capture) { bitmap.close(); throw fail("bad_argument", "no capture running"); }
  const w = bitmap.width, h = bitmap.height;
  if (!canvas || canvas.width !== w || canvas.height !== h) {
    canvas = new OffscreenCanvas(w, h);
    ctx = canvas.getContext("2d", { willReadFrequently: true });
  }
  ctx.drawImage(bitmap, 0, 0); // as the sensor sees it: unmirrored
  bitmap.close();
  const img = ctx.getImageData(0, 0, w, h);
  let g = await capture.track(img.data, w, h);
  img.data.fill(0);
  if (g.candidate) {
    const blob = await canvas.convertToBlob({ type: "image/jpeg", quality: 0.92 });
    const jpeg = new Uint8Array(await blob.arrayBuffer());
    g = await capture.offer(jpeg);
    jpeg.fill(0);
  }
  ctx.clearRect(0, 0, w, h);
  return g;
}

async function submit() {
  if (!capture) throw fail("bad_argument", "no capture running");
  const c = capture, o = op;
  capture = null;
  const res = await c.submit(o); // frames wiped by the SDK, whatever happens
  wallet = null;
  if (res.entropy) {
    wallet = await facesign.wallet(res.entropy);
    res.entropy.fill(0);
  }
  return {
    status: res.status,
    facesignAddress: wallet ? wallet.facesignAddress : null,
    evmAddress: wallet ? wallet.evmAddress : null,
  };
}

function cancel() {
  if (capture) capture.wipe();
  capture = null;
  if (ctx) ctx.clearRect(0, 0, canvas.width, canvas.height);
  return null;
}

function reveal() {
  if (!wallet) throw fail("bad_argument", "no wallet");
  return { mnemonic: wallet.mnemonic };
}

async function sign({ message }) {
  if (!wallet) throw fail("bad_argument", "no wallet");
  return { signature: await wallet.signPersonal(String(message)) };
}

function forget() { wallet = null; cancel(); return null; }

const ops = { init, attest, start, frame, submit, cancel, reveal, sign, forget };

self.onmessage = async (ev) => {
  const { id, op: name, args } = ev.data;
  try {
    const fn = ops[name];
    if (!fn) throw fail("bad_argument", "unknown operation " + name);
    const value = await fn(args || {});
    self.postMessage({ id, ok: true, value });
  } catch (e) {
    self.postMessage({ id, ok: false, error: { code: (e && e.code) || "client_error", sealed: !!(e && e.sealed), message: String((e && e.message) || e) } });
  }
};
