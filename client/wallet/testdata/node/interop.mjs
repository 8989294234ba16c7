// Real-peer check of client/wallet, run by interop_test.go.
// stdin: {"cases": [{"entropy": hex, "message": hex, "ed25519_sig": hex, "eip191_sig": hex}],
//         "x25519_info": string}
// stdout: {"wordlist_sha256": hex, "results": [...]}: what @scure/bip39, tweetnacl,
// ethers and node:crypto derive and verify on their own, for the Go test to compare.
import { createHash, hkdfSync } from "node:crypto";
import { entropyToMnemonic, mnemonicToSeedSync, validateMnemonic } from "@scure/bip39";
import { wordlist } from "@scure/bip39/wordlists/english.js";
import nacl from "tweetnacl";
import { HDNodeWallet, verifyMessage, SigningKey } from "ethers";

const hex = (u8) => Buffer.from(u8).toString("hex");
const unhex = (s) => new Uint8Array(Buffer.from(s, "hex"));

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { cases, x25519_info } = JSON.parse(input);

const results = [];
for (const c of cases) {
  const entropy = unhex(c.entropy);
  const message = unhex(c.message);
  const mnemonic = entropyToMnemonic(entropy, wordlist);
  const seed = mnemonicToSeedSync(mnemonic, "");
  const ed = nacl.sign.keyPair.fromSeed(seed.subarray(0, 32));
  const evm = HDNodeWallet.fromPhrase(mnemonic); // default path m/44'/60'/0'/0/0
  const encSecret = new Uint8Array(hkdfSync("sha256", seed, new Uint8Array(0), x25519_info, 32));
  const enc = nacl.box.keyPair.fromSecretKey(encSecret);
  results.push({
    mnemonic,
    mnemonic_valid: validateMnemonic(mnemonic, wordlist),
    seed: hex(seed),
    ed25519_public_key: hex(ed.publicKey),
    ed25519_signature: hex(nacl.sign.detached(message, ed.secretKey)),
    ed25519_verifies_ours: nacl.sign.detached.verify(message, unhex(c.ed25519_sig), ed.publicKey),
    evm_path: evm.path,
    evm_address: evm.address,
    evm_public_key: SigningKey.computePublicKey(evm.publicKey, false).slice(2),
    eip191_signature: (await evm.signMessage(message)).slice(2),
    eip191_recovered_from_ours: verifyMessage(message, "0x" + c.eip191_sig),
    x25519_public_key: hex(enc.publicKey),
  });
}
const wordlistSHA = createHash("sha256").update(wordlist.join("\n") + "\n").digest("hex");
process.stdout.write(JSON.stringify({ wordlist_sha256: wordlistSHA, results }));
