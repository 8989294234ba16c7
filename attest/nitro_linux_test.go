//go:build linux && (amd64 || arm64)

package attest

import (
	"bytes"
	"errors"
	"io"
	"syscall"
	"testing"
	"unsafe"

	"github.com/fxamacker/cbor/v2"
	"github.com/hf/nsm"
)

// This file drives the real github.com/hf/nsm session code against a
// scripted device injected through nsm.Options: the requests the NSM would
// receive are captured byte for byte and canned NSM responses are returned.
// What it cannot show: the behaviour of a real /dev/nsm (there is no Nitro
// hardware here).

// ioctlMessage is the kernel's struct nsm_message: two iovecs.
type ioctlMessage struct {
	Request  syscall.Iovec
	Response syscall.Iovec
}

const (
	fakeFD     = 42
	nsmIoctlRW = 3<<30 | uint(unsafe.Sizeof(ioctlMessage{}))<<16 | 0x0A<<8 // _IOWR(0x0A, 0, struct nsm_message)
	maxFake    = 8
)

// fake is the scripted device. hf/nsm passes the address of a stack
// variable as a uintptr, so fakeSyscall must not grow the stack before it
// is done with it: it is nosplit, uninstrumented, and only copies. Tests
// using it do not run in parallel.
var fake struct {
	resp    [maxFake][]byte
	req     [maxFake][4096]byte
	reqLen  [maxFake]int
	trap    [maxFake]uintptr
	fd      [maxFake]uintptr
	cmd     [maxFake]uintptr
	n, nmax int
}

//go:nosplit
//go:norace
//go:nocheckptr
func fakeSyscall(trap, fd, cmd, arg uintptr) (uintptr, uintptr, syscall.Errno) {
	if fake.n >= fake.nmax {
		return 0, 0, syscall.EIO
	}
	msg := *(**ioctlMessage)(unsafe.Pointer(&arg))
	in := (*[4096]byte)(unsafe.Pointer(msg.Request.Base))[:msg.Request.Len:msg.Request.Len]
	fake.reqLen[fake.n] = copy(fake.req[fake.n][:], in)
	out := (*[0x3000]byte)(unsafe.Pointer(msg.Response.Base))[:msg.Response.Len:msg.Response.Len]
	msg.Response.Len = uint64(copy(out, fake.resp[fake.n]))
	fake.trap[fake.n], fake.fd[fake.n], fake.cmd[fake.n] = trap, fd, cmd
	fake.n++
	return 0, 0, 0
}

type fakeFile struct{}

func (fakeFile) Fd() uintptr  { return fakeFD }
func (fakeFile) Close() error { return nil }

