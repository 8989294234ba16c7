package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/simulator"
	"github.com/spf13/cobra"
)

func init() {
	register(func() *cobra.Command {
		cmd := &cobra.Command{
			Use:   "attest",
			Short: "Verify Nitro attestation documents, or make simulator ones",
		}
		cmd.AddCommand(attestVerifyCmd(), attestSimulateCmd())
		return cmd
	})
}

func attestVerifyCmd() *cobra.Command {
	var (
		at         string
		atDocument bool
		trust      trustFlags
		nonceHex   string
		allowDebug bool
	)
	cmd := &cobra.Command{
		Use:   "verify [--root PEM]... (--at RFC3339 | --at-document-time) [--pcr N=HEX]... [--nonce HEX] [--allow-debug] FILE",
		Short: "Verify an attestation document and print its contents as JSON",
		Long: `Verify checks an attestation document (raw CBOR or base64; untagged or tag-18
COSE_Sign1): its ES384 signature, its certificate chain up to the AWS Nitro root (or the roots in
--root) at the time given by --at or, for archived documents, at the document's own timestamp
(--at-document-time), and optionally the nonce and PCR values. A document whose PCR0 is all zero
(debug mode) is rejected unless --allow-debug. On success it prints the document as JSON and exits 0;
otherwise it prints "error: <reason>" and exits 1.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := attest.VerifyOptions{AtDocumentTime: atDocument, AllowDebug: allowDebug}
			if at != "" {
				t, err := parseTimeFlag("--at", at)
				if err != nil {
					return err
				}
				opts.CurrentTime = t
			}
			if (at == "") == !atDocument {
				return errors.New("give exactly one of --at RFC3339 and --at-document-time")
			}
			var err error
			if opts.Roots, opts.PCRs, err = trust.parse(); err != nil {
				return err
			}
			if nonceHex != "" {
				if opts.Nonce, err = hexFlag("--nonce", nonceHex); err != nil {
					return err
				}
			}
			doc, err := readDocument(args[0])
			if err != nil {
				return err
			}
			d, err := attest.Verify(doc, opts)
			if err != nil {
				return err
			}
			out, err := json.MarshalIndent(documentJSON(d), "", "  ")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", out)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&at, "at", "", "verify the certificate chain at this time (RFC 3339 or Unix seconds)")
	f.BoolVar(&atDocument, "at-document-time", false, "verify the chain at the document's own timestamp (archives, tests)")
	f.StringVar(&nonceHex, "nonce", "", "require this nonce (hex)")
	f.BoolVar(&allowDebug, "allow-debug", false, "accept debug-mode enclaves (PCR0 all zero)")
	trust.add(cmd, "optional")
	return cmd
}

func attestSimulateCmd() *cobra.Command {
	var (
		nonceHex, userDataHex, publicKeyHex string
		pcrFlags                            []string
		rootOut, out, caDir, at             string
	)
	cmd := &cobra.Command{
		Use:   "simulate [--nonce HEX] [--user-data HEX] [--public-key HEX] [--pcr N=HEX]... --root-out PEM -o FILE",
		Short: "Write a simulator attestation document and the simulator root",
		Long: `Simulate boots the simulator's Nitro Security Module with the given boot PCRs (0..15, 48 bytes
each; others stay zero, and a zero PCR0 marks a debug-mode enclave), asks it for one document and
writes it (raw CBOR) to -o and the simulator's root certificate to --root-out. Verifiers reject the
document unless they are given that root. With --ca DIR the CA is loaded from (or created in) DIR;
otherwise a fresh one is made.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rootOut == "" || out == "" {
				return errors.New("--root-out and -o are required")
			}
			var req attest.Request
			var err error
			for _, h := range []struct {
				name, val string
				dst       *[]byte
			}{{"--nonce", nonceHex, &req.Nonce}, {"--user-data", userDataHex, &req.UserData}, {"--public-key", publicKeyHex, &req.PublicKey}} {
				if h.val != "" {
					if *h.dst, err = hexFlag(h.name, h.val); err != nil {
						return err
					}
				}
			}
			pcrs, err := parsePCRPins("--pcr", pcrFlags)
			if err != nil {
				return err
			}
			now, err := timeFlagOrNow("--time", at)
			if err != nil {
				return err
			}
			var ca *simulator.CA
			if caDir != "" {
				ca, err = simulator.LoadOrCreateCA(caDir, rand.Reader, now)
			} else {
				ca, err = simulator.NewCA(rand.Reader, now)
			}
			if err != nil {
				return err
			}
			nsm, err := simulator.NewNSM(simulator.NSMOptions{
				CA: ca, PCRs: pcrs, Clock: func() time.Time { return now }, Rand: rand.Reader,
			})
			if err != nil {
				return err
			}
			doc, err := nsm.Attest(req)
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, doc, 0o644); err != nil {
				return err
			}
			if err := os.WriteFile(rootOut, ca.RootPEM(), 0o644); err != nil {
				return err
			}
			if _, ok := pcrs[0]; !ok {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning: PCR0 is all zero (a debug-mode enclave): verifiers need --allow-debug")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&nonceHex, "nonce", "", "nonce to attest (hex, at most 1024 bytes)")
	f.StringVar(&userDataHex, "user-data", "", "user data to attest (hex, at most 1024 bytes)")
	f.StringVar(&publicKeyHex, "public-key", "", "public key to attest (hex, at most 1024 bytes)")
	f.StringArrayVar(&pcrFlags, "pcr", nil, "boot PCR N (0..15) as 48-byte HEX (repeatable)")
	f.StringVar(&rootOut, "root-out", "", "write the simulator root certificate (PEM) here")
	f.StringVarP(&out, "output", "o", "", "write the document (raw CBOR) here")
	f.StringVar(&caDir, "ca", "", "load or create the simulator CA in this directory")
	f.StringVar(&at, "time", "", "the simulated clock (RFC 3339 or Unix seconds; default now)")
	return cmd
}

