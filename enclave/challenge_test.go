package enclave

import (
	"errors"
	"testing"
	"time"

	"github.com/facesign/facesign/wire"
)

func TestChallenges(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	acts := []string{wire.ActionTurnLeft, wire.ActionTurnRight, wire.ActionOpenMouth}
	c, err := NewChallenges(time.Minute, acts)
	if err != nil {
		t.Fatal(err)
	}
	rnd := seededRand(5)
	seen := map[string]int{}
	for range 200 {
		ch, err := c.Issue(t0, rnd)
		if err != nil {
			t.Fatal(err)
		}
		if len(ch.Actions) != 2 || ch.Actions[0] == ch.Actions[1] || !ch.ExpiresAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("%+v", ch)
		}
		seen[ch.Actions[0]+">"+ch.Actions[1]]++
	}
	if len(seen) != 6 {
		t.Fatalf("only %d of 6 ordered action pairs in 200 draws: %v", len(seen), seen)
	}

	code := func(err error) wire.Code {
		var e *wire.Error
		if !errors.As(err, &e) {
			t.Fatalf("untyped error %v", err)
		}
		return e.Code
	}
	ch, _ := c.Issue(t0, rnd)
	tests := []struct {
		name  string
		id    []byte
		nonce []byte
		at    time.Time
		want  wire.Code
	}{
		{"short id", ch.ID[:8], ch.Nonce[:], t0, wire.CodeChallengeUnknown},
		{"unknown id", make([]byte, 16), ch.Nonce[:], t0, wire.CodeChallengeUnknown},
		{"wrong nonce", ch.ID[:], make([]byte, 32), t0, wire.CodeChallengeUnknown},
		{"ok", ch.ID[:], ch.Nonce[:], t0.Add(59 * time.Second), ""},
		{"reused", ch.ID[:], ch.Nonce[:], t0.Add(59 * time.Second), wire.CodeChallengeReused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Consume(tt.id, tt.nonce, tt.at)
			if tt.want == "" {
				if err != nil || got.ID != ch.ID {
					t.Fatalf("%v", err)
				}
				return
			}
			if code(err) != tt.want {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
		})
	}
	late, _ := c.Issue(t0, rnd)
	if _, err := c.Consume(late.ID[:], late.Nonce[:], t0.Add(time.Minute)); code(err) != wire.CodeChallengeExpired {
		t.Fatalf("at expiry: %v", err)
	}
	late2, _ := c.Issue(t0, rnd)
	if _, err := c.Issue(t0.Add(90*time.Second), rnd); err != nil { // purges late2
		t.Fatal(err)
	}
	if _, err := c.Consume(late2.ID[:], late2.Nonce[:], t0.Add(90*time.Second)); code(err) != wire.CodeChallengeExpired {
		t.Fatalf("purged: %v", err)
	}
	if _, err := c.Issue(time.Time{}, rnd); !errors.Is(err, errZeroTime) {
		t.Fatalf("zero time: %v", err)
	}
	if _, err := c.Consume(ch.ID[:], ch.Nonce[:], time.Time{}); !errors.Is(err, errZeroTime) {
		t.Fatalf("zero time: %v", err)
	}
	if _, err := NewChallenges(0, acts); err == nil {
		t.Fatal("zero ttl")
	}
	if _, err := NewChallenges(time.Minute, nil); err == nil {
		t.Fatal("no actions")
	}
}
