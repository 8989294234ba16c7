package stateboot_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/facesign/facesign/enclave/stateboot"
	"github.com/facesign/facesign/simulator"
)

const (
	arnEU  = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	mrkEU  = "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
	tblARN = "arn:aws:dynamodb:eu-west-1:444455556666:table/facesign-counter"
)

func env(kv ...string) []string { return append([]string{"PATH=/bin", "HOME=/"}, kv...) }

func TestFromEnv(t *testing.T) {
	base := []string{"FACESIGN_REGION=eu-west-1", "FACESIGN_KMS_KEY_ARN=" + arnEU, "FACESIGN_COUNTER_TABLE=facesign-counter"}
	with := func(kv ...string) []string {
		out := env(base...)
		for _, a := range kv {
			k, _, _ := strings.Cut(a, "=")
			for i, b := range out {
				if strings.HasPrefix(b, k+"=") {
					out = append(out[:i], out[i+1:]...)
					break
				}
			}
			if strings.Contains(a, "=") {
				out = append(out, a)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		env  []string
		want string // error substring; "" means valid
	}{
		{"minimal", with(), ""},
		{"multi-region key, table ARN", with("FACESIGN_KMS_KEY_ARN="+mrkEU, "FACESIGN_COUNTER_TABLE="+tblARN), ""},
		{"all settings", with("FACESIGN_COUNTER_NAME=prod:gallery", "FACESIGN_COUNTER_CREDENTIALS=instance-role", "FACESIGN_SNAPSHOT_EVERY=500",
			"FACESIGN_KMS_ENDPOINT=https://kms-fips.eu-west-1.amazonaws.com", "FACESIGN_DYNAMODB_ENDPOINT=https://dynamodb-fips.eu-west-1.amazonaws.com/"), ""},
		{"snapshots off", with("FACESIGN_SNAPSHOT_EVERY=0"), ""},
		{"an engine migration", with("FACESIGN_ENGINE=dlibresnet", "FACESIGN_NEXT_ENGINE=mobilefacenet"), ""},
		{"the migrated engine alone", with("FACESIGN_ENGINE=mobilefacenet"), ""},
		{"unknown engine", with("FACESIGN_ENGINE=arcface"), `FACESIGN_ENGINE: "arcface" is not a registered engine`},
		{"unknown next engine", with("FACESIGN_NEXT_ENGINE=arcface"), `FACESIGN_NEXT_ENGINE: "arcface" is not a registered engine`},
		{"migration to the engine in use", with("FACESIGN_ENGINE=dlibresnet", "FACESIGN_NEXT_ENGINE=dlibresnet"), `FACESIGN_NEXT_ENGINE: "dlibresnet" is the engine in use`},
		{"kernel level cap", with("FACESIGN_CPU=avx2"), ""},
		{"kernel level above this CPU's", with("FACESIGN_CPU=avx512"), ""}, // checked by name: the image runs elsewhere
		{"bad kernel level", with("FACESIGN_CPU=sse4"), `FACESIGN_CPU: "sse4": want generic, avx2, avx512 or neon`},
		{"arm64 kernel level", with("FACESIGN_CPU=neon"), ""}, // the image may run on Graviton
		{"nothing", env(), "FACESIGN_REGION: missing"},
		{"missing region", with("FACESIGN_REGION"), "FACESIGN_REGION: missing"},
		{"bad region", with("FACESIGN_REGION=EU West"), `FACESIGN_REGION: "EU West" is not an AWS region name`},
		{"missing key", with("FACESIGN_KMS_KEY_ARN"), "FACESIGN_KMS_KEY_ARN: missing"},
		{"key id, not ARN", with("FACESIGN_KMS_KEY_ARN=1234abcd-12ab-34cd-56ef-1234567890ab"), "FACESIGN_KMS_KEY_ARN: \"1234abcd-12ab-34cd-56ef-1234567890ab\" is not an ARN"},
		{"alias", with("FACESIGN_KMS_KEY_ARN=arn:aws:kms:eu-west-1:111122223333:alias/facesign"), "FACESIGN_KMS_KEY_ARN: an alias can be re-pointed"},
		{"key in another region", with("FACESIGN_REGION=us-east-1"), `FACESIGN_KMS_KEY_ARN: ARN in region "eu-west-1", but FACESIGN_REGION is "us-east-1"`},
		{"not a KMS ARN", with("FACESIGN_KMS_KEY_ARN=arn:aws:s3:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"), `FACESIGN_KMS_KEY_ARN: ARN of service "s3", want kms`},
		{"bad account", with("FACESIGN_KMS_KEY_ARN=arn:aws:kms:eu-west-1:1111:key/1234abcd-12ab-34cd-56ef-1234567890ab"), `account "1111" is not 12 digits`},
		{"bad partition", with("FACESIGN_KMS_KEY_ARN=arn:evil:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"), `unknown partition "evil"`},
		{"bad key id", with("FACESIGN_KMS_KEY_ARN=arn:aws:kms:eu-west-1:111122223333:key/xyz"), `resource "key/xyz" is not key/ID`},
		{"missing table", with("FACESIGN_COUNTER_TABLE"), "FACESIGN_COUNTER_TABLE: missing"},
		{"bad table", with("FACESIGN_COUNTER_TABLE=a b"), "FACESIGN_COUNTER_TABLE: \"a b\" is not a DynamoDB table name"},
		{"table in another region", with("FACESIGN_COUNTER_TABLE=arn:aws:dynamodb:us-east-1:444455556666:table/t12"), `FACESIGN_COUNTER_TABLE: ARN in region "us-east-1"`},
		{"table ARN without table/", with("FACESIGN_COUNTER_TABLE=arn:aws:dynamodb:eu-west-1:444455556666:index/t12"), `resource "index/t12" is not table/NAME`},
		{"bad counter name", with("FACESIGN_COUNTER_NAME=a/b"), "FACESIGN_COUNTER_NAME"},
		{"bad counter credentials", with("FACESIGN_COUNTER_CREDENTIALS=parent"), `FACESIGN_COUNTER_CREDENTIALS: "parent": want sealed or instance-role`},
		{"bad snapshot interval", with("FACESIGN_SNAPSHOT_EVERY=-5"), "FACESIGN_SNAPSHOT_EVERY"},
		{"plain http endpoint", with("FACESIGN_KMS_ENDPOINT=http://kms.eu-west-1.amazonaws.com"), "FACESIGN_KMS_ENDPOINT: \"http://kms.eu-west-1.amazonaws.com\": want https://HOST"},
		{"endpoint with a port", with("FACESIGN_DYNAMODB_ENDPOINT=https://dynamodb.eu-west-1.amazonaws.com:8443"), "FACESIGN_DYNAMODB_ENDPOINT"},
		{"endpoint with a path", with("FACESIGN_DYNAMODB_ENDPOINT=https://example.com/x"), "FACESIGN_DYNAMODB_ENDPOINT"},
		{"unknown setting", with("FACESIGN_KMS_KEY=x", "FACESIGN_DEBUG=1"), "FACESIGN_DEBUG, FACESIGN_KMS_KEY: unknown setting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := stateboot.FromEnv(tc.env)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				// Env gives back what FromEnv reads.
				again, err := stateboot.FromEnv(cfg.Env())
				if err != nil || !reflect.DeepEqual(again, cfg) {
					t.Fatalf("round trip: %+v, %v; want %+v", again, err, cfg)
				}
				return
			}
			if !errors.Is(err, stateboot.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("FromEnv = %v, want ErrConfig containing %q", err, tc.want)
			}
			if !reflect.DeepEqual(cfg, stateboot.Config{}) {
				t.Fatalf("a config came back with the error: %+v", cfg)
			}
		})
	}
}

