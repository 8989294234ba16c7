// FaceSign enrolment page (main thread): the views, the camera and the
// guidance. Everything that touches keys, frames or the enclave runs in
// worker.js. Nothing is written to storage, cookies, the URL or the console.
"use strict";

(() => {
  const me = document.currentScript.dataset;
  const $ = (id) => document.getElementById(id);
  const abs = (u) => new URL(u, document.baseURI).href;
  let stepTimeoutMs = 40000; // no progress for this long: the capture stops (config.json)
  let msgs = null, config = null, worker = null, seq = 0;
  const pending = new Map();
  let stream = null, running = false, operation = null, lastProgress = 0, expiresAt = 0, generation = 0;

  function call(op, args, transfer) {
    return new Promise((resolve, reject) => {
      const id = ++seq;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, op, args }, transfer || []);
    });
  }

  function onWorker(ev) {
    const { id, ok, value, error } = ev.data;
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    if (ok) p.resolve(value);
    else { const e = new Error(error.message); e.code = error.code; e.sealed = error.sealed; p.reject(e); }
  }

  // Views: one visible at a time; focus moves to its heading.
  function show(id) {
    for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== id;
    const h = document.querySelector("#" + id + " h2");
    if (h) { h.setAttribute("tabindex", "-1"); h.focus({ preventScroll: false }); }
  }

  function problem(code, retry) {
    const m = msgs.refusal[code] || msgs.refusal.client_error;
    $("problem-text").textContent = m[0];
    $("problem-next").textContent = m[1];
    $("problem-code").textContent = code;
    $("b-retry").hidden = !retry;
    $("b-retry").onclick = retry || null;
    stopCamera();
    show("v-problem");
  }

  function setPrompt(text) {
    const p = $("prompt");
    if (p.textContent !== text) p.textContent = text;
  }

  function guidanceText(g) {
    if (g.code === "action") return msgs.action[g.action] || g.action;
    return msgs.guide[g.code] || msgs.guide.starting;
  }

  function setProgress(g) {
    const n = g.steps || 1;
    const done = g.done ? n : g.step + (g.code === "action" ? 0.5 : 0);
    $("progress").max = n;
    $("progress").value = done;
    $("progress-text").textContent = g.done ? "All " + n + " moves done" : "Move " + Math.min(g.step + 1, n) + " of " + n;
    // The list of moves: done ones ticked (and said so in words), the
    // current one marked as the step in progress.
    const items = $("moves").children;
    for (let i = 0; i < items.length; i++) {
      const done = g.done || i < g.step;
      items[i].classList.toggle("done", done);
      items[i].querySelector(".visually-hidden").textContent = done ? " (done)" : "";
      if (!done && i === g.step) items[i].setAttribute("aria-current", "step");
      else items[i].removeAttribute("aria-current");
    }
    const line = $("oval-line");
    const good = !["no_face", "several_faces", "move_closer", "move_back", "centre_face", "more_light"].includes(g.code);
    line.classList.toggle("good", good);
  }

  // ---- camera ----
  async function openCamera() {
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return problem("camera_insecure", null);
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } }, audio: false,
      });
    } catch (e) {
      const n = e && e.name;
      const code = n === "NotAllowedError" || n === "SecurityError" ? "camera_denied"
        : n === "NotFoundError" || n === "OverconstrainedError" ? "camera_missing"
        : n === "NotReadableError" || n === "AbortError" ? "camera_busy" : "camera_missing";
      return problem(code, () => show("v-camera"));
    }
    const v = $("video");
    v.srcObject = stream;
    await v.play().catch(() => {});
    show("v-capture");
    await begin();
  }

  function stopCamera() {
    running = false;
    if (stream) { for (const t of stream.getTracks()) t.stop(); stream = null; }
    const v = $("video");
    v.srcObject = null;
  }

  // ---- capture ----
  // showMoves lists every move of the challenge before the first is asked
  // for, so that a person who cannot do one of them can ask for other
  // moves at once instead of after doing the others.
  function showMoves(actions) {
    const ol = $("moves");
    ol.textContent = "";
    for (const a of actions || []) {
      const li = document.createElement("li");
      li.textContent = msgs.action[a] || a;
      const state = document.createElement("span");
      state.className = "visually-hidden";
      li.appendChild(state);
      ol.appendChild(li);
    }
    if (ol.children.length) ol.dataset.try = String(Number(ol.dataset.try) + 1); // a new list
  }

  async function begin() {
    setPrompt(msgs.guide.starting);
    showMoves([]);
    setProgress({ step: 0, steps: 2, code: "starting" });
    let ch;
    try {
      ch = await call("start", { operation });
    } catch (e) {
      return problem(e.code, retryCapture);
    }
    showMoves(ch.actions);
    setProgress({ step: 0, steps: ch.actions.length, code: "starting" });
    expiresAt = ch.expiresAt;
    lastProgress = Date.now();
    running = true;
    loop(++generation);
  }

  // loop runs one capture; a loop of an earlier capture (other moves, a
  // retry) stops at its next step, even if a frame was still in flight.
  async function loop(gen) {
    const v = $("video");
    const mine = () => running && gen === generation;
    while (mine()) {
      if (v.readyState < 2 || !v.videoWidth) { await new Promise(r => setTimeout(r, 100)); continue; }
      let g;
      try {
        const bitmap = await createImageBitmap(v);
        g = await call("frame", { bitmap }, [bitmap]);
      } catch (e) {
        if (!mine()) return;
        return problem(e.code, retryCapture);
      }
      if (!mine()) return;
      if (g.kept) lastProgress = Date.now();
      setPrompt(guidanceText(g));
      setProgress(g);
      if (g.done) { running = false; return send(); }
      const now = Date.now();
      if (now - lastProgress > stepTimeoutMs || now > expiresAt - 3000) {
        running = false;
        await call("cancel").catch(() => {});
        return problem("capture_timeout", retryCapture);
      }
      await new Promise(r => setTimeout(r, 30));
    }
  }

  async function retryCapture() {
    show("v-camera");
    await openCamera();
  }

  async function otherMoves() {
    const b = $("b-other-moves");
    if (b.disabled) return; // already asking for other moves
    b.disabled = true;
    running = false;
    try {
      await call("cancel").catch(() => {});
      // Let the frame in flight finish before a new challenge.
      await new Promise(r => setTimeout(r, 50));
      await begin();
    } finally {
      b.disabled = false;
    }
  }

  async function send() {
    stopCamera();
    show("v-sending");
    let r;
    try {
      r = await call("submit");
    } catch (e) {
      return problem(e.code, retryCapture);
    }
    result(r);
  }

  function result(r) {
    const s = msgs.status;
    let text, wallet = !!r.facesignAddress;
    if (r.status === "new") text = s.new;
    else if (r.status === "existing") text = operation === "login" ? s.login_existing : s.existing;
    else if (r.status === "deleted") text = s.deleted;
    else if (r.status === "not_found") text = operation === "remove" ? s.delete_not_found : s.login_not_found;
    else text = r.status;
    $("h-result").textContent = r.status === "deleted" ? "Deleted" : r.status === "not_found" ? "Not found" : r.status === "new" ? "Your new wallet" : "Your wallet";
    $("result-text").textContent = text;
    $("addresses").hidden = !wallet;
    $("wallet-tools").hidden = !wallet;
    $("a-facesign").textContent = wallet ? r.facesignAddress : "";
    $("a-evm").textContent = wallet ? r.evmAddress : "";
    $("signature").textContent = "";
    hideMnemonic();
    show("v-result");
  }

  function hideMnemonic() {
    $("mnemonic").textContent = "";
    $("mnemonic-box").hidden = true;
    $("reveal-warn").hidden = true;
    $("b-reveal").hidden = false;
  }

  function home() {
    stopCamera();
    call("forget").catch(() => {});
    hideMnemonic();
    $("delete-confirm").checked = false;
    $("b-delete-go").disabled = true;
    show("v-intro");
  }

  function choose(op) {
    operation = op;
    if (op === "remove") { show("v-delete"); return; }
    show("v-camera");
  }

  async function main() {
    $("b-enroll").onclick = () => choose("enroll");
    $("b-login").onclick = () => choose("login");
    $("b-delete").onclick = () => choose("remove");
    $("delete-confirm").onchange = (e) => { $("b-delete-go").disabled = !e.target.checked; };
    $("b-delete-go").onclick = () => show("v-camera");
    $("b-delete-cancel").onclick = home;
    $("b-camera").onclick = openCamera;
    $("b-camera-back").onclick = home;
    $("b-cancel").onclick = async () => { running = false; await call("cancel").catch(() => {}); home(); };
    $("b-other-moves").onclick = otherMoves;
    $("b-home").onclick = home;
    $("b-done").onclick = home;
    $("b-reveal").onclick = () => { $("reveal-warn").hidden = false; $("b-reveal").hidden = true; $("b-reveal-go").focus(); };
    $("b-reveal-cancel").onclick = () => { hideMnemonic(); $("b-reveal").focus(); };
    $("b-reveal-go").onclick = async () => {
      const { mnemonic } = await call("reveal");
      $("mnemonic").textContent = mnemonic;
      $("reveal-warn").hidden = true;
      $("mnemonic-box").hidden = false;
      $("b-hide").focus();
    };
    $("b-hide").onclick = () => { hideMnemonic(); $("b-reveal").focus(); };
    $("b-sign").onclick = async () => {
      try {
        const { signature } = await call("sign", { message: $("msg").value });
        $("signature").textContent = signature;
      } catch (e) { $("signature").textContent = "—"; }
    };

    [msgs, config] = await Promise.all([
      fetch(me.messages).then(r => r.json()),
      fetch(me.config, { cache: "no-store" }).then(r => r.json()),
    ]);
    if (config.simulator) $("sim-banner").hidden = false;
    if (config.stepTimeoutMs > 0) stepTimeoutMs = config.stepTimeoutMs;
    worker = new Worker(abs(me.worker));
    worker.onmessage = onWorker;
    const status = $("attest-status");
    try {
      await call("init", { wasmExec: abs(me.wasmExec), wasm: abs(me.wasm), config });
      const a = await call("attest");
      status.textContent = config.simulator
        ? "Secure enclave verified — simulator (not for real identities)"
        : "Secure enclave verified";
      status.className = "status ok";
      $("attest-detail").textContent = "Verified: the attestation's signature chain, a fresh nonce, "
        + (config.simulator ? "the simulator's root (simulator mode), " : "the pinned measurements (PCRs), ")
        + "and the policy: engine " + a.engine + ", PCR0 " + a.pcr0.slice(0, 16) + "…";
      $("engine").textContent = "enclave engine " + a.engine;
      for (const b of ["b-enroll", "b-login", "b-delete"]) $(b).disabled = false;
    } catch (e) {
      status.textContent = "The secure enclave could not be verified";
      status.className = "status bad";
      problem("attestation_failed", null);
      $("problem-code").textContent = "attestation_failed (" + e.code + ")";
    }
  }

  main().catch(() => {
    const s = $("attest-status");
    s.textContent = "The page could not start. Reload it.";
    s.className = "status bad";
  });
})();
