// Package graph is the executor the model front-ends share: a
// format-neutral graph of TensorFlow-style ops, validated and compiled
// once, then run on the [nn] kernels in pure Go.
//
// Front-ends (package tfjs for TensorFlow.js graph models, tflite for
// TFLite FlatBuffers, onnx for ONNX) read their file format and build a
// [Graph]; [Compile] turns it into an immutable [Model].
//
// # The graph
//
// A [Graph] is a list of [Node]s, each producing one tensor. A node has a
// unique name, an op, the names of the nodes it reads, typed attributes
// ([Attr]: int, float, string, bool or a list of one of them) and, for a
// Const, its [Value] (a float32 [nn.Tensor] or an int32 [IntTensor]); a
// Placeholder is a model input with a declared shape (-1 = any size).
//
// Ops carry TensorFlow names and semantics, in NHWC layout: a front-end
// for another convention (ONNX's NCHW, TFLite's OHWI filters) translates
// to these when it builds the graph — layouts of constant tensors at load
// time, never per run. [SupportedOps] lists the ops; among them Conv2D,
// DepthwiseConv2dNative, _FusedConv2D, MatMul and _FusedMatMul (with
// transpose_a/transpose_b), BiasAdd, Add, Sub, Mul, RealDiv, Maximum,
// Minimum, Relu, Relu6, Prelu, Sigmoid, Softmax, FusedBatchNorm, Reshape,
// Squeeze, Transpose, Mean/Sum/Max over axes, Pad, ConcatV2, MaxPool,
// AvgPool and ResizeBilinear; and three ops TensorFlow spells as several:
// L2Normalize (x / sqrt(max(Σx², epsilon)) over the last axis),
// HardSwish (x·relu6(x+3)/6) and ClipByValue(x, lo, hi). Attributes use TensorFlow's names:
// padding ("SAME", "VALID", "EXPLICIT" with explicit_paddings), strides
// and dilations ([1, h, w, 1]), data_format (only "NHWC"), fused_ops
// (["BiasAdd", activation]), keep_dims, and so on.
//
// # Guarantees
//
//   - Everything that can be checked before running is checked by
//     [Compile]: names, references, cycles, attribute kinds and values,
//     input counts, constant values and every op. An op the executor does
//     not implement is an [*UnsupportedOpError] at compile time, never a
//     failure halfway through a run.
//   - [Model.Run] executes nodes in a topological order fixed at compile
//     time, computes only float32 tensors (plus small int32 tensors for
//     shapes, axes and paddings), never modifies its inputs and drops
//     intermediate tensors after their last use. The outputs are
//     [Graph.Outputs] when the graph names them (nodes they do not depend
//     on are validated but never run), else every computed node that no
//     other node reads.
//   - Compile rewrites a few node patterns into one node that computes the
//     same floats with fewer passes: a zero spatial Pad read only by a
//     convolution becomes the convolution's padding; max(0,x)+γ·min(0,x)
//     and relu(x)+c·(x−|x|) become Prelu (slopes γ and 2c); a Prelu with
//     one slope per channel that is a convolution's only reader becomes
//     the convolution's fused activation; an Add read only by a Relu,
//     Relu6 or Prelu becomes one add-and-activate node. The node names of
//     the survivors are kept; [Model.Steps] lists what runs. Each rewrite
//     is tested bit for bit against the kernels run one by one.
//   - A [Model] is immutable; Run may be called from any number of
//     goroutines at once. It shares the graph's constant tensors, which
//     the caller must not modify after Compile.
//   - Memory: Run never writes the caller's inputs or a constant. A
//     result no later step reads goes back to nn for reuse, and a fused
//     add-and-activate step writes into an input no later step reads,
//     only when no other value (a live result, a view sharing its
//     memory, a constant, an input, an output) overlaps it; the outputs
//     are bit for bit those of allocating every result (model.go).
//   - Errors wrap [ErrFormat], [ErrInput] or [ErrExec] (or are an
//     [*UnsupportedOpError]); a failing call returns no model or no
//     outputs. Nothing panics on a malformed graph.
//
// # Scope
//
// Single-output ops only; float32 compute. Quantised or float16 weights
// are the front-end's business: it dequantises them into float32
// constants when it builds the graph.
package graph
