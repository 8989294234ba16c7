package main

import (
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/spf13/cobra"
)

// What a command trusts comes from flags parsed here, the same way in every
// command (attest verify/simulate, credential issue, enroll/login/delete,
// demo, loadtest, eif verify):
//
//   - --pcr N=HEX, repeatable: N a decimal index 0..31 as written by
//     strconv (no sign, no leading zero), HEX exactly 48 bytes (a SHA-384
//     PCR, 96 hex digits, an optional 0x), each index at most once.
//   - --root PEM, repeatable: every CERTIFICATE block of every file; a file
//     without one is an error.
//   - fixed-size hex values (--policy-hash, keys): exactly the size, an
//     optional 0x.
//   - times (--at, --time, --build-time): RFC 3339, fractional seconds
//     allowed, or Unix seconds; where a flag defaults to now, that is said
//     in its help and the empty value reads the machine's clock.
//
// Every error names the flag and the value it refuses.

// trustFlags are the flags that say which enclaves a command trusts, the
// same in every command that verifies attestations: --root and --pcr.
type trustFlags struct {
	roots, pcrs []string
}

// add defines --root and --pcr on cmd; pcrNote says when pins are required.
func (f *trustFlags) add(cmd *cobra.Command, pcrNote string) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.roots, "root", nil, "trusted attestation root certificates, a `PEM` file (repeatable; default: the AWS Nitro root)")
	fl.StringArrayVar(&f.pcrs, "pcr", nil, fmt.Sprintf("pin a PCR, `N=HEX`: N in 0..%d, HEX %d bytes (repeatable; %s)", attest.MaxPCRs-1, pcrSize, pcrNote))
}

// parse returns the trusted roots (nil: the caller's default, the AWS Nitro
// root) and the PCR pins (never nil).
func (f *trustFlags) parse() ([]*x509.Certificate, map[int][]byte, error) {
	roots, err := readRootPEMs("--root", f.roots)
	if err != nil {
		return nil, nil, err
	}
	pins, err := parsePCRPins("--pcr", f.pcrs)
	if err != nil {
		return nil, nil, err
	}
	return roots, pins, nil
}

// pcrSize is the size of a Nitro PCR: the NSM measures with SHA-384.
const pcrSize = sha512.Size384

// parsePCRPins parses repeated flag values N=HEX into PCR pins. The map is
// never nil; it is empty when specs is.
func parsePCRPins(flag string, specs []string) (map[int][]byte, error) {
	pins := make(map[int][]byte, len(specs))
	for _, spec := range specs {
		idx, val, ok := strings.Cut(spec, "=")
		n, err := strconv.Atoi(idx)
		if !ok || err != nil || strconv.Itoa(n) != idx {
			return nil, fmt.Errorf("%s %q: want N=HEX with N in 0..%d and HEX %d bytes (SHA-384)", flag, spec, attest.MaxPCRs-1, pcrSize)
		}
		if n < 0 || n >= attest.MaxPCRs {
			return nil, fmt.Errorf("%s %q: PCR index %d out of range 0..%d", flag, spec, n, attest.MaxPCRs-1)
		}
		if _, dup := pins[n]; dup {
			return nil, fmt.Errorf("%s %q: PCR%d given twice", flag, spec, n)
		}
		v, err := parsePCRValue(n, val)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", flag, spec, err)
		}
		pins[n] = v
	}
	return pins, nil
}

// parsePCRValue parses the hex value of PCR index: exactly [pcrSize] bytes.
// The error names the PCR; callers prefix the flag.
func parsePCRValue(index int, s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		return nil, fmt.Errorf("PCR%d is not hex: %w", index, err)
	}
	if len(b) != pcrSize {
		return nil, fmt.Errorf("PCR%d is %d bytes, want %d (%d hex digits of SHA-384)", index, len(b), pcrSize, 2*pcrSize)
	}
	return b, nil
}

// readRootPEMs reads the trusted root certificates in the PEM files given
// with flag: every CERTIFICATE block (other blocks are skipped); a file with
// none is an error. No files gives no roots (the caller's default).
func readRootPEMs(flag string, files []string) ([]*x509.Certificate, error) {
	var roots []*x509.Certificate
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		n := 0
		for {
			var blk *pem.Block
			if blk, b = pem.Decode(b); blk == nil {
				break
			}
			if blk.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", flag, name, err)
			}
			roots = append(roots, c)
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("%s %s: no PEM certificate", flag, name)
		}
	}
	return roots, nil
}

// hexFlag decodes a hex flag value of any length.
func hexFlag(flag, s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s: not hex: %w", flag, err)
	}
	return b, nil
}

// hexFlagN decodes a hex flag value of exactly size bytes (an optional 0x
// prefix is dropped).
func hexFlagN(flag, s string, size int) ([]byte, error) {
	b, err := hexFlag(flag, strings.TrimPrefix(s, "0x"))
	if err != nil {
		return nil, err
	}
	if len(b) != size {
		return nil, fmt.Errorf("%s: %d bytes, want %d (%d hex digits)", flag, len(b), size, 2*size)
	}
	return b, nil
}

// parseTimeFlag parses the value of a time flag: RFC 3339 (fractional
// seconds allowed) or Unix seconds.
func parseTimeFlag(flag, s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q: want an RFC 3339 time (e.g. 2026-11-22T03:04:05Z) or Unix seconds", flag, s)
	}
	return t, nil
}

// timeFlagOrNow is [parseTimeFlag] for flags that default to now: an empty
// value is the machine's clock.
func timeFlagOrNow(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Now().UTC(), nil
	}
	return parseTimeFlag(flag, s)
}