// script opens a Nitro attester whose device answers with resps, in order.
func script(t *testing.T, resps ...any) *Nitro {
	t.Helper()
	if len(resps) > maxFake {
		t.Fatal("too many responses")
	}
	fake.n, fake.nmax = 0, len(resps)
	for i, r := range resps {
		b, err := cbor.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		fake.resp[i] = b
	}
	n, err := OpenNitroDevice(nsm.Options{
		Open:    func() (nsm.FileDescriptor, error) { return fakeFile{}, nil },
		Syscall: fakeSyscall,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// sentRequest returns the i-th captured request, checking the ioctl itself.
func sentRequest(t *testing.T, i int) []byte {
	t.Helper()
	if i >= fake.n {
		t.Fatalf("request %d was not sent (%d sent)", i, fake.n)
	}
	if fake.trap[i] != syscall.SYS_IOCTL || fake.fd[i] != fakeFD || fake.cmd[i] != uintptr(nsmIoctlRW) {
		t.Fatalf("syscall %d(%d, %#x), want ioctl(%d, %#x)", fake.trap[i], fake.fd[i], fake.cmd[i], fakeFD, nsmIoctlRW)
	}
	return fake.req[i][:fake.reqLen[i]]
}

func mustCBOR(t *testing.T, v any) []byte {
	t.Helper()
	b, err := cbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNitroAttest(t *testing.T) {
	doc := realDoc(t)
	n := script(t, map[string]any{"Attestation": map[string]any{"document": doc}})
	got, err := n.Attest(Request{Nonce: []byte{1, 2, 3}, UserData: []byte("binding")})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, doc) {
		t.Fatal("document not passed through")
	}
	if _, err := Verify(got, VerifyOptions{AtDocumentTime: true}); err != nil {
		t.Fatal(err)
	}
	// The request as the NSM receives it: {"Attestation": {...}} with the
	// absent public key as CBOR null.
	var req map[string]map[string]cbor.RawMessage
	if err := cbor.Unmarshal(sentRequest(t, 0), &req); err != nil {
		t.Fatal(err)
	}
	a := req["Attestation"]
	if len(req) != 1 || len(a) != 3 {
		t.Fatalf("request %x", sentRequest(t, 0))
	}
	for k, want := range map[string][]byte{
		"nonce":      mustCBOR(t, []byte{1, 2, 3}),
		"user_data":  mustCBOR(t, []byte("binding")),
		"public_key": {0xf6},
	} {
		if !bytes.Equal(a[k], want) {
			t.Errorf("%s encoded %x, want %x", k, []byte(a[k]), want)
		}
	}
}

func TestNitroAttestErrors(t *testing.T) {
	t.Run("too large", func(t *testing.T) {
		n := script(t)
		if _, err := n.Attest(Request{UserData: make([]byte, MaxFieldSize+1)}); !errors.Is(err, ErrRequest) {
			t.Fatalf("got %v", err)
		}
		if fake.n != 0 {
			t.Fatal("an oversized request reached the device")
		}
	})
	t.Run("nsm error", func(t *testing.T) {
		n := script(t, map[string]any{"Error": "InputTooLarge"})
		_, err := n.Attest(Request{})
		var ne *NSMError
		if !errors.As(err, &ne) || ne.Code != "InputTooLarge" || !errors.Is(err, ErrRequest) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("device failure", func(t *testing.T) {
		n := script(t) // no scripted response: the ioctl fails with EIO
		var ioe *nsm.ErrorIoctlFailed
		if _, err := n.Attest(Request{}); !errors.As(err, &ioe) || ioe.Errno != syscall.EIO {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("empty document", func(t *testing.T) {
		n := script(t, map[string]any{"Attestation": map[string]any{"document": []byte{}}})
		if _, err := n.Attest(Request{}); err == nil {
			t.Fatal("accepted an empty document")
		}
	})
}

func TestNitroRandom(t *testing.T) {
	chunk := func(b byte) any {
		return map[string]any{"GetRandom": map[string]any{"random": bytes.Repeat([]byte{b}, 256)}}
	}
	n := script(t, chunk(1), chunk(2))
	buf := make([]byte, 300)
	if _, err := io.ReadFull(n.Random(), buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf[:256], bytes.Repeat([]byte{1}, 256)) || !bytes.Equal(buf[256:], bytes.Repeat([]byte{2}, 44)) {
		t.Fatal("random bytes not taken from the device in order")
	}
	for i := range 2 {
		if want := mustCBOR(t, "GetRandom"); !bytes.Equal(sentRequest(t, i), want) {
			t.Fatalf("request %d = %x, want %x", i, sentRequest(t, i), want)
		}
	}
	n = script(t, map[string]any{"Error": "InternalError"})
	if _, err := n.Random().Read(buf); err == nil {
		t.Fatal("a failed GetRandom returned no error")
	}
}

func TestNitroPCRs(t *testing.T) {
	val := bytes.Repeat([]byte{7}, 48)
	n := script(t,
		map[string]any{"DescribePCR": map[string]any{"lock": true, "data": val}},
		map[string]any{"ExtendPCR": map[string]any{"data": val}},
		map[string]any{"Error": "ReadOnlyIndex"},
		"LockPCR",
		"LockPCRs",
		map[string]any{"Error": "InvalidIndex"},
	)
	v, locked, err := n.DescribePCR(3)
	if err != nil || !locked || !bytes.Equal(v, val) {
		t.Fatalf("DescribePCR = %x, %v, %v", v, locked, err)
	}
	if v, err := n.ExtendPCR(16, []byte("x")); err != nil || !bytes.Equal(v, val) {
		t.Fatalf("ExtendPCR = %x, %v", v, err)
	}
	if _, err := n.ExtendPCR(0, []byte("x")); !errors.Is(err, ErrPCRLocked) {
		t.Fatalf("extend of a locked PCR: %v", err)
	}
	if err := n.LockPCR(16); err != nil {
		t.Fatal(err)
	}
	if err := n.LockPCRs(16); err != nil {
		t.Fatal(err)
	}
	if err := n.LockPCR(31); !errors.Is(err, ErrPCRIndex) {
		t.Fatalf("got %v", err)
	}
	for i, want := range []any{
		map[string]any{"DescribePCR": map[string]any{"index": 3}},
		map[string]any{"ExtendPCR": map[string]any{"index": 16, "data": []byte("x")}},
		map[string]any{"ExtendPCR": map[string]any{"index": 0, "data": []byte("x")}},
		map[string]any{"LockPCR": map[string]any{"index": 16}},
		map[string]any{"LockPCRs": map[string]any{"range": 16}},
	} {
		var got, exp any
		cbor.Unmarshal(sentRequest(t, i), &got)
		cbor.Unmarshal(mustCBOR(t, want), &exp)
		if !equalCBOR(got, exp) {
			t.Errorf("request %d = %v, want %v", i, got, exp)
		}
	}
	// Out-of-range indices never reach the device.
	before := fake.n
	if _, _, err := n.DescribePCR(32); !errors.Is(err, ErrPCRIndex) {
		t.Fatal(err)
	}
	if fake.n != before {
		t.Fatal("invalid index sent to the device")
	}
}

func equalCBOR(a, b any) bool {
	x, _ := cbor.CoreDetEncOptions().EncMode()
	ea, _ := x.Marshal(a)
	eb, _ := x.Marshal(b)
	return bytes.Equal(ea, eb)
}
