package state

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// liveSet holds every enrolled identity in one pointer-free slab, so a
// gallery of millions costs the garbage collector nothing to scan: each
// slot is id(16) ‖ entropy(32) ‖ vector(4·dim), and the index maps the
// binary UUID to its slot.
type liveSet struct {
	stride int
	index  map[[16]byte]uint32
	slab   []byte
	free   []uint32
}

const (
	idSize      = 16
	entropySize = 32
)

func newLiveSet(dim int) *liveSet {
	return &liveSet{stride: idSize + entropySize + 4*dim, index: map[[16]byte]uint32{}}
}

func (s *liveSet) len() int { return len(s.index) }

var errNotUUID = errors.New("unique id is not a canonical UUID")

// parseID accepts the canonical 36-character UUID form only, so that the
// string round-trips through the 16-byte form unchanged.
func parseID(id string) ([16]byte, error) {
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 || u.String() != id {
		return [16]byte{}, errNotUUID
	}
	return u, nil
}

func (s *liveSet) has(id [16]byte) bool {
	_, ok := s.index[id]
	return ok
}

func (s *liveSet) add(id [16]byte, entropy, vector []byte) error {
	if _, dup := s.index[id]; dup {
		return errors.New("identity enrolled twice")
	}
	if len(entropy) != entropySize || idSize+entropySize+len(vector) != s.stride {
		return errors.New("entry of the wrong shape")
	}
	var slot uint32
	if n := len(s.free); n > 0 {
		slot, s.free = s.free[n-1], s.free[:n-1]
	} else {
		slot = uint32(len(s.slab) / s.stride)
		s.slab = append(s.slab, make([]byte, s.stride)...)
	}
	b := s.slab[int(slot)*s.stride : int(slot+1)*s.stride]
	copy(b, id[:])
	copy(b[idSize:], entropy)
	copy(b[idSize+entropySize:], vector)
	s.index[id] = slot
	return nil
}

func (s *liveSet) remove(id [16]byte) error {
	slot, ok := s.index[id]
	if !ok {
		return errors.New("deletes an identity that is not enrolled")
	}
	clear(s.slab[int(slot)*s.stride : int(slot+1)*s.stride])
	delete(s.index, id)
	s.free = append(s.free, slot)
	return nil
}

// packed returns a copy of the live slots, back to back, in slot order.
func (s *liveSet) packed() []byte {
	out := make([]byte, 0, len(s.index)*s.stride)
	for slot := 0; slot*s.stride < len(s.slab); slot++ {
		b := s.slab[slot*s.stride : (slot+1)*s.stride]
		var id [16]byte
		copy(id[:], b)
		if got, ok := s.index[id]; ok && int(got) == slot {
			out = append(out, b...)
		}
	}
	return out
}

// each calls fn for every live identity; the slices alias the slab and are
// only valid during the call.
func (s *liveSet) each(fn func(id string, entropy, vector []byte) error) error {
	for id, slot := range s.index {
		b := s.slab[int(slot)*s.stride : int(slot+1)*s.stride]
		if err := fn(uuid.UUID(id).String(), b[idSize:idSize+entropySize], b[idSize+entropySize:]); err != nil {
			return err
		}
	}
	return nil
}

func (s *liveSet) String() string { return fmt.Sprintf("liveSet(%d)", len(s.index)) }