// TestNewJournalChecksFirst: a bad config or missing links fail before
// anything is dialled, with the error class that names the cause.
func TestNewJournalChecksFirst(t *testing.T) {
	dialled := false
	d := func(context.Context) (net.Conn, error) { dialled = true; return nil, errors.New("no") }
	links := stateboot.Links{KMS: d, DynamoDB: d, Host: d}
	if _, err := stateboot.NewJournal(stateboot.Config{Region: "eu-west-1"}, links, nil); !errors.Is(err, stateboot.ErrConfig) {
		t.Fatalf("bad config: %v", err)
	}
	cfg := stateboot.Config{Region: "eu-west-1", KMSKeyARN: arnEU, CounterTable: "facesign-counter"}
	if _, err := stateboot.NewJournal(cfg, stateboot.Links{}, nil); !errors.Is(err, stateboot.ErrLinks) {
		t.Fatalf("no links: %v", err)
	}
	if _, err := stateboot.NewJournal(cfg, links, nil); !errors.Is(err, stateboot.ErrLinks) {
		t.Fatalf("no attester: %v", err)
	}
	if dialled {
		t.Fatal("dialled before the boot")
	}
}

// TestAWSRootsExcludeSimulator: the production pool is the compiled-in
// public bundle, and a server certificate from the simulator's service CA
// does not verify against it.
func TestAWSRootsExcludeSimulator(t *testing.T) {
	p := stateboot.AWSRoots()
	if p == nil || p != stateboot.AWSRoots() {
		t.Fatal("no root pool")
	}
	ca, err := simulator.NewServiceCA(rand.Reader, now)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServerCertificate(rand.Reader, now, simulator.ServiceHost("kms"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: p, DNSName: simulator.ServiceHost("kms")}); err == nil {
		t.Fatal("a simulator certificate verifies against the production roots")
	}
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: simulator.ServiceHost("kms")}); err != nil {
		t.Fatalf("the simulator's own pool: %v", err)
	}
}

