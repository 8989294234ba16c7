// Real-peer check of package credential, run by interop_test.go.
// The peers are the libraries idOS issues and verifies with
// (@digitalbazaar/vc, @digitalbazaar/ed25519-signature-2020,
// @digitalbazaar/ed25519-verification-key-2020) and tweetnacl, its box.
// The JSON-LD document loader serves the very files package credential
// embeds (../../contexts) and nothing else.
//
// stdin: {
//   "key": issuer key file (Ed25519VerificationKey2020 JSON, private part optional),
//   "verify": [{"credential": string (JSON text), "now": ISO date}],
//   "open": [{"record": record object, "holder_secret": hex}],
//   "seal": [{"plaintext": string, "holder_public": hex}],
//   "issue": [{"credential": unsigned credential object, "now": ISO date}],
//   "canonize": [JSON-LD documents]
// }
// stdout: {"verify": [{"verified": bool, "error": string}], "open": [{"plaintext": string|null}],
//          "seal": [record objects], "issue": [signed credential objects],
//          "canonize": [N-Quads strings, or {"error": message}]}
import { readFileSync } from "node:fs";
import * as vc from "@digitalbazaar/vc";
import { Ed25519Signature2020 } from "@digitalbazaar/ed25519-signature-2020";
import { Ed25519VerificationKey2020 } from "@digitalbazaar/ed25519-verification-key-2020";
import nacl from "tweetnacl";
import jsonld from "jsonld";

const contextDir = new URL("../../contexts/", import.meta.url);
const contexts = new Map(
  Object.entries({
    "https://www.w3.org/2018/credentials/v1": "v1.json",
    "https://idos-network.github.io/idos-sdk-js/credentials/idos-credentials-v1.json": "idos-credentials-v1.json",
    "https://w3id.org/security/suites/ed25519-2020/v1": "ed25519-signature-2020-v1.json",
    "https://idos-network.github.io/idos-sdk-js/credentials/idos-credential-subject-face-id-v1.json":
      "idos-credential-subject-face-id-v1.json",
  }).map(([url, file]) => [url, JSON.parse(readFileSync(new URL(file, contextDir), "utf8"))]),
);
const documentLoader = async (url) => {
  const document = contexts.get(url);
  if (!document) throw new Error(`static loader: unknown URL ${url}`);
  return { contextUrl: null, documentUrl: url, document };
};

const b64 = (u8) => Buffer.from(u8).toString("base64");
const unb64 = (s) => new Uint8Array(Buffer.from(s, "base64"));
const unhex = (s) => new Uint8Array(Buffer.from(s, "hex"));

let input = "";
for await (const chunk of process.stdin) input += chunk;
const req = JSON.parse(input);

const key = await Ed25519VerificationKey2020.from(req.key);
const controller = {
  "@context": "https://w3id.org/security/v2",
  id: req.key.controller,
  assertionMethod: [req.key.id],
  authentication: [req.key.id],
};

const out = { verify: [], open: [], seal: [], issue: [], canonize: [] };

for (const v of req.verify ?? []) {
  let credential;
  try {
    credential = JSON.parse(v.credential);
  } catch (e) {
    out.verify.push({ verified: false, error: `JSON: ${e.message}` });
    continue;
  }
  try {
    const suite = new Ed25519Signature2020({ key, verificationMethod: req.key.id });
    const res = await vc.verifyCredential({ credential, suite, controller, documentLoader, now: v.now });
    const errors = [res.error, ...(res.results ?? []).map((r) => r.error)].filter(Boolean);
    out.verify.push({ verified: res.verified, error: errors.map((e) => e.message ?? String(e)).join("; ") });
  } catch (e) {
    out.verify.push({ verified: false, error: e.message });
  }
}

for (const o of req.open ?? []) {
  const full = unb64(o.record.content);
  const plain = nacl.box.open(
    full.subarray(nacl.box.nonceLength),
    full.subarray(0, nacl.box.nonceLength),
    unb64(o.record.encryptor_public_key),
    unhex(o.holder_secret),
  );
  out.open.push({ plaintext: plain ? Buffer.from(plain).toString("utf8") : null });
}

// Seal the way idOS's encrypt() does: random nonce, ephemeral key, nonce ‖ box.
for (const s of req.seal ?? []) {
  const nonce = nacl.randomBytes(nacl.box.nonceLength);
  const eph = nacl.box.keyPair();
  const boxed = nacl.box(new TextEncoder().encode(s.plaintext), nonce, unhex(s.holder_public), eph.secretKey);
  const full = new Uint8Array(nonce.length + boxed.length);
  full.set(nonce, 0);
  full.set(boxed, nonce.length);
  out.seal.push({ content: b64(full), encryptor_public_key: b64(eph.publicKey) });
}

for (const i of req.issue ?? []) {
  const suite = new Ed25519Signature2020({ key, date: i.now });
  out.issue.push(await vc.issue({ credential: i.credential, suite, documentLoader, now: i.now }));
}

// Canonicalise the way jsonld-signatures does (RDFC-1.0 = URDNA2015, safe mode).
for (const doc of req.canonize ?? []) {
  try {
    out.canonize.push(
      await jsonld.canonize(doc, {
        algorithm: "RDFC-1.0",
        format: "application/n-quads",
        base: null,
        safe: true,
        documentLoader,
      }),
    );
  } catch (e) {
    out.canonize.push({ error: e.message });
  }
}

process.stdout.write(JSON.stringify(out));
