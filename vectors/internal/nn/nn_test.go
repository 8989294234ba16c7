package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randTensor(r *rand.Rand, shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(r.NormFloat64())
	}
	return t
}

func randSlice(r *rand.Rand, n int) []float32 {
	return randTensor(r, n).Data
}

// close reports whether got matches want within a tolerance relative to
// the magnitude of the values (float32 accumulation order differs).
func assertClose(t *testing.T, got, want *Tensor, tol float64) {
	t.Helper()
	if !sameShape(got.Shape, want.Shape) {
		t.Fatalf("shape %v, want %v", got.Shape, want.Shape)
	}
	for i := range want.Data {
		g, w := float64(got.Data[i]), float64(want.Data[i])
		if math.Abs(g-w) > tol*(1+math.Abs(w)) || math.IsNaN(g) != math.IsNaN(w) {
			t.Fatalf("element %d (%v of %v): got %g, want %g", i, unravel(i, want.Shape), want.Shape, g, w)
		}
	}
}

func randAct(r *rand.Rand, ch int) Activation {
	switch r.IntN(6) {
	case 1:
		return Activation{Kind: ReLU}
	case 2:
		return Activation{Kind: ReLU6}
	case 3:
		return Activation{Kind: LeakyReLU, Alpha: 0.1}
	case 4:
		if r.IntN(2) == 0 {
			return Activation{Kind: PReLU, Slopes: []float32{0.25}}
		}
		return Activation{Kind: PReLU, Slopes: randSlice(r, ch)}
	case 5:
		return Activation{Kind: Sigmoid}
	}
	return Activation{}
}

func randWindow(r *rand.Rand, h, w, kh, kw int, dilate bool) Window {
	p := Window{StrideH: 1 + r.IntN(3), StrideW: 1 + r.IntN(3)}
	if dilate && r.IntN(3) == 0 {
		p.DilationH, p.DilationW = 1+r.IntN(2), 1+r.IntN(2)
	}
	switch r.IntN(3) {
	case 0:
		p.Pad.Mode = PadValid
	case 1:
		p.Pad.Mode = PadSame
	default:
		p.Pad = Padding{Mode: PadExplicit, Top: r.IntN(kh), Bottom: r.IntN(kh), Left: r.IntN(kw), Right: r.IntN(kw)}
	}
	return p
}

func TestConv2DMatchesReference(t *testing.T) { atEachLevel(t, testConv2DMatchesReference) }

func testConv2DMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 120; i++ {
		n, h, w, c, co := 1+r.IntN(2), 1+r.IntN(12), 1+r.IntN(12), 1+r.IntN(9), 1+r.IntN(17)
		kh, kw := 1+r.IntN(4), 1+r.IntN(4)
		if i%4 == 0 { // exercise the direct 1×1 path
			kh, kw = 1, 1
		}
		p := randWindow(r, h, w, kh, kw, true)
		if i%4 == 0 {
			p = Window{}
		}
		x, f := randTensor(r, n, h, w, c), randTensor(r, kh, kw, c, co)
		var bias []float32
		if r.IntN(2) == 0 {
			bias = randSlice(r, co)
		}
		act := randAct(r, co)
		t.Run(fmt.Sprintf("%d/%v*%v/%+v", i, x.Shape, f.Shape, p), func(t *testing.T) {
			got, err := Conv2D(x, f, bias, p, act)
			if errors.Is(err, ErrShape) { // window larger than the input
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, got, refConv2D(x, f, bias, p, act, false), 1e-4)
		})
	}
}

func TestDepthwiseMatchesReference(t *testing.T) { atEachLevel(t, testDepthwiseMatchesReference) }

func testDepthwiseMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 120; i++ {
		n, h, w, c, m := 1+r.IntN(2), 1+r.IntN(12), 1+r.IntN(12), 1+r.IntN(9), 1+r.IntN(3)
		if i%2 == 0 {
			m = 1
		}
		kh, kw := 1+r.IntN(4), 1+r.IntN(4)
		p := randWindow(r, h, w, kh, kw, true)
		x, f := randTensor(r, n, h, w, c), randTensor(r, kh, kw, c, m)
		var bias []float32
		if r.IntN(2) == 0 {
			bias = randSlice(r, c*m)
		}
		act := randAct(r, c*m)
		t.Run(fmt.Sprintf("%d/%v*%v/%+v", i, x.Shape, f.Shape, p), func(t *testing.T) {
			got, err := DepthwiseConv2D(x, f, bias, p, act)
			if errors.Is(err, ErrShape) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, got, refConv2D(x, f, bias, p, act, true), 1e-4)
		})
	}
}