func FuzzFromEnv(f *testing.F) {
	f.Add("eu-west-1", arnEU, "facesign-counter", "", "", "")
	f.Add("sim-local-1", "arn:aws:kms:sim-local-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab", tblARN, "gallery", "sealed", "10")
	f.Add("cn-north-1", "arn:aws-cn:kms:cn-north-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab", "t12", "x", "instance-role", "0")
	f.Add("", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, region, key, table, name, creds, every string) {
		e := []string{"FACESIGN_REGION=" + region, "FACESIGN_KMS_KEY_ARN=" + key, "FACESIGN_COUNTER_TABLE=" + table,
			"FACESIGN_COUNTER_NAME=" + name, "FACESIGN_COUNTER_CREDENTIALS=" + creds}
		if every != "" {
			e = append(e, "FACESIGN_SNAPSHOT_EVERY="+every)
		}
		cfg, err := stateboot.FromEnv(e)
		if err != nil {
			if !errors.Is(err, stateboot.ErrConfig) {
				t.Fatalf("error without ErrConfig: %v", err)
			}
			return
		}
		again, err := stateboot.FromEnv(cfg.Env())
		if err != nil || !reflect.DeepEqual(again, cfg) {
			t.Fatalf("round trip of %+v: %+v, %v", cfg, again, err)
		}
	})
}

// ExampleFromEnv reads the measured image's settings the way the
// production enclave does at boot.
func ExampleFromEnv() {
	cfg, err := stateboot.FromEnv([]string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"FACESIGN_REGION=eu-west-1",
		"FACESIGN_KMS_KEY_ARN=arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"FACESIGN_COUNTER_TABLE=arn:aws:dynamodb:eu-west-1:444455556666:table/facesign-counter",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.KMSEndpoint)
	fmt.Println(cfg.DynamoDBEndpoint)
	fmt.Println(cfg.CounterName, cfg.CounterCredentials, cfg.SnapshotEvery)

	_, err = stateboot.FromEnv([]string{"FACESIGN_REGION=eu-west-1", "FACESIGN_KMS_KEY_ARN=arn:aws:kms:eu-west-1:111122223333:alias/facesign"})
	fmt.Println(err)
	// Output:
	// https://kms.eu-west-1.amazonaws.com
	// https://dynamodb.eu-west-1.amazonaws.com
	// gallery sealed 10000
	// stateboot: bad configuration: FACESIGN_KMS_KEY_ARN: an alias can be re-pointed by whoever manages aliases; name the key (key/ID)
}
