// Package searchbench measures the 1:N gallery search of package vectors on
// reproducible random data, and writes the same data as NumPy files so that
// other libraries (FAISS) can be measured on identical vectors.
//
// # Data
//
// [Vectors] draws row i of a data set from its own PCG stream seeded with
// (seed, i): standard normal values, normalised to unit length in float64
// and rounded to float32. The gallery uses seed s and the queries seed s+1,
// so a run is reproducible from (n, dim, queries, seed) alone. Queries are
// independent of the gallery: the common case of a person who is not yet
// enrolled, where the whole gallery must be scanned and the best scores are
// close together (the hard case for int8 re-ranking).
//
// # Measures
//
// [Run] times Search (one query) or SearchBatch (all queries in one pass)
// and reports the median over repetitions, with the bytes scanned per
// second, comparisons per second, and the bandwidth of a plain streaming
// read over the same memory in the same run ([vectors.Gallery.StreamRead]).
package searchbench