func TestConvLargeParallel(t *testing.T) { atEachLevel(t, testConvLargeParallel) }

func testConvLargeParallel(t *testing.T) {
	// Big enough to split across goroutines and gonum's parallel GEMM.
	r := rand.New(rand.NewPCG(5, 6))
	x, f := randTensor(r, 1, 28, 28, 32), randTensor(r, 3, 3, 32, 48)
	bias := randSlice(r, 48)
	p := Window{StrideH: 1, StrideW: 1, Pad: Padding{Mode: PadSame}}
	act := Activation{Kind: PReLU, Slopes: randSlice(r, 48)}
	got, err := Conv2D(x, f, bias, p, act)
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, got, refConv2D(x, f, bias, p, act, false), 1e-4)
	dw := randTensor(r, 3, 3, 32, 1)
	got, err = DepthwiseConv2D(x, dw, bias[:32], p, Activation{Kind: ReLU6})
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, got, refConv2D(x, dw, bias[:32], p, Activation{Kind: ReLU6}, true), 1e-4)
}

func TestSamePaddingMatchesTensorFlow(t *testing.T) {
	// Facts from TensorFlow's SAME rule: out = ceil(in/stride), the odd
	// padding pixel goes after.
	tests := []struct{ in, k, s, out, before int }{
		{112, 3, 2, 56, 0}, {112, 3, 1, 112, 1}, {7, 7, 1, 7, 3}, {5, 2, 2, 3, 0}, {6, 4, 1, 6, 1},
	}
	for _, tc := range tests {
		out, before, err := axis(tc.in, tc.k, tc.s, 1, PadSame, 0, 0)
		if err != nil || out != tc.out || before != tc.before {
			t.Errorf("in %d k %d s %d: out %d before %d err %v, want %d %d", tc.in, tc.k, tc.s, out, before, err, tc.out, tc.before)
		}
	}
}

func TestPoolMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 80; i++ {
		x := randTensor(r, 1+r.IntN(2), 1+r.IntN(10), 1+r.IntN(10), 1+r.IntN(6))
		kh, kw := 1+r.IntN(3), 1+r.IntN(3)
		p := randWindow(r, x.Shape[1], x.Shape[2], kh, kw, false)
		isMax := i%2 == 0
		t.Run(fmt.Sprintf("%d/%v/%dx%d/%+v/max=%v", i, x.Shape, kh, kw, p, isMax), func(t *testing.T) {
			var got *Tensor
			var err error
			if isMax {
				got, err = MaxPool(x, kh, kw, p)
			} else {
				got, err = AvgPool(x, kh, kw, p)
			}
			if errors.Is(err, ErrShape) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := refPool(x, kh, kw, p, isMax)
			// A window entirely inside explicit padding has no input.
			for _, v := range want.Data {
				if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) {
					return
				}
			}
			assertClose(t, got, want, 1e-5)
		})
	}
}

func TestBinaryMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	ops := []BinaryOp{Add, Sub, Mul, Div, Maximum, Minimum, SquaredDifference}
	for i := 0; i < 150; i++ {
		rank := r.IntN(5)
		full := make([]int, rank)
		for d := range full {
			full[d] = 1 + r.IntN(4)
		}
		// Each operand keeps, drops or sets to 1 some axes.
		mk := func() []int {
			s := append([]int(nil), full...)
			for d := range s {
				if r.IntN(3) == 0 {
					s[d] = 1
				}
			}
			return s[r.IntN(len(s)+1):]
		}
		a, b := randTensor(r, mk()...), randTensor(r, mk()...)
		if i%5 == 0 {
			a = randTensor(r, full...)
		}
		op := ops[i%len(ops)]
		t.Run(fmt.Sprintf("%d/%v/%v/op%d", i, a.Shape, b.Shape, op), func(t *testing.T) {
			got, err := Binary(op, a, b)
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, got, refBinary(op, a, b), 1e-6)
		})
	}
	if _, err := Binary(Add, New(2, 3), New(4)); !errors.Is(err, ErrShape) {
		t.Fatalf("incompatible broadcast: err %v, want ErrShape", err)
	}
}

func TestShapeOpsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for i := 0; i < 60; i++ {
		rank := 1 + r.IntN(4)
		shape := make([]int, rank)
		for d := range shape {
			shape[d] = 1 + r.IntN(5)
		}
		x := randTensor(r, shape...)
		perm := r.Perm(rank)
		got, err := Transpose(x, perm...)
		if err != nil {
			t.Fatal(err)
		}
		assertClose(t, got, refTranspose(x, perm), 0)

		pads := make([][2]int, rank)
		for d := range pads {
			pads[d] = [2]int{r.IntN(3), r.IntN(3)}
		}
		got, err = Pad(x, pads, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		assertClose(t, got, refPad(x, pads, 0.5), 0)

		ax := r.IntN(rank)
		parts := []*Tensor{x}
		for k := 0; k < 1+r.IntN(3); k++ {
			s := append([]int(nil), shape...)
			s[ax] = 1 + r.IntN(4)
			parts = append(parts, randTensor(r, s...))
		}
		got, err = Concat(ax-rank*(i%2), parts...)
		if err != nil {
			t.Fatal(err)
		}
		assertClose(t, got, refConcat(ax, parts), 0)

		axes := []int{r.IntN(rank)}
		for _, red := range []Reduce{ReduceSum, ReduceMean, ReduceMax} {
			got, err = ReduceAxes(x, red, true, axes...)
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, got, refReduce(x, red, axes), 1e-5)
		}
	}
}

func TestMatMulMatchesReference(t *testing.T) { atEachLevel(t, testMatMulMatchesReference) }

func testMatMulMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for i := 0; i < 40; i++ {
		m, k, n := 1+r.IntN(70), 1+r.IntN(70), 1+r.IntN(70)
		a, b := randTensor(r, m, k), randTensor(r, k, n)
		bias := randSlice(r, n)
		act := randAct(r, n)
		got, err := MatMul(a, b, false, false, bias, act)
		if err != nil {
			t.Fatal(err)
		}
		want := refMatMul(a, b, bias, act)
		assertClose(t, got, want, 1e-4)
		at, _ := Transpose(a, 1, 0)
		bt, _ := Transpose(b, 1, 0)
		got, err = MatMul(at, bt, true, true, bias, act)
		if err != nil {
			t.Fatal(err)
		}
		assertClose(t, got, want, 1e-4)
	}
	if _, err := MatMul(New(2, 3), New(4, 5), false, false, nil, Activation{}); !errors.Is(err, ErrShape) {
		t.Fatalf("err %v, want ErrShape", err)
	}
}

func TestResizeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for i := 0; i < 60; i++ {
		x := randTensor(r, 1+r.IntN(2), 1+r.IntN(9), 1+r.IntN(9), 1+r.IntN(4))
		oh, ow := 1+r.IntN(15), 1+r.IntN(15)
		align, half := i%3 == 1, i%3 == 2
		got, err := ResizeBilinear(x, oh, ow, align, half)
		if err != nil {
			t.Fatal(err)
		}
		assertClose(t, got, refResize(x, oh, ow, align, half), 1e-5)
	}
}

