package crashtest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/facesign/facesign/wire"
)

type step struct {
	person   string
	op       Op
	answered bool // false: the request got no answer
	status   wire.Status
	id       string
	entropy  byte
	bad      bool // the model must report a violation
}

func TestModel(t *testing.T) {
	e := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	ok := func(p string, op Op, st wire.Status, id string, ent byte) step {
		return step{person: p, op: op, answered: true, status: st, id: id, entropy: ent}
	}
	bad := func(s step) step { s.bad = true; return s }
	lost := func(p string, op Op) step { return step{person: p, op: op} }
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"enrol, login, delete", []step{
			ok("A", Enroll, wire.StatusNew, "id1", 1), ok("A", Login, wire.StatusExisting, "id1", 1),
			ok("A", Enroll, wire.StatusExisting, "id1", 1), ok("A", Delete, wire.StatusDeleted, "id1", 0),
			ok("A", Login, wire.StatusNotFound, "", 0), ok("A", Enroll, wire.StatusNew, "id2", 2),
		}},
		{"an acknowledged enrolment lost", []step{
			ok("A", Enroll, wire.StatusNew, "id1", 1), bad(ok("A", Login, wire.StatusNotFound, "", 0)),
		}},
		{"a second ID for an enrolled face", []step{
			ok("A", Enroll, wire.StatusNew, "id1", 1), bad(ok("A", Enroll, wire.StatusNew, "id2", 2)),
		}},
		{"another ID on login", []step{
			ok("A", Enroll, wire.StatusNew, "id1", 1), bad(ok("A", Login, wire.StatusExisting, "id9", 1)),
		}},
		{"entropy changed", []step{
			ok("A", Enroll, wire.StatusNew, "id1", 1), bad(ok("A", Login, wire.StatusExisting, "id1", 7)),
		}},
		{"one person's identity handed to another", []step{
			ok("A", Enroll, wire.StatusNew, "id1", 1), bad(ok("B", Login, wire.StatusExisting, "id1", 1)),
		}},
		{"an ID issued twice", []step{
			ok("A", Enroll, wire.StatusNew, "id1", 1), ok("A", Delete, wire.StatusDeleted, "id1", 0),
			bad(ok("B", Enroll, wire.StatusNew, "id1", 3)),
		}},
		{"unanswered enrolment that did not happen", []step{
			lost("A", Enroll), ok("A", Login, wire.StatusNotFound, "", 0), ok("A", Enroll, wire.StatusNew, "id1", 1),
		}},
		{"unanswered enrolment that happened", []step{
			lost("A", Enroll), ok("A", Login, wire.StatusExisting, "id1", 1), ok("A", Enroll, wire.StatusExisting, "id1", 1),
			bad(ok("A", Login, wire.StatusExisting, "id2", 2)),
		}},
		{"unanswered enrolment, then new", []step{
			lost("A", Enroll), ok("A", Enroll, wire.StatusNew, "id1", 1), bad(ok("A", Login, wire.StatusNotFound, "", 0)),
		}},
		{"unanswered delete either way", []step{
			ok("A", Enroll, wire.StatusNew, "id1", 1), lost("A", Delete), ok("A", Login, wire.StatusExisting, "id1", 1),
			lost("A", Delete), ok("A", Login, wire.StatusNotFound, "", 0),
		}},
		{"unanswered delete does not allow another ID", []step{
			ok("A", Enroll, wire.StatusNew, "id1", 1), lost("A", Delete), bad(ok("A", Login, wire.StatusExisting, "id2", 2)),
		}},
		{"unanswered login changes nothing", []step{
			ok("A", Enroll, wire.StatusNew, "id1", 1), lost("A", Login), bad(ok("A", Login, wire.StatusNotFound, "", 0)),
		}},
		{"refusals change nothing", []step{
			ok("A", Enroll, wire.StatusNew, "id1", 1), ok("A", Delete, wire.StatusRejected, "", 0),
			ok("A", Login, wire.StatusExisting, "id1", 1),
		}},
		{"delete of an absent face", []step{
			ok("A", Delete, wire.StatusNotFound, "", 0), bad(ok("A", Delete, wire.StatusDeleted, "id1", 0)),
		}},
		{"a status the operation cannot have", []step{
			bad(ok("A", Login, wire.StatusNew, "id1", 1)),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewModel("A", "B")
			for i, s := range tc.steps {
				if !s.answered {
					m.Unanswered(s.person, s.op)
					continue
				}
				var ent []byte
				if s.entropy != 0 {
					ent = e(s.entropy)
				}
				err := m.Answered(s.person, s.op, s.status, s.id, ent)
				if s.bad != errors.Is(err, ErrViolation) || (err != nil && !s.bad) {
					t.Fatalf("step %d (%s %s → %s %s): %v, want violation=%v", i, s.person, s.op, s.status, s.id, err, s.bad)
				}
				if s.bad {
					return
				}
			}
		})
	}
}