// readDocument reads a document file: raw CBOR, or base64 (standard or
// URL alphabet, padded or not, whitespace ignored).
func readDocument(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// base64 of the largest document, plus line breaks.
	b, err := io.ReadAll(io.LimitReader(f, 2*attest.MaxDocumentSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > 2*attest.MaxDocumentSize {
		return nil, fmt.Errorf("%s: larger than any attestation document", name)
	}
	if len(b) > 0 && (b[0] == 0x84 || b[0] == 0xd2) {
		return b, nil
	}
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, string(b))
	s = strings.TrimRight(s, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if d, err := enc.DecodeString(s); err == nil {
			return d, nil
		}
	}
	return nil, fmt.Errorf("%s: neither a CBOR COSE_Sign1 nor base64", name)
}

// attestJSON is the printed form of a verified document; byte fields are
// hex, null when absent.
type attestJSON struct {
	ModuleID  string    `json:"module_id"`
	Timestamp string    `json:"timestamp"`
	Digest    string    `json:"digest"`
	PCRs      pcrsJSON  `json:"pcrs"`
	PublicKey *hexBytes `json:"public_key"`
	UserData  *hexBytes `json:"user_data"`
	Nonce     *hexBytes `json:"nonce"`
}

type hexBytes []byte

func (h hexBytes) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(h)) }

func optionalHex(b []byte) *hexBytes {
	if b == nil {
		return nil
	}
	h := hexBytes(b)
	return &h
}

// pcrsJSON prints PCRs as an object in index order.
type pcrsJSON map[int][]byte

func (p pcrsJSON) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	for i := range attest.MaxPCRs {
		v, ok := p[i]
		if !ok {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&buf, "%q:%q", strconv.Itoa(i), hex.EncodeToString(v))
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func documentJSON(d *attest.Document) attestJSON {
	return attestJSON{
		ModuleID:  d.ModuleID,
		Timestamp: d.Timestamp.UTC().Format(time.RFC3339Nano),
		Digest:    d.Digest,
		PCRs:      pcrsJSON(d.PCRs),
		PublicKey: optionalHex(d.PublicKey),
		UserData:  optionalHex(d.UserData),
		Nonce:     optionalHex(d.Nonce),
	}
}
