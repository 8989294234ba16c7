// Package nn holds the float32 tensor type and the neural-network kernels
// the face engines run on: convolution, depthwise convolution, pooling,
// activations, broadcasting arithmetic, resizing, reshaping and reductions.
//
// # Layout and semantics
//
// A [Tensor] is dense and row-major; image tensors are NHWC (batch,
// height, width, channels) and convolution filters HWIO (height, width,
// in, out), the layouts TensorFlow and tfjs use, so weights load without
// reordering. Padding, stride, dilation, broadcasting and resize
// conventions follow TensorFlow exactly (see [PadSame], [ResizeBilinear]),
// because the graphs executed by the tfjs package were converted from it
// and must give the same numbers.
//
// # Kernels
//
// [Conv2D] lowers a convolution to a matrix product: im2col gathers each
// output pixel's window into one row (1×1 stride-1 convolutions use the
// input as it is) and a GEMM multiplies by the filter viewed as a
// (kh·kw·in)×out matrix; bias and the [Activation] are applied in the same
// pass over the result. [DepthwiseConv2D], the pools and the elementwise
// kernels are direct loops over the channel axis. Large kernels split their
// output rows across GOMAXPROCS goroutines.
//
// Large products run on a packed GEMM whose 6×16 micro-kernel, the
// depthwise pixel, multiply-add and ReLU/PReLU row kernels are assembly:
// AVX2+FMA on amd64 (isa levels avx2, avx512), NEON on arm64 (level neon).
// At level generic, under the purego build tag and on other architectures
// products go to gonum's blas32 SGEMM and the rest to plain Go loops.
//
// Every fast kernel has a plain reference twin in the tests that computes
// each output element from its definition with float64 accumulation; the
// tests compare the two on random shapes, strides, dilations and paddings.
// The assembly kernels have one arithmetic contract on both architectures —
// each output element a chain of fused multiply-adds in a fixed order — and
// are compared bit for bit with Go twins that follow it with an exact
// float32 FMA (kernel_exact_test.go).
//
// # Contract
//
// Kernels never modify their inputs and return a new tensor, so tensors
// (for example model weights) can be shared by concurrent callers. Bad
// shapes and parameters return an error wrapping [ErrShape] or
// [ErrArgument] and no result; no kernel panics on a shape mismatch.
// Allocation is bounded: a result over 2²⁶ elements is an [ErrShape].
package nn
