// Package tflite loads TensorFlow Lite models (.tflite FlatBuffers, schema
// version 3, file identifier "TFL3") and translates their main subgraph
// into the executor's [graph.Graph], so a [Model] is a [graph.Model] run
// on the [nn] kernels, in pure Go.
//
// # Use
//
//	m, err := tflite.Load(fsys, "model/net.tflite")
//	in := m.Inputs()[0]                // e.g. {input [1 112 112 3]}
//	out, err := m.Run(map[string]*nn.Tensor{in.Name: x})
//
// [Decode] returns the graph itself; [Read] compiles a file already in
// memory.
//
// # Reading the file
//
// The FlatBuffer is read by this package's own bounds-checked reader, not
// the FlatBuffers Go runtime: that runtime trusts every offset and panics
// on a malformed buffer by design (google/flatbuffers#4750), and has no
// verifier. Field ids and enum values are facts from TFLite's published
// schema.fbs (see schema.go). Every offset, length and index is checked;
// the file is bounded to 256 MiB, a tensor to 2²⁶ elements and the decoded
// constants to 1 GiB. Nothing panics on a malformed file (it is fuzzed).
//
// # Validation at load
//
// Everything is checked before a model is returned, never halfway
// through a run:
//
//   - Operators: only the builtin operators this package translates
//     (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D,
//     MAX_POOL_2D, ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM,
//     SQUARED_DIFFERENCE, RELU, RELU6, LOGISTIC, TANH, ABS, NEG, EXP, LOG,
//     SQRT, RSQRT, SQUARE, HARD_SWISH, LEAKY_RELU, PRELU, SOFTMAX,
//     L2_NORMALIZATION, RESHAPE, SQUEEZE, CONCATENATION, PAD, PADV2, MEAN,
//     SUM, REDUCE_MAX, TRANSPOSE, RESIZE_BILINEAR, DEPTH_TO_SPACE,
//     DEQUANTIZE); any other, custom operators included, is an
//     [*UnsupportedOpError].
//   - Options: the options table must be the operator's own union
//     member; a field this package does not know, a padding other than
//     SAME/VALID, a stride or dilation below 1, a fused activation other
//     than NONE, RELU, RELU_N1_TO_1, RELU6 or TANH, a FULLY_CONNECTED
//     weights format other than DEFAULT are errors.
//   - Tensors: computed tensors and model inputs and outputs are FLOAT32
//     (quantised activations are [ErrUnsupported]); filters, weights,
//     shapes, axes and paddings must be constants; every operator's
//     declared output shape must be what the operator computes from its
//     declared input shapes (convolution and pool geometry, broadcasting,
//     reshape sizes, reduction axes, concatenation, paddings,
//     permutations); tensors are written once, before they are read.
//   - Not supported: several subgraphs, sparse, variable or variant
//     tensors, buffers stored outside the FlatBuffer (models over 2 GB),
//     custom options and schema versions other than 3.
//
// Errors wrap [ErrFormat] (malformed) or [ErrUnsupported] (well-formed but
// beyond this front-end), or are an [*UnsupportedOpError]; a failing call
// returns nothing else.
//
// # Translation
//
// TFLite's layouts become the graph's (TensorFlow's) at load time:
// convolution filters OHWI → HWIO, depthwise filters [1, KH, KW, C·M] →
// [KH, KW, C, M], fully connected weights [units, depth] → [depth, units]
// with the input flattened to [−1, depth] (kept dims restored by a
// reshape). Bias and RELU/RELU6 fuse into the convolution or product;
// other fused activations follow as their own node. RESHAPE and SQUEEZE
// reshape to the declared output shape. SOFTMAX with beta ≠ 1 scales
// first. L2_NORMALIZATION divides by max(‖x‖, 1e-6) over the last axis,
// as TFLite does.
//
// Constants are dequantised once, at load, into float32: FLOAT16 exactly;
// INT8, UINT8 and INT16 with their quantisation parameters as
// scale·(q − zero_point), per tensor or per channel along
// quantized_dimension; INT64 shapes into int32 when they fit. DEQUANTIZE
// of a constant becomes that constant. An integer weight read directly by
// an operator (TFLite's "hybrid" kernels) is dequantised the same way and
// computed in float32; TFLite's hybrid kernels quantise the activations
// on the fly instead, so such a model gives close but not identical
// numbers.
//
// # Batch
//
// Converters often freeze the batch they ran with (MobileFaceNet.tflite
// declares [2, 112, 112, 3]). When every input declares the same fixed
// batch N > 1 and the graph lets the batch flow through untouched —
// every computed tensor leads with N, no operator acts on axis 0, no
// elementwise constant holds anything per batch entry — the inputs are
// rewritten to a batch of 1 and every reshape's leading N to 1. Otherwise
// the declared batch stays and Run wants exactly N. Inputs always take
// their declared shapes, the shapes every operator was checked against:
// a dimension the file's shape_signature leaves open (-1) is fixed at its
// declared size.
package tflite
