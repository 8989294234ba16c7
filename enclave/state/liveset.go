package state

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/google/uuid"
)

// liveSet holds every enrolled identity in pointer-free pages, so a gallery
// of millions costs the garbage collector nothing to scan and growing it
// never copies what is there: each slot is id(16) ‖ entropy(32) ‖
// vector(4·dim), pageSlots slots to a page, and the index maps the binary
// UUID to its slot. A bitmap marks the live slots, so walks go in slot
// order (sequential memory, a deterministic order) without touching the
// index.
//
// The same structure keeps the identities' further templates
// ([newTemplateSet]): slots of id(16) ‖ position(1) ‖ vector(4·dim), keyed
// by (id, position). K is the key type; a slot starts with its key's
// keySize bytes, followed by two fields of fixed lengths (aLen, bLen).
//
// Snapshots take a copy-on-write view ([liveSet.capture]): the view shares
// the pages, and a page the set writes to while a view may read it is
// copied first. A snapshot therefore costs the pages changed while it is
// written, not a second copy of the gallery.
type liveSet[K comparable] struct {
	stride  int
	keySize int
	aLen    int // length of the field after the key (entropy; 0 for templates)
	bLen    int // length of the last field (the vector)
	keyOf   func(b []byte) K
	putKey  func(b []byte, k K)
	index   map[K]uint32
	pages   [][]byte // each pageSlots·stride bytes
	live    []uint64 // bit i: slot i is live
	hw      int      // slots ever handed out: the next fresh slot
	free    []uint32

	// Copy-on-write bookkeeping for views.
	shared   []bool   // page i may be read by a view
	views    int      // views not yet released
	orphaned [][]byte // pages replaced while views were out; cleared when the last is released
}

// tplKey names one template: the identity and the template's position
// (1 … enclave.MaxTemplates−1; position 0 is the enrolment vector, kept
// in the identity's own slot).
type tplKey struct {
	id  [16]byte
	pos uint8
}

const (
	idSize      = 16
	entropySize = 32
	// pageSlots is the number of slots in one page. It equals the number of
	// entries in a snapshot chunk, so a chunk decrypts straight into a page.
	pageSlots = chunkEntries
)

// tplHeader is the size of a template slot's key: id(16) ‖ position(1).
const tplHeader = idSize + 1

// newLiveSet makes the set of identities: id(16) ‖ entropy(32) ‖ vector.
func newLiveSet(dim int) *liveSet[[16]byte] {
	return &liveSet[[16]byte]{
		stride: idSize + entropySize + 4*dim, keySize: idSize, aLen: entropySize, bLen: 4 * dim,
		keyOf:  func(b []byte) (k [16]byte) { copy(k[:], b); return k },
		putKey: func(b []byte, k [16]byte) { copy(b, k[:]) },
		index:  map[[16]byte]uint32{},
	}
}

// newTemplateSet makes the set of further templates: id(16) ‖ position(1)
// ‖ vector.
func newTemplateSet(dim int) *liveSet[tplKey] {
	return &liveSet[tplKey]{
		stride: tplHeader + 4*dim, keySize: tplHeader, aLen: 0, bLen: 4 * dim,
		keyOf: func(b []byte) (k tplKey) {
			copy(k.id[:], b)
			k.pos = b[idSize]
			return k
		},
		putKey: func(b []byte, k tplKey) { copy(b, k.id[:]); b[idSize] = k.pos },
		index:  map[tplKey]uint32{},
	}
}

func (s *liveSet[K]) len() int { return len(s.index) }

var errNotUUID = errors.New("unique id is not a canonical UUID")

// parseID accepts the canonical 36-character UUID form only, so that the
// string round-trips through the 16-byte form unchanged.
func parseID(id string) ([16]byte, error) {
	if len(id) != 36 {
		return [16]byte{}, errNotUUID
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return [16]byte{}, errNotUUID
	}
	var text [36]byte
	if string(appendUUID(text[:0], u[:])) != id {
		return [16]byte{}, errNotUUID
	}
	return u, nil
}

// reserve sizes the index for n identities, so loading a snapshot of n
// does not rehash the index as it grows.
func (s *liveSet[K]) reserve(n int) {
	if len(s.index) == 0 && n > 0 {
		s.index = make(map[K]uint32, n)
	}
}

func (s *liveSet[K]) has(id K) bool {
	_, ok := s.index[id]
	return ok
}

func (s *liveSet[K]) setLive(slot int, on bool) {
	if on {
		s.live[slot/64] |= 1 << (slot % 64)
	} else {
		s.live[slot/64] &^= 1 << (slot % 64)
	}
}

// slot returns the bytes of slot i for reading.
func (s *liveSet[K]) slot(i int) []byte {
	p, off := i/pageSlots, (i%pageSlots)*s.stride
	return s.pages[p][off : off+s.stride : off+s.stride]
}

// writable returns the bytes of slot i for writing, first copying its page
// if a view may be reading it.
func (s *liveSet[K]) writable(i int) []byte {
	p := i / pageSlots
	if s.shared[p] {
		fresh := make([]byte, len(s.pages[p]))
		copy(fresh, s.pages[p])
		s.orphaned = append(s.orphaned, s.pages[p])
		s.pages[p], s.shared[p] = fresh, false
	}
	return s.slot(i)
}

// grow adds one zeroed page.
func (s *liveSet[K]) grow() {
	s.pages = append(s.pages, make([]byte, pageSlots*s.stride))
	s.shared = append(s.shared, false)
	for len(s.live)*64 < len(s.pages)*pageSlots {
		s.live = append(s.live, 0)
	}
}

