package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/facesign/facesign/enclave/stateboot"
)

const goodARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

var errNoNSM = errors.New("test: no NSM here")

// TestRunConfigFirst: the measured configuration is checked before the
// enclave opens the NSM or dials anything; a bad one is a clear ErrConfig
// naming the variable.
func TestRunConfigFirst(t *testing.T) {
	good := []string{"FACESIGN_REGION=eu-west-1", "FACESIGN_KMS_KEY_ARN=" + goodARN, "FACESIGN_COUNTER_TABLE=facesign-counter", "PATH=/bin"}
	for _, tc := range []struct {
		name    string
		env     []string
		want    string // substring of the error; "" means config accepted
		started bool
	}{
		{"empty image env", []string{"PATH=/bin"}, "FACESIGN_REGION: missing", false},
		{"no key", []string{"FACESIGN_REGION=eu-west-1", "FACESIGN_COUNTER_TABLE=t12"}, "FACESIGN_KMS_KEY_ARN: missing", false},
		{"key in another region", []string{"FACESIGN_REGION=us-east-1", "FACESIGN_KMS_KEY_ARN=" + goodARN, "FACESIGN_COUNTER_TABLE=t12"}, "FACESIGN_KMS_KEY_ARN: ARN in region \"eu-west-1\"", false},
		{"typo", append(append([]string(nil), good...), "FACESIGN_REGOIN=eu-west-1"), "FACESIGN_REGOIN: unknown setting", false},
		{"good", good, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opened := false
			err := run(context.Background(), tc.env, io.Discard, func() (nitroAttester, error) {
				opened = true
				return nil, errNoNSM
			})
			if opened != tc.started {
				t.Fatalf("NSM opened = %v, want %v", opened, tc.started)
			}
			if tc.want == "" {
				if !errors.Is(err, errNoNSM) {
					t.Fatalf("run = %v, want the NSM error after the config passed", err)
				}
				return
			}
			if !errors.Is(err, stateboot.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run = %v, want ErrConfig with %q", err, tc.want)
			}
		})
	}
}
