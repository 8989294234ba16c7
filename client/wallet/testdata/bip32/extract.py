#!/usr/bin/env python3
"""Regenerates bip32/vectors.json from BIP-32's text (bip-0032.mediawiki).

Usage: python3 extract.py bip-0032.mediawiki > vectors.json

It keeps the spec's data as written: for test vectors 1-4 the seed and, per
chain, the derivation path and the serialized extended public and private
keys; for test vector 5 each invalid extended key and the reason given.
"""
import json
import re
import sys

text = open(sys.argv[1], encoding="utf-8").read()
out = {"valid": [], "invalid": []}
parts = re.split(r"^===Test vector (\d+)===$", text, flags=re.M)
for num, body in zip(parts[1::2], parts[2::2]):
    body = body.split("==Acknowledgements==")[0]
    if num == "5":
        for key, why in re.findall(r"^\* (\S+) \((.*)\)$", body, flags=re.M):
            out["invalid"].append({"key": key, "reason": why})
        continue
    seed = re.search(r"Seed \(hex\): ([0-9a-f]+)", body).group(1)
    chains = []
    for path, xpub, xprv in re.findall(
        r"^\* Chain (\S+)\n\*\* ext pub: (\S+)\n\*\* ext prv: (\S+)$", body, flags=re.M
    ):
        chains.append({"path": path.replace("<sub>H</sub>", "'"), "xpub": xpub, "xprv": xprv})
    out["valid"].append({"vector": int(num), "seed": seed, "chains": chains})
json.dump(out, sys.stdout, indent=1)
print()
