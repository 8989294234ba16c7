#!/bin/sh
# scripts/eif.sh — build the enclave image reproducibly, without Docker or
# nitro-cli (run by `make eif`, after `make build` made bin/facesign and
# bin/facesign-enclave with CGO_ENABLED=0 -trimpath -buildvcs=false).
#
# Inputs (see docs/eif.md):
#   ARCH=x86_64|aarch64  the enclave's CPU (default x86_64). aarch64 packs
#                     bin/facesign-enclave-arm64 (make build makes it) for
#                     Graviton hosts and writes bin/facesign-enclave-aarch64.eif.
#   NITRO_BLOBS=DIR   production inputs: a directory laid out like
#                     aws-nitro-enclaves-cli's blobs/x86_64 (bzImage,
#                     bzImage.config, cmdline, init, nsm.ko) or blobs/aarch64
#                     (Image, Image.config, cmdline, init, nsm.ko), e.g.
#                     /usr/share/nitro_enclaves/blobs/$ARCH. Use these for
#                     images that boot on Nitro.
#   otherwise         STAND-IN inputs fetched with apt from Debian bookworm
#                     (for aarch64 apt needs the arm64 architecture:
#                     dpkg --add-architecture arm64 && apt-get update),
#                     pinned by version and SHA-256: the cloud kernel as the
#                     kernel and busybox-static as the boot ramdisk's init.
#                     The image is well-formed and reproducible, but it is not
#                     a bootable Nitro image and its PCR0/PCR1 are not the
#                     production ones. PCR2 (the application) is the same.
#   EIF_KERNEL, EIF_KERNEL_CONFIG, EIF_CMDLINE, EIF_INIT, EIF_NSM
#                     override single inputs.
#   EIF_SIGN_CERT, EIF_SIGN_KEY   sign the image (adds PCR8).
#   FACESIGN_REGION, FACESIGN_KMS_KEY_ARN, FACESIGN_COUNTER_TABLE (and the
#   optional FACESIGN_* of docs/operations.md)
#                     the enclave's sealed-state settings: checked by
#                     "facesign enclave-env" (the enclave's own parser) and
#                     baked into the application ramdisk's env file, so they
#                     are part of PCR2. Without them the image is built but
#                     facesign-enclave refuses to boot.
#   SOURCE_DATE_EPOCH BuildTime in the metadata (default: last commit time).
#   EIF_OUT           output (default bin/facesign-enclave.eif).
set -eu
cd "$(dirname "$0")/.."

ARCH=${ARCH:-x86_64}
FACESIGN=bin/facesign
case "$ARCH" in
x86_64)
	ENCLAVE=bin/facesign-enclave
	OUT=${EIF_OUT:-bin/facesign-enclave.eif}
	CACHE=${EIF_CACHE:-bin/eif-inputs}
	;;
aarch64)
	ENCLAVE=bin/facesign-enclave-arm64
	OUT=${EIF_OUT:-bin/facesign-enclave-aarch64.eif}
	CACHE=${EIF_CACHE:-bin/eif-inputs-aarch64}
	;;
*)
	echo "eif.sh: ARCH=$ARCH: want x86_64 or aarch64" >&2
	exit 2
	;;
esac
for f in "$FACESIGN" "$ENCLAVE"; do
	[ -x "$f" ] || { echo "eif.sh: $f missing: run make build first" >&2; exit 1; }
done

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 1)
fi
VERSION=${EIF_VERSION:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo dev)}

# Stand-in inputs from Debian bookworm, pinned per architecture, and the
# stand-in kernel command line. On x86_64 it is the one nitro-cli uses
# (blobs/x86_64/cmdline); on aarch64 it is that line without the x86-only
# i8042 options — production aarch64 images take blobs/aarch64/cmdline
# from NITRO_BLOBS instead.
if [ "$ARCH" = aarch64 ]; then
	NITRO_CMDLINE="reboot=k panic=30 pci=off nomodules console=ttyS0 random.trust_cpu=on"
	DEBARCH=arm64
	KPKG=linux-image-6.1.0-47-cloud-arm64
	KVER=6.1.170-3
	KSHA=7fb763389f2e6fbbcf37f6b12d6dcc7be35aa2a2980abb32f4497afb4b7362bd
	KREL=6.1.0-47-cloud-arm64
	BPKG=busybox-static
	BVER=1:1.35.0-4+deb12u1+b1
	BSHA=732c9135564fc71337e0e05fb4da4d11e6c28c1834bce3e405e575afef2a52f5
	KBLOB=Image
