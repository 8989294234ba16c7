// Package onnx loads ONNX models (the protobuf ModelProto of the published
// onnx.proto) and runs them in pure Go: it decodes the subset of the format
// a convolutional network needs with its own small protowire decoder,
// validates the graph, infers every shape at load time and translates the
// graph from ONNX's NCHW layout into the format-neutral [graph.Graph]
// (TensorFlow-style ops, NHWC), which [graph.Compile] turns into a model run
// on the [nn] kernels.
//
// # Use
//
//	m, err := onnx.Load(fsys, "model/net.onnx") // fsys: an embed.FS, os.DirFS, ...
//	in := m.Inputs()[0]                         // IO{Name, Shape}, ONNX layout, e.g. [1 3 112 112]
//	x := nn.New(in.Shape...)                    // NCHW float32, filled by the caller
//	out, err := m.Run(map[string]*nn.Tensor{in.Name: x})
//	y := out[m.Outputs()[0].Name]               // ONNX layout
//
// Inputs and outputs are exactly what onnxruntime takes and returns for the
// same model: the layout change is internal.
//
// # What is read, what is refused
//
// IR versions [MinIRVersion] to [MaxIRVersion]; the default domain (""
// or "ai.onnx") at opsets [MinOpset] to [MaxOpset], and no other domain.
// Initialisers and Constant nodes of types FLOAT, FLOAT16, BFLOAT16,
// DOUBLE (held as float32), INT8, UINT8, INT16, UINT16, INT32, UINT32,
// INT64 and BOOL, in raw_data or the typed fields, with exactly as many
// values as their dimensions say. Graph inputs must be FLOAT tensors with
// known shapes. Refused with a sentinel error at load: external data
// ([ErrExternalData]), other element types ([ErrDataType]), other IR
// versions, opsets and domains ([ErrVersion]), two values of one name
// ([ErrDuplicateName]), references to undefined values
// ([ErrDanglingInput]), cycles ([ErrCycle]), sparse initialisers,
// subgraphs, model-local functions and training information
// ([ErrFormat]), ops outside [SupportedOps] ([*UnsupportedOpError]),
// unknown or unsupported attributes and non-constant inputs where a
// constant is needed ([ErrAttribute]), shapes that do not fit
// ([ErrShape]) and sizes over the limits ([ErrLimit]).
//
// # Translation
//
//   - Every value has a static shape. The batch dimension (the first of an
//     input of rank ≥ 2) is fixed to 1 when it is symbolic or unknown; the
//     fixed batch of an image input (rank 4) over 1 is rewritten to 1 as
//     well, where the graph allows it (a Reshape must keep the batch
//     dimension apart, a Concat may not join along it; otherwise
//     [ErrShape]). Any other open dimension is an [ErrShape].
//   - Rank-4 values produced by convolutions and pooling live in NHWC; a
//     value is transposed between layouts only where an op needs the other
//     one (a Flatten or Reshape of an NHWC tensor transposes back first, so
//     the result has ONNX's element order, unless the two orders coincide:
//     one channel or 1×1 spatial). Constants are converted at load time:
//     Conv weights OIHW → HWIO (group 1) or [kh, kw, C, multiplier]
//     (group = channels: depthwise; other groups are refused), PRelu
//     slopes and broadcast operands expanded and permuted to the layout of
//     the other operand, Gemm's B transposed and scaled by alpha.
//   - Conv (pads, strides, dilations, auto_pad NOTSET/VALID/SAME_UPPER/
//     SAME_LOWER), BatchNormalization (inference only; folded into the Conv
//     or Gemm whose only reader it is — scale/sqrt(var+eps) computed in
//     float64 — else a FusedBatchNorm), PRelu, Relu (fused into the Conv
//     it is the only reader of), Sigmoid, Tanh, LeakyRelu, Clip (Relu6 for
//     [0, 6]), Add, Sub, Mul, Div (numpy broadcasting), Gemm, MatMul
//     (rank 2), Flatten, Reshape (0, -1, allowzero), Transpose,
//     GlobalAveragePool, GlobalMaxPool, MaxPool and AveragePool (2-D;
//     ceil_mode only where it changes nothing; padding other than
//     TensorFlow's SAME becomes a Pad node, except for an AveragePool that
//     excludes it, which is refused), Concat, Identity, Dropout (the
//     identity; its mask may not be used), Constant, Cast (of constants, or
//     FLOAT to FLOAT) and DequantizeLinear (of constant INT8/UINT8/INT32
//     weights, per tensor or per axis, folded to float32 at load).
//   - The executor's own fusions follow (see package graph): a per-channel
//     PRelu after a convolution runs inside it, an Add read only by an
//     activation runs with it. [Model.Steps] lists what runs.
//
// # Guarantees
//
//   - Everything is checked by [Load]/[Parse]; nothing fails mid-run
//     except on inputs of the wrong shape ([ErrInput]). A failing call
//     returns no model or no outputs. The decoder never panics on any
//     input (it is fuzzed) and its allocations are bounded by the file size
//     and the limits (2²⁶ elements per tensor, rank 8, 1 GiB per file);
//     protobuf groups, which ONNX never uses, are refused, so nesting depth
//     is fixed by the schema.
//   - The results agree with onnxruntime (onnxruntime-node, CPU) on the
//     same model and inputs to float32 rounding: the tests run small models
//     of every supported op and a real face embedder through both.
//   - A [Model] is immutable and safe for concurrent use; [Model.Run] never
//     modifies its inputs.
//
// # Caller duties
//
// Model files are build inputs: pin them by hash (the engines do). The
// loader reads a whole file into memory.
package onnx
