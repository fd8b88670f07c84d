#!/usr/bin/env bash
# Verifies an Evident evidence pack with standard tools only: unzip, sha256sum, openssl 3
# (for Ed25519 and RFC 3161) and python3 (standard library). Nothing is written outside a
# temporary folder, which is removed at the end.
#   usage: verify-pack.sh PACK.zip [FINGERPRINT [TSA_CA]]
# FINGERPRINT is the SHA-256 (hex) of the instance's 32-byte public key, as Evident shows it
# (give "" to skip it). TSA_CA is the PEM certificate of the CA of the time-stamping authority,
# used when the pack holds a timestamp (manifest.tsr).
# Exit 0: every check passed; 1: a check failed (the FAIL line says which); 2: usage error.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 3 ]; then
  echo "usage: verify-pack.sh PACK.zip [FINGERPRINT [TSA_CA]]" >&2
  exit 2
fi
pack=$(realpath -- "$1")
expected=${2:-}
tsa_ca=${3:-}
if [ -n "$tsa_ca" ]; then
  [ -f "$tsa_ca" ] || { echo "verify-pack.sh: TSA_CA $tsa_ca: no such file" >&2; exit 2; }
  tsa_ca=$(realpath -- "$tsa_ca")
fi
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
fail() { echo "FAIL $*"; exit 1; }
ok() { echo "ok   $*"; }

# 1. List the entries without extracting; refuse any name that could land outside the folder.
unzip -Z1 "$pack" >"$work/names" 2>/dev/null || fail "not a readable zip archive (truncated?)"
ok "zip readable"
if LC_ALL=C grep -nE '^/|\\|:|(^|/)\.\.?(/|$)|[[:cntrl:]]' "$work/names"; then
  fail "unsafe entry name above (absolute, backslash, colon, . or ..): refused before extracting"
fi
[ -z "$(sort "$work/names" | uniq -d)" ] || fail "an entry name appears twice"
ok "entry names are safe"

# 2. Extract into the temporary folder only (-n: never overwrite).
mkdir "$work/pack"
unzip -q -n "$pack" -d "$work/pack" || fail "extracting failed"
cd "$work/pack"

# 3. manifest.json is signed by the key in instance.pem (raw Ed25519 needs -rawin).
openssl pkeyutl -verify -pubin -inkey instance.pem -rawin -in manifest.json -sigfile manifest.sig >/dev/null ||
  fail "manifest.sig is not a signature of manifest.json by instance.pem"
ok "manifest.sig verifies manifest.json with instance.pem"

