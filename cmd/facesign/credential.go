package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/client"
	"github.com/facesign/facesign/credential"
	"github.com/spf13/cobra"
)

func init() {
	register(func() *cobra.Command {
		cmd := &cobra.Command{
			Use:   "credential",
			Short: "Issue and verify idOS FaceID credentials from enclave receipts",
		}
		cmd.AddCommand(credentialKeygenCmd(), credentialIssueCmd(), credentialVerifyCmd())
		return cmd
	})
}

func readKeyFile(path string) (*credential.IssuerKey, error) {
	if path == "" {
		return nil, errors.New("--issuer-key is required")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--issuer-key: %w", err)
	}
	return credential.ParseIssuerKey(b)
}

// parseKey32 decodes an x25519 key flag: 32 bytes of hex.
func parseKey32(flag, s string) ([32]byte, error) {
	b, err := hexFlagN(flag, s, 32)
	if err != nil {
		return [32]byte{}, fmt.Errorf("%w (an x25519 key)", err)
	}
	return [32]byte(b), nil
}

// writeOut writes b to path (mode 0600, never over an existing file) or, when
// path is empty or "-", to w.
func writeOut(w io.Writer, path string, b []byte) error {
	if path == "" || path == "-" {
		_, err := w.Write(b)
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

func credentialKeygenCmd() *cobra.Command {
	var controller, out, publicOut string
	cmd := &cobra.Command{
		Use:   "keygen --controller URL -o FILE [--public-out FILE]",
		Short: "Make an issuer key file (Ed25519VerificationKey2020 JSON)",
		Long: `Make a new Ed25519 issuer key for the issuer URL --controller (e.g.
https://issuer.example/idos/issuers/1); its id is <controller>/keys/1. The key file is
the JSON @digitalbazaar/ed25519-verification-key-2020 exports (private key included),
written with mode 0600 and never over an existing file. --public-out writes the public
key document verifiers need.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("-o FILE is required (the key is secret: it is not printed)")
			}
			k, err := credential.GenerateIssuerKey(rand.Reader, controller)
			if err != nil {
				return err
			}
			b, _ := json.MarshalIndent(k, "", "  ")
			if err := writeOut(cmd.OutOrStdout(), out, append(b, '\n')); err != nil {
				return err
			}
			if publicOut != "" {
				pb, _ := json.MarshalIndent(k.PublicDocument(), "", "  ")
				if err := writeOut(cmd.OutOrStdout(), publicOut, append(pb, '\n')); err != nil {
					return err
				}
			}
			fmt.Fprintln(cmd.OutOrStdout(), k.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&controller, "controller", "", "issuer URL (https, no trailing slash)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "key file to create")
	cmd.Flags().StringVar(&publicOut, "public-out", "", "also write the public key document here")
	_ = cmd.MarkFlagRequired("controller")
	return cmd
}

func credentialIssueCmd() *cobra.Command {
	var (
		receiptFile, attFile, keyFile, holder, at, policyHash, out, credOut, server string
		trust                                                                       trustFlags
		validFor, maxAge                                                            time.Duration
		trustSimulator, atDocTime                                                   bool
	)
	cmd := &cobra.Command{
		Use:   "issue --receipt FILE --attestation FILE --issuer-key FILE --holder-enc-pubkey HEX --pcr N=HEX... [flags]",
		Short: "Verify an enclave receipt and mint the holder's encrypted idOS FaceID credential",
		Long: `Verify the evidence a FaceSign client saved (enroll/login --receipt-out FILE
--attestation-out FILE): the attestation document against the trusted roots (--root PEM;
default the AWS Nitro root) and the PCR pins at --at (default now), its user_data against
the binding, the receipt's signature and policy. Then mint the idOS FaceID credential
(Ed25519Signature2020 by --issuer-key), encrypt it to --holder-enc-pubkey (x25519, hex)
and write the idOS record JSON to -o (default stdout). Anything that does not verify is
refused with an error and exit status 1; nothing is written.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now, err := timeFlagOrNow("--at", at)
			if err != nil {
				return err
			}
			trusted, pins, err := trust.parse()
			if err != nil {
				return err
			}
			key, err := readKeyFile(keyFile)
			if err != nil {
				return err
			}
			hk, err := parseKey32("--holder-enc-pubkey", holder)
			if err != nil {
				return err
			}
			if receiptFile == "" || attFile == "" {
				return errors.New("--receipt and --attestation are required")
			}
			rb, err := os.ReadFile(receiptFile)
			if err != nil {
				return fmt.Errorf("--receipt: %w", err)
			}
			ab, err := os.ReadFile(attFile)
			if err != nil {
				return fmt.Errorf("--attestation: %w", err)
			}
			ev, err := credential.ParseEvidence(rb, ab)
			if err != nil {
				return err
			}
			if trustSimulator {
				if server == "" {
					return errors.New("--trust-simulator needs --server URL to fetch the simulator's root")
				}
				root, err := client.FetchSimulatorRoot(cmd.Context(), nil, server)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "WARNING: --trust-simulator: trusting the simulator root %q from %s. Never issue real credentials this way.\n", root.Subject.CommonName, server)
				trusted = append(trusted, root)
				if len(pins) == 0 {
					doc, err := attest.Verify(ev.Attestation, attest.VerifyOptions{Roots: trusted, CurrentTime: now})
					if err != nil {
						return fmt.Errorf("%w: %w", credential.ErrAttestation, err)
					}
					for _, i := range []int{0, 1, 2} {
						pins[i] = doc.PCRs[i]
					}
					fmt.Fprintln(cmd.ErrOrStderr(), "WARNING: no --pcr pins: pinning the simulated enclave's own PCR0-2.")
				}
			}
			if len(pins) == 0 {
				return errors.New("pin the enclave image you trust with --pcr 0=HEX --pcr 1=HEX --pcr 2=HEX (see facesign eif describe)")
			}
			policy := credential.EvidencePolicy{
				Attestation:   attest.VerifyOptions{Roots: trusted, CurrentTime: now, PCRs: pins},
				Now:           now,
				MaxReceiptAge: maxAge,
			}
			if atDocTime {
				policy.Attestation.CurrentTime, policy.Attestation.AtDocumentTime = time.Time{}, true
			}
			if len(trusted) == 0 {
				policy.Attestation.Roots = nil // the embedded AWS Nitro root
			}
			if policyHash != "" {
				if policy.PolicyHash, err = hexFlagN("--policy-hash", policyHash, sha256.Size); err != nil {
					return err
				}
			}
			res, err := credential.Issue(*ev, credential.IssueOptions{
				Policy:              policy,
				Key:                 key,
				HolderEncryptionKey: hk,
				Rand:                rand.Reader,
				ValidFor:            validFor,
			})
			if err != nil {
				return err
			}
			rec, err := res.Record.Marshal()
			if err != nil {
				return err
			}
			if credOut != "" {
				if err := writeOut(cmd.OutOrStdout(), credOut, append(res.CredentialJSON, '\n')); err != nil {
					return err
				}
			}
			if err := writeOut(cmd.OutOrStdout(), out, append(rec, '\n')); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "issued %s for %s (%s)\n", res.Credential.ID, res.Receipt.UniqueID, res.Receipt.Status)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&receiptFile, "receipt", "", "signed receipt file (CBOR, from enroll/login --receipt-out)")
	fl.StringVar(&attFile, "attestation", "", "attestation response file (CBOR, from enroll/login --attestation-out)")
	fl.StringVar(&keyFile, "issuer-key", "", "issuer key file (facesign credential keygen)")
	fl.StringVar(&holder, "holder-enc-pubkey", "", "holder's x25519 encryption public key, hex (facesign keys: x25519_public_key)")
	fl.StringVar(&at, "at", "", "verification and issuance time, RFC 3339 or Unix seconds (default: now)")
	trust.add(cmd, "required")
	fl.StringVar(&policyHash, "policy-hash", "", "pin the enclave policy's SHA-256 (hex)")
	fl.DurationVar(&validFor, "valid-for", 0, "set expirationDate this long after issuance (default: none)")
	fl.DurationVar(&maxAge, "max-receipt-age", 0, "refuse receipts older than this (default: no limit)")
	fl.StringVarP(&out, "out", "o", "", "record file to create (default: stdout)")
	fl.StringVar(&credOut, "credential-out", "", "also write the signed credential (plaintext JSON) to this file")
	fl.BoolVar(&atDocTime, "at-document-time", false, "verify the attestation's certificates at the document's own time, not --at (for evidence older than its certificates; pair with --max-receipt-age)")
	fl.BoolVar(&trustSimulator, "trust-simulator", false, "also trust the simulator's root fetched from --server (simulator only)")
	fl.StringVar(&server, "server", "", "FaceSign server URL, for --trust-simulator")
	return cmd
}