// take hands out a slot: a freed one if there is one, else a fresh one.
func (s *liveSet[K]) take() (int, error) {
	if n := len(s.free); n > 0 {
		slot := s.free[n-1]
		s.free = s.free[:n-1]
		return int(slot), nil
	}
	if s.hw >= maxSlots {
		return 0, errors.New("live set full")
	}
	if s.hw == len(s.pages)*pageSlots {
		s.grow()
	}
	s.hw++
	return s.hw - 1, nil
}

// maxSlots keeps slot numbers in the index's uint32.
const maxSlots = 1<<32 - 1

// add stores key ‖ a ‖ b in a free slot; a and b must have the set's
// field lengths (identities: entropy and vector; templates: nothing and
// the vector).
func (s *liveSet[K]) add(id K, a, b []byte) error {
	if _, dup := s.index[id]; dup {
		return errors.New("identity enrolled twice")
	}
	if len(a) != s.aLen || len(b) != s.bLen {
		return errors.New("entry of the wrong shape")
	}
	slot, err := s.take()
	if err != nil {
		return err
	}
	d := s.writable(slot)
	s.putKey(d, id)
	copy(d[s.keySize:], a)
	copy(d[s.keySize+s.aLen:], b)
	s.setLive(slot, true)
	s.index[id] = uint32(slot)
	return nil
}

// replace overwrites the last field (the vector) of the entry under id.
func (s *liveSet[K]) replace(id K, b []byte) error {
	slot, ok := s.index[id]
	if !ok {
		return errors.New("replaces an entry that is not there")
	}
	if len(b) != s.bLen {
		return errors.New("entry of the wrong shape")
	}
	copy(s.writable(int(slot))[s.keySize+s.aLen:], b)
	return nil
}

func (s *liveSet[K]) remove(id K) error {
	slot, ok := s.index[id]
	if !ok {
		return errors.New("deletes an identity that is not enrolled")
	}
	clear(s.writable(int(slot)))
	s.setLive(int(slot), false)
	delete(s.index, id)
	s.free = append(s.free, slot)
	return nil
}

// loadPage fills the next fresh page with n entries that fill writes into
// dst (n·stride bytes, aliasing the page: no copy), then indexes them. It
// needs an empty free list and a high-water mark on a page boundary, as
// loading a snapshot into a new set has. On an error the set must be
// dropped.
func (s *liveSet[K]) loadPage(n int, fill func(dst []byte) error) error {
	if len(s.free) != 0 || s.hw%pageSlots != 0 || n < 1 || n > pageSlots {
		return errors.New("live set: page load out of order")
	}
	if uint64(s.hw)+uint64(n) > maxSlots {
		return errors.New("live set full")
	}
	s.grow()
	page := s.pages[len(s.pages)-1]
	if err := fill(page[:n*s.stride]); err != nil {
		clear(page)
		return err
	}
	for k := range n {
		id := s.keyOf(page[k*s.stride:])
		if _, dup := s.index[id]; dup {
			return fmt.Errorf("entry %d: identity enrolled twice", k)
		}
		s.index[id] = uint32(s.hw + k)
		s.setLive(s.hw+k, true)
	}
	s.hw += n
	return nil
}

// each calls fn for every live slot in slot order; b aliases the set and
// is only valid during the call.
func (s *liveSet[K]) each(fn func(b []byte) error) error {
	for w, word := range s.live {
		for word != 0 {
			i := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
			if err := fn(s.slot(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// view is a point-in-time copy-on-write picture of a [liveSet], read
// without the set's lock while the set goes on changing.
type view struct {
	stride int
	count  int
	pages  [][]byte
	live   []uint64
	next   int // next slot to look at in fill
}

// capture returns a view of the set as it is now. The caller must
// [liveSet.release] it (under the same lock as every other call).
func (s *liveSet[K]) capture() *view {
	for i := range s.shared {
		s.shared[i] = true
	}
	s.views++
	return &view{
		stride: s.stride,
		count:  len(s.index),
		pages:  append([][]byte(nil), s.pages...),
		live:   append([]uint64(nil), s.live...),
	}
}

// release ends a view. When no view is left, the pages replaced while
// views were out are wiped (they hold entropy of identities that may since
// have been deleted) and every page is the set's own again.
func (s *liveSet[K]) release(v *view) {
	v.pages, v.live = nil, nil
	s.views--
	if s.views > 0 {
		return
	}
	for _, p := range s.orphaned {
		clear(p)
	}
	s.orphaned = nil
	for i := range s.shared {
		s.shared[i] = false
	}
}

// fill copies up to len(dst)/stride further live entries into dst, back to
// back in slot order, and returns how many it copied.
func (v *view) fill(dst []byte) int {
	n := 0
	for ; n < len(dst)/v.stride && v.next < len(v.live)*64; v.next++ {
		i := v.next
		if v.live[i/64]&(1<<(i%64)) == 0 {
			if v.live[i/64]>>(i%64) == 0 {
				v.next = (i/64+1)*64 - 1 // the rest of this word is free
			}
			continue
		}
		p, off := i/pageSlots, (i%pageSlots)*v.stride
		copy(dst[n*v.stride:], v.pages[p][off:off+v.stride])
		n++
	}
	return n
}

func (s *liveSet[K]) String() string { return fmt.Sprintf("liveSet(%d)", len(s.index)) }