func TestActivationsAndNorms(t *testing.T) {
	x, _ := FromData([]float32{-2, -0.5, 0, 3, 7, -1}, 2, 3)
	tests := []struct {
		name string
		act  Activation
		want []float32
	}{
		{"relu", Activation{Kind: ReLU}, []float32{0, 0, 0, 3, 7, 0}},
		{"relu6", Activation{Kind: ReLU6}, []float32{0, 0, 0, 3, 6, 0}},
		{"leaky", Activation{Kind: LeakyReLU, Alpha: 0.5}, []float32{-1, -0.25, 0, 3, 7, -0.5}},
		{"prelu", Activation{Kind: PReLU, Slopes: []float32{1, 2, 3}}, []float32{-2, -1, 0, 3, 7, -3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Activate(x, tc.act)
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, got, &Tensor{Shape: x.Shape, Data: tc.want}, 0)
		})
	}
	s, _ := Activate(Scalar(0), Activation{Kind: Sigmoid})
	if s.Data[0] != 0.5 {
		t.Fatalf("sigmoid(0) = %v", s.Data[0])
	}
	if _, err := Activate(x, Activation{Kind: PReLU, Slopes: []float32{1, 2}}); !errors.Is(err, ErrShape) {
		t.Fatalf("bad prelu slopes: err %v", err)
	}
	alpha, _ := FromData([]float32{0.1, 0.2, 0.3}, 3)
	p, err := PReLUBroadcast(x, alpha)
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, p, &Tensor{Shape: x.Shape, Data: []float32{-0.2, -0.1, 0, 3, 7, -0.3}}, 1e-7)

	n, err := L2Normalize(x, 1e-12)
	if err != nil {
		t.Fatal(err)
	}
	for row := 0; row < 2; row++ {
		var s float64
		for _, v := range n.Data[row*3 : row*3+3] {
			s += float64(v) * float64(v)
		}
		if math.Abs(s-1) > 1e-6 {
			t.Fatalf("row %d norm² %v", row, s)
		}
	}
	z, _ := L2Normalize(New(1, 4), 1e-12)
	for _, v := range z.Data {
		if v != 0 {
			t.Fatal("zero vector not kept zero")
		}
	}
	sm, _ := Softmax(x)
	if math.Abs(float64(sm.Data[0]+sm.Data[1]+sm.Data[2])-1) > 1e-6 {
		t.Fatal("softmax row does not sum to 1")
	}
	bn, err := BatchNorm(x, []float32{1, 2, 1}, []float32{0, 1, 0}, []float32{0, 0, 1}, []float32{1, 4, 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, bn, &Tensor{Shape: x.Shape, Data: []float32{-2, 0.5, -1, 3, 8, -2}}, 1e-6)
	d2s, err := DepthToSpace(randTensor(rand.New(rand.NewPCG(1, 1)), 1, 2, 2, 8), 2)
	if err != nil || !sameShape(d2s.Shape, []int{1, 4, 4, 2}) {
		t.Fatalf("depth to space: %v %v", d2s, err)
	}
}

func TestBadArguments(t *testing.T) {
	x := New(1, 4, 4, 2)
	tests := []struct {
		name string
		err  error
		run  func() error
	}{
		{"conv rank", ErrShape, func() error { _, err := Conv2D(New(4, 4, 2), New(1, 1, 2, 2), nil, Window{}, Activation{}); return err }},
		{"conv channels", ErrShape, func() error { _, err := Conv2D(x, New(1, 1, 3, 2), nil, Window{}, Activation{}); return err }},
		{"conv bias", ErrShape, func() error { _, err := Conv2D(x, New(1, 1, 2, 2), []float32{1}, Window{}, Activation{}); return err }},
		{"conv window too big", ErrShape, func() error { _, err := Conv2D(x, New(5, 5, 2, 2), nil, Window{}, Activation{}); return err }},
		{"negative stride", ErrArgument, func() error {
			_, err := Conv2D(x, New(1, 1, 2, 2), nil, Window{StrideH: -1}, Activation{})
			return err
		}},
		{"bad pad mode", ErrArgument, func() error {
			_, err := DepthwiseConv2D(x, New(1, 1, 2, 1), nil, Window{Pad: Padding{Mode: 9}}, Activation{})
			return err
		}},
		{"unknown activation", ErrArgument, func() error { _, err := Activate(x, Activation{Kind: 99}); return err }},
		{"reshape", ErrShape, func() error { _, err := Reshape(x, 3, -1); return err }},
		{"squeeze", ErrShape, func() error { _, err := Squeeze(x, 1); return err }},
		{"axis", ErrArgument, func() error { _, err := Concat(4, x, x); return err }},
		{"transpose perm", ErrArgument, func() error { _, err := Transpose(x, 0, 0, 1, 2); return err }},
		{"huge shape", ErrShape, func() error { _, err := CheckShape([]int{1 << 20, 1 << 20}); return err }},
		{"resize flags", ErrArgument, func() error { _, err := ResizeBilinear(x, 2, 2, true, true); return err }},
		{"from data", ErrShape, func() error { _, err := FromData(make([]float32, 3), 2, 2); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(); !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
		})
	}
	if r, err := Reshape(x, 2, -1); err != nil || !sameShape(r.Shape, []int{2, 16}) {
		t.Fatalf("reshape -1: %v %v", r, err)
	}
}
