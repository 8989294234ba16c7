// The browser side of client/js/browser_test.go. The frames come from the
// test server (real recordings, picked to perform the challenge's actions),
// standing in for the camera; everything else is the SDK in WebAssembly.
"use strict";

function log(s) { document.getElementById("log").textContent += s + "\n"; }

function hex(u8) { return Array.from(u8, b => b.toString(16).padStart(2, "0")).join(""); }

function b64(u8) { let s = ""; for (const b of u8) s += String.fromCharCode(b); return btoa(s); }

function unb64(s) { return Uint8Array.from(atob(s), c => c.charCodeAt(0)); }

async function loadSDK() {
  const go = new Go();
  const { instance } = await WebAssembly.instantiateStreaming(fetch("/facesign.wasm"), go.importObject);
  go.run(instance); // runs until the page goes away
  for (let i = 0; i < 100 && !globalThis.facesign; i++) await new Promise(r => setTimeout(r, 10));
  if (!globalThis.facesign) throw new Error("facesign did not register");
}

// frames asks the test server for frames of recording that perform ch's
// actions; null when the recording cannot (the app would ask again).
async function frames(recording, ch, all) {
  const r = await fetch("/test/frames", {
    method: "POST",
    body: JSON.stringify({ recording, actions: ch.actions, minFrames: ch.minFrames, maxFrames: ch.maxFrames, all: !!all }),
  });
  if (r.status === 409) return null;
  if (!r.ok) throw new Error("test server: frames: " + r.status);
  return (await r.json()).map(unb64);
}

async function perform(c, op, recording) {
  for (let i = 0; i < 40; i++) {
    const ch = await c.challenge();
    const fs = await frames(recording, ch, false);
    if (fs) return await c[op](ch, fs);
  }
  throw new Error("no challenge the recording can answer");
}

async function refusal(p) {
  try { await p; return null; } catch (e) { return { name: e.name, code: e.code, sealed: e.sealed, message: e.message }; }
}

function summary(r) {
  return { status: r.status, uniqueId: r.uniqueId, entropy: r.entropy ? hex(r.entropy) : null,
           signedReceipt: b64(r.signedReceipt), attestation: b64(r.attestation) };
}

async function story() {
  await loadSDK();
  log("sdk " + facesign.version);
  const root = await (await fetch("/test/root.pem")).text();
  const api = await (await fetch("/test/api")).text(); // another origin: CORS
  const out = {};
  out.untrusted = await refusal((async () => {
    const c = await facesign.newClient({ url: api, anyMeasurement: true }); // AWS root only
    return c.attest();
  })());
  const c = await facesign.newClient({ url: api, rootsPEM: [root], anyMeasurement: true });
  const att = await c.attest();
  out.attestation = { moduleId: att.moduleId, pcr0: att.pcrs["0"], engine: att.engine, policyHash: att.policyHash };
  log("attested " + att.moduleId);
  const enrol = await perform(c, "enroll", "A1");
  out.enrol = summary(enrol);
  log("enrol " + out.enrol.status);
  out.again = summary(await perform(c, "enroll", "A2"));
  log("again " + out.again.status);
  out.login = summary(await perform(c, "login", "A2"));
  log("login " + out.login.status);
  const w = await facesign.wallet(enrol.entropy);
  out.wallet = { mnemonic: w.mnemonic, facesignAddress: w.facesignAddress, evmAddress: w.evmAddress,
                 x25519PublicKey: w.x25519PublicKey, signature: await w.signPersonal("facesign browser test") };
  // A photo held to the camera: the enclave refuses it, inside the sealed answer.
  const ch = await c.challenge();
  const photo = await frames("Photo", ch, true);
  out.photo = await refusal(c.enroll(ch, photo));
  // The same challenge again: the SDK refuses before sending anything.
  out.reused = await refusal(c.enroll(ch, photo));
  out.badArgument = await refusal(c.login({ id: "nope" }, [new Uint8Array(1)]));
  return out;
}

story().then(
  out => { window.__story = JSON.stringify({ ok: true, out }); },
  err => { window.__story = JSON.stringify({ ok: false, error: String(err && err.stack || err) }); },
);
