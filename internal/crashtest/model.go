package crashtest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/facesign/facesign/wire"
)

// Op is a face request the workload sends.
type Op string

// The operations.
const (
	Enroll Op = "enroll"
	Login  Op = "login"
	Delete Op = "delete"
)

// ErrViolation reports an answer no correct, crash-safe service could give:
// an acknowledged enrolment lost or changed, a face given a second ID, one
// person's identity handed to another.
var ErrViolation = errors.New("crashtest: durability violation")

// state is what the service may hold for one person: nothing, or one
// identity. An identity with an empty ID is one an unanswered enrolment may
// have created: its ID was never seen.
type state struct {
	enrolled bool
	id       string
	entropy  []byte
}

func (s state) String() string {
	switch {
	case !s.enrolled:
		return "absent"
	case s.id == "":
		return "enrolled(unseen id)"
	}
	return "enrolled(" + s.id + ")"
}

// Model tracks, for each person of the workload, every state the service
// may be in given the answers it acknowledged. An acknowledged answer
// collapses the possibilities to one; a request that got no answer (the
// process died, the connection broke) adds the state it would have led to,
// because its write may or may not have become durable. Every acknowledged
// answer must be consistent with one of the possibilities, or the service
// broke its write-ahead promise.
type Model struct {
	mu      sync.Mutex
	people  map[string][]state
	issued  map[string]string // unique ID → the person it was issued to
	entropy map[string][]byte // unique ID → its entropy
}

// NewModel starts a model in which none of people is enrolled.
func NewModel(people ...string) *Model {
	m := &Model{people: map[string][]state{}, issued: map[string]string{}, entropy: map[string][]byte{}}
	for _, p := range people {
		m.people[p] = []state{{}}
	}
	return m
}

func has(ss []state, f func(state) bool) bool {
	for _, s := range ss {
		if f(s) {
			return true
		}
	}
	return false
}

func absent(s state) bool { return !s.enrolled }

// Possible describes the states person may be in.
func (m *Model) Possible(person string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, s := range m.people[person] {
		out = append(out, s.String())
	}
	return out
}

// Known returns the identity person certainly holds, if the model is sure.
func (m *Model) Known(person string) (id string, entropy []byte, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ss := m.people[person]
	if len(ss) == 1 && ss[0].enrolled && ss[0].id != "" {
		return ss[0].id, bytes.Clone(ss[0].entropy), true
	}
	return "", nil, false
}

// Unanswered records that op for person got no answer.
func (m *Model) Unanswered(person string, op Op) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ss := m.people[person]
	switch op {
	case Enroll:
		if has(ss, absent) && !has(ss, func(s state) bool { return s.enrolled && s.id == "" }) {
			ss = append(ss, state{enrolled: true})
		}
	case Delete:
		if has(ss, func(s state) bool { return s.enrolled }) && !has(ss, absent) {
			ss = append(ss, state{})
		}
	}
	m.people[person] = ss
}

// Answered checks an acknowledged answer to op for person against the
// model and moves it on; a sealed refusal (status rejected) changes
// nothing. It returns an error wrapping [ErrViolation] when the answer is
// impossible for a durable service.
func (m *Model) Answered(person string, op Op, status wire.Status, id string, entropy []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ss := m.people[person]
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s %s answered %s: %s (possible states: %v)", ErrViolation, person, op, status, fmt.Sprintf(format, args...), ss)
	}
	identity := func() error {
		if owner, ok := m.issued[id]; ok && owner != person {
			return bad("unique ID %s belongs to %s", id, owner)
		}
		if e, ok := m.entropy[id]; ok && status != wire.StatusDeleted && !bytes.Equal(e, entropy) {
			return bad("unique ID %s came back with different entropy", id)
		}
		return nil
	}
	switch {
	case status == wire.StatusRejected:
		return nil
	case status == wire.StatusNew && op == Enroll:
		if !has(ss, absent) {
			return bad("a second ID %s for a face that is enrolled", id)
		}
		if _, ok := m.issued[id]; ok {
			return bad("the new ID %s was issued before", id)
		}
		m.issued[id], m.entropy[id] = person, bytes.Clone(entropy)
		m.people[person] = []state{{enrolled: true, id: id, entropy: bytes.Clone(entropy)}}
	case status == wire.StatusExisting && (op == Enroll || op == Login):
		if err := identity(); err != nil {
			return err
		}
		exact := has(ss, func(s state) bool { return s.enrolled && s.id == id })
		_, seen := m.issued[id]
		unseen := has(ss, func(s state) bool { return s.enrolled && s.id == "" }) && !seen
		if !exact && !unseen {
			if has(ss, func(s state) bool { return s.enrolled && s.id != "" }) {
				return bad("ID %s where the acknowledged enrolment said otherwise", id)
			}
			return bad("ID %s for a face that is not enrolled", id)
		}
		m.issued[id], m.entropy[id] = person, bytes.Clone(entropy)
		m.people[person] = []state{{enrolled: true, id: id, entropy: bytes.Clone(entropy)}}
	case status == wire.StatusNotFound && (op == Login || op == Delete):
		if !has(ss, absent) {
			return bad("an acknowledged enrolment was lost")
		}
		m.people[person] = []state{{}}
	case status == wire.StatusDeleted && op == Delete:
		if !has(ss, func(s state) bool { return s.enrolled }) {
			return bad("deleted a face that is not enrolled")
		}
		if id != "" {
			if err := identity(); err != nil {
				return err
			}
			if !has(ss, func(s state) bool { return s.enrolled && (s.id == id || s.id == "") }) {
				return bad("deleted ID %s, not the acknowledged one", id)
			}
		}
		m.people[person] = []state{{}}
	default:
		return bad("not a possible status for this operation")
	}
	return nil
}
