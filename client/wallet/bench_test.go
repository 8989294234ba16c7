package wallet

import "testing"

func BenchmarkFromEntropy(b *testing.B) {
	e := make([]byte, 32)
	for b.Loop() {
		if _, err := FromEntropy(e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	w, err := FromEntropy(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte("FaceSign benchmark message")
	for _, name := range Schemes() {
		s, _ := w.Signer(name)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				s.Sign(msg)
			}
		})
	}
}

func BenchmarkRecoverPersonal(b *testing.B) {
	w, _ := FromEntropy(make([]byte, 32))
	msg := []byte("FaceSign benchmark message")
	sig := w.EVM().SignPersonal(msg)
	for b.Loop() {
		if _, err := RecoverPersonal(msg, sig); err != nil {
			b.Fatal(err)
		}
	}
}
