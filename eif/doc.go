// Package eif reads, writes, measures and signs AWS Nitro Enclave Image Files
// (EIF, format version 4 as defined by aws-nitro-enclaves-image-format and
// written by nitro-cli), without Docker, linuxkit or nitro-cli.
//
// # Format
//
// An EIF is a 548-byte big-endian [Header] (magic ".eif", version, flags,
// default memory and CPUs, section count, a table of 32 section offsets and
// 32 section sizes, CRC-32) followed by contiguous sections, each a 12-byte
// section header (type, flags, size) and its data. nitro-cli writes the
// sections in the order kernel, cmdline (no NUL), metadata (JSON), ramdisks
// (ramdisk 0 is the boot ramdisk, the rest the application), signature. The
// CRC-32 (IEEE) covers the header without its CRC field, then every section
// header and section in file order.
//
// # Measurements
//
// [Measurements] are computed exactly as nitro-cli does, over section data in
// file order: PCR0 = kernel ‖ cmdline ‖ every ramdisk, PCR1 = kernel ‖
// cmdline ‖ ramdisk 0, PCR2 = ramdisks 1…, and for signed images PCR8 = the
// DER signing certificate; each register is SHA-384(48 zero bytes ‖
// SHA-384(data)) (see [Extend]). Metadata and signature are not measured.
//
// # Reading
//
// [Read] never trusts a size it has not checked against the file size and
// the limits in [ReadOptions]: kernel and ramdisks are streamed, never
// loaded, and only cmdline (≤ 64 KiB), metadata (≤ 1 MiB) and signature
// (≤ 1 MiB) sections are held in memory. Malformed images fail with an error
// wrapping one sentinel per failure class ([ErrTruncated], [ErrOverlap],
// [ErrSectionType], …), and [*SectionError] names the section. A bad CRC or
// signature is reported, not fatal, so that images can be described: call
// [Image.Verify] before trusting one.
//
// # Writing
//
// [Build] is a pure function of its [Input]: no clock (the build time is an
// input and must not be zero), no environment, no file system. Equal inputs
// give byte-identical images. [AppRamdisk] and [BootRamdisk] build the
// ramdisks as uncompressed newc cpio archives with sorted entries, uid/gid 0,
// fixed modes and a fixed mtime, in the layout the Nitro init expects
// (rootfs/, cmd, env; init, nsm.ko). With those, an enclave binary built with
// CGO_ENABLED=0 -trimpath -buildvcs=false gives the same PCRs on every
// machine.
//
// # Signing
//
// A [Signer] adds nitro-cli's signature section: a CBOR array holding one
// {signing_certificate: PEM bytes, signature: COSE_Sign1 bytes} map, both as
// arrays of small integers (serde_cbor's encoding of Vec<u8>), where the
// COSE_Sign1 (protected {1: ES384} for P-384) signs the CBOR map
// {register_index: 0, register_value: PCR0}. Signatures use RFC 6979
// deterministic nonces, so signed builds are reproducible too.
// [Image.VerifySignature] checks the signature, that it covers this image's
// PCR0 and the certificate's validity at a caller-supplied time. It does not
// decide whom to trust: pin PCR8 (or the certificate) in your policy.
//
// # Caller duties
//
// PCRs identify an image only together with the inputs that produced it: a
// different kernel, boot ramdisk or cmdline gives different PCR0 and PCR1
// even with the same application (PCR2). Pin the PCRs of the image you
// actually run, and rebuild from the published inputs to check them.
package eif
