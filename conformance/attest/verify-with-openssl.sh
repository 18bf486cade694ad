#!/bin/sh
# Verify a signed conformance report with openssl (>= 1.1.1), jq and coreutils only.
# Usage: sh verify-with-openssl.sh REPORT_DIR PUBLIC_KEY.pem [LINE]
#   LINE 1 (the default) is the supplier's signature; 2, 3, ... are countersignatures.
#   Get PUBLIC_KEY.pem from the signer directly (never from the report folder) and compare the key id.
set -eu
dir=$1
pub=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
line=${3:-1}
cd "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. Take one envelope (one JSON object per line) and decode its payload and signature (base64).
sed -n "${line}p" report.intoto.jsonl > "$work/envelope.json"
test -s "$work/envelope.json" || { echo "FAIL: report.intoto.jsonl has no line $line"; exit 1; }
type=$(jq -j .payloadType "$work/envelope.json")
jq -j .payload "$work/envelope.json" | base64 -d > "$work/payload.json"
jq -j '.signatures[0].sig' "$work/envelope.json" | base64 -d > "$work/sig.bin"

# 2. Rebuild the signed bytes: PAE = "DSSEv1 <len(type)> <type> <len(payload)> <payload>" (byte lengths).
{ printf 'DSSEv1 %d %s %d ' "$(printf %s "$type" | wc -c)" "$type" "$(wc -c < "$work/payload.json")"
  cat "$work/payload.json"; } > "$work/pae.bin"

# 3. Verify the signature: Ed25519 signs the PAE itself; ECDSA P-256 signs its SHA-256 (DER signature).
if openssl pkey -pubin -in "$pub" -noout -text | head -n 1 | grep -q ED25519; then
  openssl pkeyutl -verify -pubin -inkey "$pub" -rawin -in "$work/pae.bin" -sigfile "$work/sig.bin"
else
  openssl dgst -sha256 -verify "$pub" -signature "$work/sig.bin" "$work/pae.bin"
fi
echo "key id: sha256:$(openssl pkey -pubin -in "$pub" -outform DER | sha256sum | cut -d' ' -f1)"

# 4. The payload must be an in-toto Statement of a type we know.
test "$type" = application/vnd.in-toto+json || { echo "FAIL: payload type is $type"; exit 1; }
test "$(jq -r ._type "$work/payload.json")" = https://in-toto.io/Statement/v1 || { echo "FAIL: not a Statement"; exit 1; }
kind=$(jq -r .predicateType "$work/payload.json")

# 5. Recompute the digests of what was signed and compare them with the signed subjects.
subject() { jq -r --arg n "$1" --arg a "$2" '.subject[] | select(.name == $n) | .digest[$a]' "$work/payload.json"; }
same() {
  if [ "$2" = "$3" ]; then echo "OK: $1 unchanged"; else echo "FAIL: $1 changed (signed $2, now $3)"; exit 1; fi
}
same report.json "$(subject report.json sha256)" "$(sha256sum report.json | cut -d' ' -f1)"
case $kind in
  https://in-toto.io/attestation/test-result/v0.1)
    if [ -d evidence ]; then
      evidence=$(cd evidence && find . -type f | cut -c3- | LC_ALL=C sort | xargs -r sha256sum | sha256sum | cut -d' ' -f1)
    else
      evidence=$(printf '' | sha256sum | cut -d' ' -f1)
    fi
    same evidence/ "$(subject evidence/ dirHash)" "$evidence"
    # 6. Read what was claimed: result, profile / OpenAPI / harness digests, target, times, verdict, counts.
    jq '.predicate | {result, configuration, failedTests, warnedTests, run: .interopConformance}' "$work/payload.json"
    ;;
  https://in-toto.io/attestation/svr/v0.1)
    supplier=$(head -n 1 report.intoto.jsonl | jq -j .payload | base64 -d | sha256sum | cut -d' ' -f1)
    same supplier-statement "$(subject supplier-statement sha256)" "$supplier"
    # 6. Read what the countersigner asserts: verifier, policy (profile digest), time, properties.
    jq .predicate "$work/payload.json"
    ;;
  *) echo "FAIL: unexpected predicate type $kind"; exit 1 ;;
esac
echo "OK: line $line of report.intoto.jsonl verified"
