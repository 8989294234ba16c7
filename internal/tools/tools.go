//go:build tools

// Package tools pins the modules the project builds on while its packages are
// being written, so that `go mod tidy` keeps them. It is never compiled.
package tools

import (
	_ "github.com/aws/aws-sdk-go-v2/config"
	_ "github.com/aws/aws-sdk-go-v2/service/kms"
	_ "github.com/aws/aws-sdk-go-v2/service/s3"
	_ "github.com/decred/dcrd/dcrec/secp256k1/v4"
	_ "github.com/fxamacker/cbor/v2"
	_ "github.com/google/uuid"
	_ "github.com/hf/nsm"
	_ "github.com/johannesboyne/gofakes3"
	_ "github.com/mdlayher/vsock"
	_ "github.com/piprate/json-gold/ld"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/spf13/cobra"
	_ "github.com/tyler-smith/go-bip39"
	_ "github.com/veraison/go-cose"
	_ "golang.org/x/crypto/nacl/box"
	_ "golang.org/x/crypto/sha3"
	_ "golang.org/x/image/draw"
	_ "golang.org/x/term"
	_ "gonum.org/v1/gonum/mat"
	_ "gonum.org/v1/plot"
)