# 4. The timestamp, when there is one: manifest.tsr is an RFC 3161 token over the exact bytes
# of manifest.json. With TSA_CA, openssl also checks the TSA's certificate chain; without it,
# the certificate the token carries is the anchor, and its fingerprint is printed to compare
# with the one the TSA publishes.
if [ -f manifest.tsr ]; then
  openssl cms -verify -inform DER -in manifest.tsr -noverify -signer "$work/tsa.pem" -out /dev/null 2>/dev/null ||
    fail "manifest.tsr: not a timestamp token whose signature verifies with the certificate it carries"
  if [ -n "$tsa_ca" ]; then
    anchor=(-CAfile "$tsa_ca")
  else
    anchor=(-CAfile "$work/tsa.pem" -partial_chain)
  fi
  openssl ts -verify -data manifest.json -in manifest.tsr -token_in "${anchor[@]}" >/dev/null 2>&1 ||
    fail "manifest.tsr does not time-stamp this manifest.json (other data, a changed manifest or an untrusted TSA)"
  at=$(openssl ts -reply -in manifest.tsr -token_in -token_out -text 2>/dev/null | sed -n 's/^Time stamp: //p')
  tsa=$(openssl x509 -in "$work/tsa.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
  tsa_fp=$(openssl x509 -in "$work/tsa.pem" -outform DER | sha256sum | cut -d' ' -f1)
  ok "manifest.tsr time-stamps manifest.json at $at by $tsa (certificate sha256 $tsa_fp)"
  if [ -n "$tsa_ca" ]; then
    ok "the TSA's certificate chains to $(basename -- "$tsa_ca")"
  else
    echo "skip the TSA's certificate not checked against a CA (give TSA_CA, or compare its fingerprint)"
  fi
else
  echo "skip manifest.tsr: none, so no trusted time: the pack's times are the instance's own clock"
fi

# 5. The key, the file list, SHA256SUMS, the audit chain and the records (Python stdlib).
python3 - "$work" "$expected" <<'PY' || exit 1
import base64, hashlib, json, os, sys

work, expected = sys.argv[1], sys.argv[2].strip().lower()
def fail(msg): print("FAIL " + msg); sys.exit(1)
def ok(msg): print("ok   " + msg)
def sha256(data): return hashlib.sha256(data).hexdigest()

m = json.load(open("manifest.json", "rb"))
if m.get("format") != "evident-pack-v1": fail("manifest.json: unknown format")
k, a = m["instance_key"], m["audit"]

# The key: instance.pem holds the manifest's key; fingerprint = sha256 of the 32 key bytes.
key = bytes.fromhex(k["public_key"])
fp = sha256(key)
if fp != k["fingerprint"]: fail("manifest.json: fingerprint is not the key's")
pem = open("instance.pem").read().splitlines()
der = base64.b64decode("".join(l for l in pem if not l.startswith("-----")))
if der != bytes.fromhex("302a300506032b6570032100") + key: fail("instance.pem is not the manifest's key")
if expected and expected != fp: fail(f"the pack's key has fingerprint {fp}, expected {expected}")
print(("ok   key fingerprint %s is the expected one" if expected else
       "skip key fingerprint %s not compared (give FINGERPRINT to tie the pack to your instance)") % fp)

# Exactly the files the manifest lists; SHA256SUMS is derived from it, so `sha256sum -c`
# below checks signed hashes.
listed = {f["path"]: f["sha256"] for f in m["files"]}
for f in m["files"]:
    if not f["path"].startswith("evidence/" + f["evidence_id"] + "/"): fail(f["path"] + ": not under its evidence id")
listed[a["entries"]] = a["entries_sha256"]
listed[k["pem"]] = k["pem_sha256"]
names = open(os.path.join(work, "names")).read().splitlines()
allowed = set(listed) | {"manifest.json", "manifest.sig", "SHA256SUMS"}
for n in names:
    if n not in allowed and n != "manifest.tsr": fail(n + ": in the zip but not listed in the manifest (added)")
for n in sorted(allowed):
    if n not in names: fail(n + ": missing from the zip")
ok("no file added, none missing")
sums = "".join(f"{h}  {p}\n" for p, h in sorted(listed.items()))
if open("SHA256SUMS", "rb").read() != sums.encode(): fail("SHA256SUMS differs from the manifest")
ok("SHA256SUMS agrees with the manifest")

# The audit segment: each entry's hash covers its fields (length-prefixed) and the hash of
# the entry before it; a payload may be omitted (null) only for records outside the pack.
def entry_hash(e):
    h = hashlib.sha256(b"evident-audit-v1")
    for v in (str(e["seq"]), str(e["at"]), e["actor"], e["action"], e["subject"], e["payload_hash"], e["prev_hash"]):
        b = v.encode()
        h.update(len(b).to_bytes(8, "big"))
        h.update(b)
    return h.hexdigest()

items = {"evidence:" + f["evidence_id"] for f in m["files"]}
recorded, prev, count = {}, None, 0
with open(a["entries"], "rb") as lines:
    for line in lines:
        e = json.loads(line)
        seq = e["seq"]
        if prev and seq != prev["seq"] + 1: fail(f"audit-log entry {prev['seq'] + 1} is missing")
        if e["payload"] is None:
            if e["subject"] in items: fail(f"audit-log entry {seq}: payload omitted for a pack item")
        elif sha256(e["payload"].encode()) != e["payload_hash"]: fail(f"audit-log entry {seq}: its payload was altered")
        if entry_hash(e) != e["hash"]: fail(f"audit-log entry {seq}: its fields no longer match its hash")
        if prev and e["prev_hash"] != prev["hash"]: fail(f"audit-log entry {seq}: does not link to the entry before it")
        if e["action"] in ("evidence.add", "evidence.supersede") and e["subject"] in items:
            recorded.setdefault(e["subject"], e)
        prev, count = e, count + 1
c = a["checkpoint"]
if prev is None or (prev["seq"], prev["hash"]) != (c["seq"], c["hash"]):
    fail(f"the audit segment does not end at the checkpoint (entry {c['seq']})")
ok(f"audit entries {a['first_seq']} to {c['seq']} link up to the checkpoint ({count} entries)")

# Each item's recording entry says what the manifest says.
for f in m["files"]:
    e = recorded.get("evidence:" + f["evidence_id"])
    if e is None: fail(f"evidence {f['evidence_id']}: no entry records it")
    p = json.loads(e["payload"])
    links = sorted(({"control_id": l["control_id"], "requirement": l["requirement"]} for l in f["controls"]),
                   key=lambda l: l["control_id"])
    want = {"id": f["evidence_id"], "sha256": f["sha256"], "size": f["size"], "title": f["title"],
            "file_name": f["file_name"], "media_type": f["media_type"], "captured_at": f["captured_at_ms"],
            "supersedes": f["supersedes"], "controls": links}
    for field, value in want.items():
        if p.get(field) != value:
            fail(f"evidence {f['evidence_id']}: entry {e['seq']} recorded {field} = {p.get(field)!r}, the manifest says {value!r}")
ok(f"{len(m['files'])} evidence items agree with the entries that recorded them")

# The checkpoint's signed message, for openssl below.
open(os.path.join(work, "checkpoint.msg"), "wb").write(f"evident-checkpoint-v1\n{c['seq']}\n{c['hash']}\n".encode())
open(os.path.join(work, "checkpoint.sig"), "wb").write(bytes.fromhex(c["signature"]))
PY

# 6. Every listed file has the hash the signed manifest states.
sha256sum --quiet --strict -c SHA256SUMS 2>&1 || fail "a file's sha256 differs from SHA256SUMS (named above)"
ok "sha256sum -c SHA256SUMS"

# 7. The checkpoint the audit segment ends at is signed by the same key.
openssl pkeyutl -verify -pubin -inkey instance.pem -rawin -in "$work/checkpoint.msg" -sigfile "$work/checkpoint.sig" >/dev/null ||
  fail "the checkpoint's signature does not verify with instance.pem"
ok "checkpoint signature verifies with instance.pem"
echo "pack verified"