else
	NITRO_CMDLINE="reboot=k panic=30 pci=off nomodules console=ttyS0 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd random.trust_cpu=on"
	DEBARCH=amd64
	KPKG=linux-image-6.1.0-47-cloud-amd64
	KVER=6.1.170-3
	KSHA=139e51253b0d93db1ba3eb87707f76f3c5a7d83a50a5e5aacbda010ad21bd73a
	KREL=6.1.0-47-cloud-amd64
	BPKG=busybox-static
	BVER=1:1.35.0-4+deb12u1+b1
	BSHA=3d3fdbe91d4660c873e14b092c213fe81c1da6362daa236eb25d0171eb108744
	KBLOB=bzImage
fi

# fetch PKG VERSION SHA256: download the .deb with apt into $CACHE (once) and
# check its SHA-256; print its path.
fetch() {
	deb=$(ls "$CACHE"/"$1"_*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$deb" ]; then
		mkdir -p "$CACHE"
		(cd "$CACHE" && apt-get download -q -o APT::Sandbox::User=root "$1:$DEBARCH=$2" >&2) || {
			echo "eif.sh: apt-get download $1:$DEBARCH=$2 failed. Run apt-get update (for arm64 after" >&2
			echo "  dpkg --add-architecture arm64), or fetch it from" >&2
			echo "  https://snapshot.debian.org/ if bookworm dropped that version, into $CACHE;" >&2
			echo "  or set NITRO_BLOBS / EIF_KERNEL / EIF_INIT (docs/eif.md)." >&2
			exit 1
		}
		deb=$(ls "$CACHE"/"$1"_*.deb | head -n1)
	fi
	echo "$3  $deb" | sha256sum -c --quiet >&2 || { echo "eif.sh: $deb: SHA-256 mismatch" >&2; exit 1; }
	echo "$deb"
}

# extract DEB PATH OUT: one file out of a .deb.
extract() {
	dpkg-deb --fsys-tarfile "$1" | tar -xOf - "$2" > "$3"
}

if [ -n "${NITRO_BLOBS:-}" ]; then
	KERNEL=${EIF_KERNEL:-$NITRO_BLOBS/$KBLOB}
	KCONFIG=${EIF_KERNEL_CONFIG:-$NITRO_BLOBS/$KBLOB.config}
	CMDLINE=${EIF_CMDLINE:-$(cat "$NITRO_BLOBS/cmdline")}
	INIT=${EIF_INIT:-$NITRO_BLOBS/init}
	NSM=${EIF_NSM:-$NITRO_BLOBS/nsm.ko}
	echo "eif.sh: production inputs ($ARCH) from $NITRO_BLOBS" >&2
else
	echo "eif.sh: NITRO_BLOBS not set: STAND-IN kernel and init from Debian (not bootable on Nitro; see docs/eif.md)" >&2
	if [ -z "${EIF_KERNEL:-}" ] || [ -z "${EIF_KERNEL_CONFIG:-}" ]; then
		kdeb=$(fetch "$KPKG" "$KVER" "$KSHA")
		[ -s "$CACHE/vmlinuz" ] || extract "$kdeb" "./boot/vmlinuz-$KREL" "$CACHE/vmlinuz"
		[ -s "$CACHE/config" ] || extract "$kdeb" "./boot/config-$KREL" "$CACHE/config"
	fi
	if [ -z "${EIF_INIT:-}" ]; then
		bdeb=$(fetch "$BPKG" "$BVER" "$BSHA")
		[ -s "$CACHE/busybox" ] || extract "$bdeb" "./bin/busybox" "$CACHE/busybox"
	fi
	KERNEL=${EIF_KERNEL:-$CACHE/vmlinuz}
	KCONFIG=${EIF_KERNEL_CONFIG:-$CACHE/config}
	CMDLINE=${EIF_CMDLINE:-$NITRO_CMDLINE}
	INIT=${EIF_INIT:-$CACHE/busybox}
	NSM=${EIF_NSM:-}
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if [ -n "$NSM" ]; then
	"$FACESIGN" eif bootramdisk --init "$INIT" --nsm "$NSM" -o "$WORK/boot.cpio"
else
	"$FACESIGN" eif bootramdisk --init "$INIT" -o "$WORK/boot.cpio"
fi
# The sealed-state settings, measured with the image (docs/operations.md).
set -- --env "PATH=/usr/local/bin:/usr/bin:/bin"
if env | grep -q '^FACESIGN_'; then
	"$FACESIGN" enclave-env > "$WORK/state.env" || { echo "eif.sh: bad FACESIGN_* settings (above)" >&2; exit 1; }
	while IFS= read -r kv; do
		set -- "$@" --env "$kv"
	done < "$WORK/state.env"
	echo "eif.sh: sealed-state settings baked into the image:" >&2
	sed 's/^/  /' "$WORK/state.env" >&2
else
	echo "eif.sh: WARNING: no FACESIGN_* settings; facesign-enclave in this image will refuse to boot" >&2
	echo "  (set FACESIGN_REGION, FACESIGN_KMS_KEY_ARN, FACESIGN_COUNTER_TABLE; docs/operations.md)" >&2
fi
"$FACESIGN" eif ramdisk --binary "$ENCLAVE" "$@" -o "$WORK/app.cpio"

set -- --kernel "$KERNEL" --kernel-config "$KCONFIG" --cmdline "$CMDLINE" \
	--ramdisk "$WORK/boot.cpio" --ramdisk "$WORK/app.cpio" \
	--name facesign-enclave --version "$VERSION" --build-time "$SOURCE_DATE_EPOCH" --arch "$ARCH" -o "$OUT"
if [ -n "${EIF_SIGN_CERT:-}" ]; then
	set -- "$@" --sign-cert "$EIF_SIGN_CERT" --sign-key "$EIF_SIGN_KEY"
fi
"$FACESIGN" eif build "$@" > /dev/null
"$FACESIGN" eif describe "$OUT" > "$OUT.json"

# Provenance: what went in, so anyone can rebuild and compare.
{
	echo "# inputs of $OUT (sha256, role, path); arch $ARCH"
	printf '%s  kernel  %s\n' "$(sha256sum < "$KERNEL" | cut -d' ' -f1)" "$KERNEL"
	printf '%s  init  %s\n' "$(sha256sum < "$INIT" | cut -d' ' -f1)" "$INIT"
	[ -z "$NSM" ] || printf '%s  nsm.ko  %s\n' "$(sha256sum < "$NSM" | cut -d' ' -f1)" "$NSM"
	printf '%s  enclave-binary  %s\n' "$(sha256sum < "$ENCLAVE" | cut -d' ' -f1)" "$ENCLAVE"
	printf '%s  boot-ramdisk\n' "$(sha256sum < "$WORK/boot.cpio" | cut -d' ' -f1)"
	printf '%s  app-ramdisk\n' "$(sha256sum < "$WORK/app.cpio" | cut -d' ' -f1)"
	printf 'cmdline  %s\n' "$CMDLINE"
	printf 'commit  %s%s\n' "$(git rev-parse HEAD 2>/dev/null || echo unknown)" "$(git diff --quiet HEAD 2>/dev/null || echo ' (working tree differs from the commit)')"
	printf 'SOURCE_DATE_EPOCH  %s\n' "$SOURCE_DATE_EPOCH"
} > "$OUT.inputs"

"$FACESIGN" eif pcrs "$OUT"
sha256sum "$OUT"
echo "eif.sh: wrote $OUT, $OUT.json (describe-eif output) and $OUT.inputs (provenance)" >&2
