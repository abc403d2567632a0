// Package runtime holds what Nabla programs need when they run, shared by
// the interpreter (package interp, through the evaluators of package ir)
// and by generated Go code: flat row-major arrays (Array), the
// interpreter's values (Value), a Machine that carries a call's context,
// step and memory limits, and the numeric kernels of every primitive.
//
// It depends on no compiler package: generated code imports it alone, and
// calls the same functions the interpreter binds its primitives to, so
// both backends compute the same bits.
//
// # Limits
//
// A Machine's memory limit bounds the array storage its call holds alive
// (memory.go): New, NewF64, ... check each array's size against it before
// allocating and, when the charges since the last look would pass it,
// ask the garbage collector what is still alive. SystemMemory caps every
// limit, so an array larger than the machine is an error, never a crash.
// The *Polled forms of the reductions and products, of the moves
// (transpose, reverse, column, zip) and of the series maps, and Pieces,
// split long work into pieces of PollChunk elements and look at the call's
// context between them (poll.go), with the bits of the plain kernels.
//
// # Kernels
//
//   - Scalar functions (scalar.go): what elementwise primitives apply that
//     is more than one operator or math call: Sigmoid, Softplus, Relu,
//     Sign, Max2, Min2, the i64 division, remainder and power, TruncToI64.
//   - Elementwise loops (elementwise.go, kernels.go): Map and its binary
//     forms MapVV, MapVS, MapSV (and Err variants for operations that may
//     fail) over a scalar function, and dedicated loops for the common
//     operations: AddTo, ..., ExpTo, the i64 + - * loops, CompareVV/VS/SV.
//   - Reductions and linear algebra (kernels.go, arrays.go): Sum, Prod,
//     Max, Min, ArgMax, ArgMin, Mean, Norm2, LogSumExp, Softmax, their i64
//     forms, Dot, Outer, MatMul, MatVec, VecMat, Gemm, Gemv.
//   - Array kernels (arrays.go): Iota, Fill, Gather, Reverse, Transpose,
//     Column on storage of any element type, with *Array forms that pick
//     the storage by Kind; Stacker, Zip, Unzip and ZeroLike build the
//     interpreter's values.
//   - Truncated power series (series.go): one kernel per series primitive
//     of Taylor mode (SeriesExp, ..., SeriesPow, SeriesProd) on coefficient
//     slices, and SeriesMap1/SeriesMap2 to apply them to series of arrays.
//   - GMRES (linsolve.go), the matrix-free solver behind linsolve.
//
// # Support of generated code
//
// What generated packages need besides the kernels, so that a generated
// file holds its program's code alone:
//
//   - Arena (arena.go): the memory of one call, cut from chunks kept from
//     call to call, with marks to release a loop iteration's temporaries
//     and Keep to move a function's results down to its entry mark;
//     Arenas, the pool the exported functions take arenas from.
//   - Error (generr.go): a failure with its position and the frames of
//     the defs it left, in the interpreter's words (NewError, WithPos,
//     WithFrame).
//   - The conversions of the exported API (exported.go): Flatten2/3 copy
//     a [][]T argument in (refusing ragged input), Out1..3 copy a result
//     out of the arena, Into1..3 copy it into the caller's slices after
//     checking their shape. Package runtime/dense does the same for
//     gonum's *mat.Dense, so that runtime itself does not import gonum.
//   - LogSumExpWeights (lseweights.go): LogSumExp, and the weights
//     exp(x[i] - y) its derivative needs from the same exps, which
//     generated reverse passes save instead of computing them again.
//
// # Conventions
//
// The caller allocates: kernels write into a dst (or y, z) slice they are
// given and allocate nothing, so generated code can reuse buffers across
// iterations, and the interpreter charges a Machine for each array before
// it calls a kernel. Scratch memory of the series kernels comes from a
// SeriesWork the caller keeps. The exceptions build values whose size is
// known only as they go (Stacker, Unzip, ZeroLike, which allocate under a
// Machine) or that iterate (GMRES).
//
// Sizes that are the caller's business are not errors: a kernel given
// slices of the wrong lengths panics, a bug in the caller. What a program
// can get wrong is checked by functions of their own (CheckSize,
// CheckIndex, CheckIndices, CheckSlice, ...) or reported by the kernel
// (MaxI64 of no elements, PowI64 with a negative exponent, TruncTo), as
// plain errors with the messages a Nabla program shows and no source
// position: the interpreter adds the position of the expression that
// failed.
package runtime
