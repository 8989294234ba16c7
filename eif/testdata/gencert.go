//go:build ignore

// gencert writes the test-only signing certificates and keys in this folder:
// a self-signed P-384 certificate valid 2024-01-01..2044-01-01 (sign-cert.pem,
// sign-key.pem), one that expired in 2020 (expired-cert.pem,
// expired-key.pem) and a P-256 pair (p256-cert.pem, p256-key.pem).
// Run: go run gencert.go (in eif/testdata). The keys are public test
// material: never use them for anything else.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log"
	"math/big"
	"os"
	"time"
)

func main() {
	gen("sign", elliptic.P384(), date(2024), date(2044))
	gen("expired", elliptic.P384(), date(2018), date(2020))
	gen("p256", elliptic.P256(), date(2024), date(2044))
}

func date(y int) time.Time { return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC) }

func gen(name string, c elliptic.Curve, from, to time.Time) {
	key, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "facesign eif test signer " + name, Organization: []string{"FaceSign tests"}, Country: []string{"DE"}},
		NotBefore:             from,
		NotAfter:              to,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		log.Fatal(err)
	}
	write(name+"-cert.pem", "CERTIFICATE", der)
	write(name+"-key.pem", "EC PRIVATE KEY", kd)
}

func write(file, typ string, b []byte) {
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o644); err != nil {
		log.Fatal(err)
	}
}
