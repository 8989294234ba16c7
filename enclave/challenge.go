package enclave

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/facesign/facesign/wire"
)

// Challenge is one issued liveness challenge: the actions the user must
// perform, in order, before it expires.
type Challenge struct {
	ID        [16]byte
	Nonce     [32]byte
	Actions   []string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// maxOutstanding bounds the challenges held at once (issued, not yet used or
// expired), so a flood of challenge requests cannot exhaust enclave memory.
const maxOutstanding = 1 << 14

// challengeActions is how many distinct actions one challenge asks for (fewer
// when the policy enables fewer).
const challengeActions = 2

// Challenges issues and consumes single-use challenges. It is safe for
// concurrent use. A consumed challenge leaves a tombstone until it would have
// expired, so reuse is reported as [wire.CodeChallengeReused] rather than
// unknown.
type Challenges struct {
	ttl     time.Duration
	actions []string

	mu      sync.Mutex
	live    map[[16]byte]*Challenge
	used    map[[16]byte]time.Time // tombstone → expiry
	expired map[[16]byte]time.Time // recently expired ids → when to forget them
}

// NewChallenges makes a store issuing challenges from actions with lifetime ttl.
func NewChallenges(ttl time.Duration, actions []string) (*Challenges, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("enclave: challenge ttl %v must be positive", ttl)
	}
	if len(actions) == 0 {
		return nil, errors.New("enclave: policy enables no liveness actions")
	}
	for _, a := range actions {
		if !knownAction(a) {
			return nil, fmt.Errorf("enclave: unknown liveness action %q", a)
		}
	}
	return &Challenges{
		ttl:     ttl,
		actions: slices.Clone(actions),
		live:    map[[16]byte]*Challenge{},
		used:    map[[16]byte]time.Time{},
		expired: map[[16]byte]time.Time{},
	}, nil
}

func knownAction(a string) bool {
	switch a {
	case wire.ActionTurnLeft, wire.ActionTurnRight, wire.ActionOpenMouth, wire.ActionFaceFront:
		return true
	}
	return false
}

// Issue makes a fresh challenge at now with randomness from rand.
func (c *Challenges) Issue(now time.Time, rand io.Reader) (Challenge, error) {
	if now.IsZero() {
		return Challenge{}, errZeroTime
	}
	var ch Challenge
	if _, err := io.ReadFull(rand, ch.ID[:]); err != nil {
		return Challenge{}, fmt.Errorf("enclave: challenge id: %w", err)
	}
	if _, err := io.ReadFull(rand, ch.Nonce[:]); err != nil {
		return Challenge{}, fmt.Errorf("enclave: challenge nonce: %w", err)
	}
	acts, err := pickActions(c.actions, min(challengeActions, len(c.actions)), rand)
	if err != nil {
		return Challenge{}, err
	}
	ch.Actions = acts
	ch.IssuedAt = now
	ch.ExpiresAt = now.Add(c.ttl)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.purge(now)
	if len(c.live) >= maxOutstanding {
		return Challenge{}, wire.Errorf(wire.CodeUnavailable, "too many outstanding challenges")
	}
	if _, dup := c.live[ch.ID]; dup {
		return Challenge{}, errors.New("enclave: challenge id collision")
	}
	stored := ch
	stored.Actions = slices.Clone(acts)
	c.live[ch.ID] = &stored
	return ch, nil
}

// Consume checks id and nonce at now and uses the challenge up: it never
// validates twice. A wrong nonce is reported as unknown and does not consume.
func (c *Challenges) Consume(id, nonce []byte, now time.Time) (Challenge, error) {
	if now.IsZero() {
		return Challenge{}, errZeroTime
	}
	if len(id) != 16 || len(nonce) != 32 {
		return Challenge{}, wire.Errorf(wire.CodeChallengeUnknown, "challenge id must be 16 bytes and nonce 32")
	}
	key := [16]byte(id)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.purge(now)
	ch, ok := c.live[key]
	if !ok {
		if _, used := c.used[key]; used {
			return Challenge{}, wire.Errorf(wire.CodeChallengeReused, "challenge was already used")
		}
		if _, exp := c.expired[key]; exp {
			return Challenge{}, wire.Errorf(wire.CodeChallengeExpired, "challenge expired")
		}
		return Challenge{}, wire.Errorf(wire.CodeChallengeUnknown, "no such challenge")
	}
	if subtle.ConstantTimeCompare(ch.Nonce[:], nonce) != 1 {
		return Challenge{}, wire.Errorf(wire.CodeChallengeUnknown, "no such challenge")
	}
	delete(c.live, key)
	if !now.Before(ch.ExpiresAt) {
		c.expired[key] = ch.ExpiresAt.Add(c.ttl)
		return Challenge{}, wire.Errorf(wire.CodeChallengeExpired, "challenge expired")
	}
	c.used[key] = ch.ExpiresAt.Add(c.ttl)
	out := *ch
	return out, nil
}

// Outstanding is the number of issued, unused, unexpired challenges.
func (c *Challenges) Outstanding() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.live)
}

// purge moves expired challenges to the expired set and forgets tombstones
// older than one more TTL. Called with c.mu held.
func (c *Challenges) purge(now time.Time) {
	for id, ch := range c.live {
		if !now.Before(ch.ExpiresAt) {
			delete(c.live, id)
			c.expired[id] = ch.ExpiresAt.Add(c.ttl)
		}
	}
	for _, m := range []map[[16]byte]time.Time{c.used, c.expired} {
		for id, until := range m {
			if !now.Before(until) {
				delete(m, id)
			}
		}
	}
}

// pickActions draws k distinct actions uniformly at random, in random order.
func pickActions(set []string, k int, rand io.Reader) ([]string, error) {
	pool := slices.Clone(set)
	out := make([]string, 0, k)
	for i := 0; i < k; i++ {
		j, err := uniform(rand, len(pool))
		if err != nil {
			return nil, err
		}
		out = append(out, pool[j])
		pool = slices.Delete(pool, j, j+1)
	}
	return out, nil
}

// uniform returns an unbiased integer in [0, n) by rejection sampling.
func uniform(rand io.Reader, n int) (int, error) {
	if n <= 0 {
		return 0, errors.New("enclave: empty action set")
	}
	limit := ^uint32(0) - (^uint32(0) % uint32(n))
	var b [4]byte
	for {
		if _, err := io.ReadFull(rand, b[:]); err != nil {
			return 0, fmt.Errorf("enclave: randomness: %w", err)
		}
		if v := binary.BigEndian.Uint32(b[:]); v < limit {
			return int(v % uint32(n)), nil
		}
	}
}
