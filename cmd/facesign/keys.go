package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/facesign/facesign/client/wallet"
	"github.com/spf13/cobra"
)

// readEntropy decodes the entropy flag (named flag): 64 hex digits, or "-"
// to read them from standard input (keeps the secret out of the process list
// and shell history).
func readEntropy(flag, value string, stdin io.Reader) (*wallet.Wallet, error) {
	s := value
	if s == "-" {
		line, err := bufio.NewReader(io.LimitReader(stdin, 1024)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: reading the entropy from stdin: %w", flag, err)
		}
		s = line
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("%s is required: the %d-byte entropy as %d hex digits (or - for stdin)", flag, wallet.EntropySize, 2*wallet.EntropySize)
	}
	b, err := hexFlagN(flag, s, wallet.EntropySize)
	if err != nil {
		return nil, err
	}
	return wallet.FromEntropy(b)
}

// keysJSON is what "facesign keys" prints: the mnemonic (secret, printed
// because the user passed the entropy) and every public key and address.
type keysJSON struct {
	Mnemonic string `json:"mnemonic"`
	wallet.PublicKeys
}

func init() {
	register(func() *cobra.Command {
		var entropy string
		cmd := &cobra.Command{
			Use:   "keys --entropy-hex HEX",
			Short: "Derive the wallet keys of FaceSign entropy (mnemonic, FaceSign Ed25519, EVM, x25519)",
			Long: `Derive the wallet of the 32-byte entropy the enclave returned (see docs/wallet.md) and
print it as JSON: the 24-word BIP-39 mnemonic, the idOS FaceSign Ed25519 key (address =
hex public key), the EVM account at m/44'/60'/0'/0/0 (EIP-55 address) and the x25519 public
key for idOS encryption. The mnemonic is the wallet's secret: it is printed only because
you passed the entropy. Pass --entropy-hex - to read the hex from standard input.`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				w, err := readEntropy("--entropy-hex", entropy, cmd.InOrStdin())
				if err != nil {
					return err
				}
				b, err := json.MarshalIndent(keysJSON{Mnemonic: w.Mnemonic(), PublicKeys: w.Public()}, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			},
		}
		cmd.Flags().StringVar(&entropy, "entropy-hex", "", "the 32-byte entropy, 64 hex digits, or - to read it from stdin")
		return cmd
	})
	register(func() *cobra.Command {
		var entropy, scheme string
		var msgHex bool
		cmd := &cobra.Command{
			Use:   "sign --entropy-hex HEX --scheme ed25519|eip191 MESSAGE",
			Short: "Sign a message with a wallet key of FaceSign entropy",
			Long: `Sign MESSAGE (its UTF-8 bytes, or the bytes of its hex with --hex) and print the
signature in hex:
  ed25519  the FaceSign Ed25519 key, RFC 8032 over the raw message (tweetnacl sign.detached);
           64 bytes, plain hex
  eip191   the EVM account, Ethereum personal_sign (EIP-191 0x45, RFC 6979, low s);
           r ‖ s ‖ v with v = 27/28, 65 bytes, 0x-prefixed as Ethereum tools expect`,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				w, err := readEntropy("--entropy-hex", entropy, cmd.InOrStdin())
				if err != nil {
					return err
				}
				s, err := w.Signer(scheme)
				if err != nil {
					return fmt.Errorf("--scheme: %w", err)
				}
				msg := []byte(args[0])
				if msgHex {
					if msg, err = hex.DecodeString(strings.TrimPrefix(args[0], "0x")); err != nil {
						return fmt.Errorf("MESSAGE is not hex: %w", err)
					}
				}
				sig := hex.EncodeToString(s.Sign(msg))
				if scheme == "eip191" {
					sig = "0x" + sig
				}
				fmt.Fprintln(cmd.OutOrStdout(), sig)
				return nil
			},
		}
		cmd.Flags().StringVar(&entropy, "entropy-hex", "", "the 32-byte entropy, 64 hex digits, or - to read it from stdin")
		cmd.Flags().StringVar(&scheme, "scheme", "", "signature scheme: "+strings.Join(wallet.Schemes(), " or "))
		cmd.Flags().BoolVar(&msgHex, "hex", false, "MESSAGE is hex; sign its bytes")
		_ = cmd.MarkFlagRequired("scheme")
		return cmd
	})
}
