package attest

import (
	"crypto/x509"
	_ "embed"
	"encoding/pem"
)

// awsNitroRootPEM is the AWS Nitro Enclaves root certificate
// (CN=aws.nitro-enclaves, OU=AWS, O=Amazon, C=US; P-384; valid 2019-10-28 to
// 2049-10-28), as published by AWS in
// https://aws-nitro-enclaves.amazonaws.com/AWS_NitroEnclaves_Root-G1.zip.
// The SHA-256 of its DER encoding is [AWSNitroRootSHA256].
//
//go:embed aws_nitro_root.pem
var awsNitroRootPEM []byte

// AWSNitroRootSHA256 is the hex SHA-256 of the DER encoding of the embedded
// AWS Nitro Enclaves root certificate; compare it with the value AWS
// publishes before relying on it.
const AWSNitroRootSHA256 = "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b"

var awsNitroRoot = mustParsePEM(awsNitroRootPEM)

func mustParsePEM(b []byte) *x509.Certificate {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		panic("attest: embedded root is not a PEM certificate")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		panic("attest: embedded root: " + err.Error())
	}
	return c
}

// AWSNitroRoot returns the embedded AWS Nitro Enclaves root certificate, the
// trust anchor [Verify] uses when [VerifyOptions.Roots] is nil. The caller
// gets its own copy.
func AWSNitroRoot() *x509.Certificate {
	c, err := x509.ParseCertificate(awsNitroRoot.Raw)
	if err != nil {
		panic("attest: embedded root: " + err.Error())
	}
	return c
}