// verifyJSON is what "credential verify" prints.
type verifyJSON struct {
	Valid          bool   `json:"valid"`
	Decrypted      bool   `json:"decrypted"`
	Issuer         string `json:"issuer"`
	IssuerKey      string `json:"issuer_key"`
	PublicNotes    string `json:"public_notes,omitempty"`
	CredentialID   string `json:"credential_id,omitempty"`
	FaceSignUserID string `json:"face_sign_user_id,omitempty"`
	Level          string `json:"level,omitempty"`
	Issued         string `json:"issued,omitempty"`
	ApprovedAt     string `json:"approved_at,omitempty"`
	ExpirationDate string `json:"expiration_date,omitempty"`
}

func credentialVerifyCmd() *cobra.Command {
	var recordFile, credFile, keyFile, secretHex, entropyHex, at string
	cmd := &cobra.Command{
		Use:   "verify (--record FILE | --credential FILE) --issuer-key FILE [--holder-enc-secret HEX | --holder-entropy-hex HEX] [--at RFC3339]",
		Short: "Verify an idOS FaceID record or credential",
		Long: `Verify an idOS record (--record: shape, FaceSign public notes, the issuer's record
signatures) and, given the holder's x25519 secret key (--holder-enc-secret HEX, or
--holder-entropy-hex HEX to derive it like facesign keys), decrypt it and verify the
credential inside; or verify a plaintext credential (--credential): exact idOS FaceID
shape, static contexts, the Ed25519Signature2020 proof by --issuer-key (a key file or its
public document) and validity at --at (default now). Prints a JSON summary; anything that
does not verify exits with status 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now, err := timeFlagOrNow("--at", at)
			if err != nil {
				return err
			}
			key, err := readKeyFile(keyFile)
			if err != nil {
				return err
			}
			out := verifyJSON{Issuer: key.Controller, IssuerKey: key.ID}
			var c *credential.Credential
			switch {
			case (recordFile == "") == (credFile == ""):
				return errors.New("give exactly one of --record FILE and --credential FILE")
			case credFile != "":
				b, err := os.ReadFile(credFile)
				if err != nil {
					return err
				}
				if c, err = credential.VerifyCredential(b, key, now); err != nil {
					return err
				}
			default:
				b, err := os.ReadFile(recordFile)
				if err != nil {
					return err
				}
				var secret *[32]byte
				switch {
				case secretHex != "" && entropyHex != "":
					return errors.New("give at most one of --holder-enc-secret and --holder-entropy-hex")
				case secretHex != "":
					s, err := parseKey32("--holder-enc-secret", secretHex)
					if err != nil {
						return err
					}
					secret = &s
				case entropyHex != "":
					w, err := readEntropy("--holder-entropy-hex", entropyHex, cmd.InOrStdin())
					if err != nil {
						return err
					}
					s := w.Encryption().Secret()
					secret = &s
				}
				check, err := credential.VerifyRecord(b, key, secret, now)
				if err != nil {
					return err
				}
				out.PublicNotes = check.Record.PublicNotes
				c = check.Credential
				out.Decrypted = c != nil
			}
			out.Valid = true
			if c != nil {
				out.CredentialID, out.FaceSignUserID, out.Level = c.ID, c.CredentialSubject.FaceSignUserID, c.Level
				out.Issued, out.ApprovedAt, out.ExpirationDate = c.Issued, c.ApprovedAt, c.ExpirationDate
			}
			b, _ := json.MarshalIndent(out, "", "  ")
			fmt.Fprintln(cmd.OutOrStdout(), string(b))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&recordFile, "record", "", "idOS record JSON (facesign credential issue)")
	fl.StringVar(&credFile, "credential", "", "plaintext credential JSON")
	fl.StringVar(&keyFile, "issuer-key", "", "issuer key file or public key document")
	fl.StringVar(&secretHex, "holder-enc-secret", "", "holder's x25519 secret key, hex, to decrypt the record")
	fl.StringVar(&entropyHex, "holder-entropy-hex", "", "holder's FaceSign entropy, hex (or - for stdin), to derive the x25519 secret")
	fl.StringVar(&at, "at", "", "verification time, RFC 3339 or Unix seconds (default: now)")
	return cmd
}
