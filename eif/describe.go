package eif

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Describe returns the JSON nitro-cli describe-eif prints for the image, with
// the same keys in the same order and two-space indentation: EifVersion,
// Measurements{HashAlgorithm, PCR0, PCR1, PCR2[, PCR8]}, IsSigned,
// [SigningCertificate], CheckCRC, [SignatureCheck], [ImageName,
// ImageVersion, Metadata{BuildTime, BuildTool, BuildToolVersion,
// OperatingSystem, KernelVersion, DockerInfo, custom keys…}].
//
// SignatureCheck is true when the COSE signature verifies under the
// certificate's key and signs this image's PCR0 (nitro-cli fails instead of
// printing false when the signature does not verify). SigningCertificate
// renders the issuer, algorithm, validity and signature the way nitro-cli's
// OpenSSL bindings print them, for the common attribute types.
func (im *Image) Describe() ([]byte, error) {
	m := im.measurements
	meas := object{{"HashAlgorithm", HashAlgorithm}, {"PCR0", m.PCR0.String()}, {"PCR1", m.PCR1.String()}, {"PCR2", m.PCR2.String()}}
	if m.Signed {
		meas = append(meas, field{"PCR8", m.PCR8.String()})
	}
	out := object{{"EifVersion", im.Header.Version}, {"Measurements", meas}, {"IsSigned", im.IsSigned()}}
	if s := im.signature; s != nil {
		out = append(out, field{"SigningCertificate", certInfo(s.Certificate)})
	}
	out = append(out, field{"CheckCRC", im.CRCValid()})
	if im.signature != nil {
		out = append(out, field{"SignatureCheck", im.SignatureValid()})
	}
	if md := im.metadata; md != nil {
		out = append(out, field{"ImageName", md.ImageName}, field{"ImageVersion", md.ImageVersion})
		mo := object{
			{"BuildTime", md.BuildMetadata.BuildTime},
			{"BuildTool", md.BuildMetadata.BuildTool},
			{"BuildToolVersion", md.BuildMetadata.BuildToolVersion},
			{"OperatingSystem", md.BuildMetadata.OperatingSystem},
			{"KernelVersion", md.BuildMetadata.KernelVersion},
		}
		docker, err := canonicalJSON(md.DockerInfo)
		if err != nil {
			return nil, fmt.Errorf("%w: DockerInfo: %w", ErrMetadata, err)
		}
		mo = append(mo, field{"DockerInfo", docker})
		custom, err := canonicalJSON(md.CustomMetadata)
		if err != nil {
			return nil, fmt.Errorf("%w: CustomMetadata: %w", ErrMetadata, err)
		}
		// nitro-cli flattens a custom object into Metadata; other non-null
		// values (which it cannot flatten) are kept under their own key.
		var kv map[string]json.RawMessage
		switch {
		case string(custom) == "null":
		case json.Unmarshal(custom, &kv) == nil:
			keys := make([]string, 0, len(kv))
			for k := range kv {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				mo = append(mo, field{k, kv[k]})
			}
		default:
			mo = append(mo, field{"CustomMetadata", custom})
		}
		out = append(out, field{"Metadata", mo})
	}
	compact, err := out.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, compact, "", "  "); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// field and object keep JSON keys in insertion order.
type field struct {
	k string
	v any
}

type object []field

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshalNoEscape(f.k)
		if err != nil {
			return nil, err
		}
		v, err := marshalNoEscape(f.v)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Long names OpenSSL's OBJ_obj2txt prints for the usual name attributes.
var attrNames = map[string]string{
	"2.5.4.3":                    "commonName",
	"2.5.4.4":                    "surname",
	"2.5.4.5":                    "serialNumber",
	"2.5.4.6":                    "countryName",
	"2.5.4.7":                    "localityName",
	"2.5.4.8":                    "stateOrProvinceName",
	"2.5.4.9":                    "streetAddress",
	"2.5.4.10":                   "organizationName",
	"2.5.4.11":                   "organizationalUnitName",
	"2.5.4.12":                   "title",
	"2.5.4.17":                   "postalCode",
	"2.5.4.42":                   "givenName",
	"1.2.840.113549.1.9.1":       "emailAddress",
	"0.9.2342.19200300.100.1.25": "domainComponent",
}

var sigAlgNames = map[x509.SignatureAlgorithm]string{
	x509.ECDSAWithSHA1:   "ecdsa-with-SHA1",
	x509.ECDSAWithSHA256: "ecdsa-with-SHA256",
	x509.ECDSAWithSHA384: "ecdsa-with-SHA384",
	x509.ECDSAWithSHA512: "ecdsa-with-SHA512",
	x509.SHA256WithRSA:   "sha256WithRSAEncryption",
	x509.SHA384WithRSA:   "sha384WithRSAEncryption",
	x509.SHA512WithRSA:   "sha512WithRSAEncryption",
	x509.PureEd25519:     "ED25519",
}

func certInfo(c *x509.Certificate) object {
	issuer := map[string]string{}
	for _, a := range c.Issuer.Names {
		name, ok := attrNames[a.Type.String()]
		if !ok {
			name = asn1.ObjectIdentifier(a.Type).String()
		}
		issuer[name] = fmt.Sprint(a.Value)
	}
	alg, ok := sigAlgNames[c.SignatureAlgorithm]
	if !ok {
		alg = c.SignatureAlgorithm.String()
	}
	hexSig := make([]string, len(c.Signature))
	for i, b := range c.Signature {
		hexSig[i] = fmt.Sprintf("%02X", b)
	}
	const openssl = "Jan _2 15:04:05 2006 GMT" // ASN1_TIME_print
	return object{
		{"IssuerName", issuer},
		{"Algorithm", alg},
		{"NotBefore", c.NotBefore.UTC().Format(openssl)},
		{"NotAfter", c.NotAfter.UTC().Format(openssl)},
		{"Signature", strings.Join(hexSig, ":")},
	}
}
