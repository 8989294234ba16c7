package stateboot

import (
	"errors"
	"testing"
)

func TestParseCredentials(t *testing.T) {
	for _, tc := range []struct {
		in  string
		ok  bool
		exp bool
	}{
		{`{"AccessKeyId":"AKIA1","SecretAccessKey":"s"}`, true, false},
		{`{"AccessKeyId":"ASIA1","SecretAccessKey":"s","SessionToken":"t","Expiration":"2026-11-22T12:00:00Z"}`, true, true},
		{`{"AccessKeyId":"AKIA1"}`, false, false},
		{`{"AccessKeyId":"AKIA1","SecretAccessKey":"s","Extra":1}`, false, false},
		{`{"AccessKeyId":"AKIA1","SecretAccessKey":"s"} {}`, false, false},
		{`{"AccessKeyId":"AKIA1","SecretAccessKey":"s","Expiration":"tomorrow"}`, false, false},
		{`null`, false, false},
		{``, false, false},
	} {
		c, err := parseCredentials([]byte(tc.in), "test")
		if tc.ok != (err == nil) {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if err != nil {
			if !errors.Is(err, ErrCredentials) {
				t.Fatalf("%s: %v is not ErrCredentials", tc.in, err)
			}
			continue
		}
		if c.CanExpire != tc.exp || c.Source != "test" {
			t.Fatalf("%s: %+v", tc.in, c)
		}
	}
}

func FuzzParseCredentials(f *testing.F) {
	f.Add([]byte(`{"AccessKeyId":"AKIA1","SecretAccessKey":"s"}`))
	f.Add([]byte(`{"AccessKeyId":"ASIA1","SecretAccessKey":"s","SessionToken":"t","Expiration":"2026-11-22T12:00:00Z"}`))
	f.Add([]byte(`{"AccessKeyId":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseCredentials(b, "fuzz")
		if err != nil {
			if !errors.Is(err, ErrCredentials) {
				t.Fatalf("error without ErrCredentials: %v", err)
			}
			return
		}
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			t.Fatalf("accepted incomplete credentials %+v", c)
		}
	})
}
