package runtime

// Vector kernels, two implementations of each.
//
// On amd64 the kernels are assembly using AVX2 and FMA (kernels_amd64.s,
// written by the avo program in _asm/), chosen at start-up when the
// processor has both (golang.org/x/sys/cpu). Everywhere else, under the
// purego build tag, and on amd64 processors without them, the pure-Go
// kernels of kernels_go.go run. Callers see one API (kernels.go) either
// way; `active` holds the implementation in use.
//
// Results do not depend on which implementation runs, nor on GOMAXPROCS:
//
//   - Elementwise kernels compute each element with the operations of the
//     scalar expression (a·x + y rounds the product, then the sum).
//   - Sum and Dot use one fixed order of additions, which the assembly
//     and sumGo/dotGo share: 4 accumulators of 4 lanes, blocks of 16 then
//     of 4, a fixed combination tree, then the tail in order (see sumGo).
//     Dot fuses each product into its accumulator with an FMA, in both.
//   - Above reduceSerialMax elements, Sum and Dot cut the input into
//     chunks of reduceGrain elements, reduce each as above, and add the
//     partial results left to right in chunk order (ParallelSum). The
//     chunks depend on the length alone; only which goroutine reduces
//     which chunk depends on the machine.
//   - Every element of a matrix product is one chain of FMAs over the
//     inner index in increasing order, however the product is blocked,
//     packed or split between goroutines (see matmul.go).
//
// NaN results are NaN in both, but when two NaN operands meet, which
// payload survives may differ: compare NaN as NaN, not by bits.

// kernelSet is one implementation of the kernels. The Go wrappers check
// lengths; a kernel may assume every slice is as long as its first
// (dst, or x for the reductions) and that dst is either one of the
// inputs or disjoint from them.
type kernelSet struct {
	name string

	sum func(x []float64) float64
	dot func(x, y []float64) float64

	add, sub, mul, div           func(dst, x, y []float64)
	addConst, mulConst, divConst func(dst, x []float64, c float64)
	constSub, constDiv           func(dst []float64, c float64, x []float64)

	axpy   func(a float64, x, y []float64)                // y = a·x + y
	axpyTo func(dst []float64, a float64, x, y []float64) // dst = a·x + y

	// gemvN is y = alpha·A·x + beta·y for the len(y)×n matrix A, each
	// row reduced as dot reduces it, then scaled as scaleAdd does.
	gemvN func(n int, alpha float64, a, x []float64, beta float64, y []float64)
	// gemvT takes y[j] = fma(alpha·x[i], a[i·n+j], y[j]) for every row
	// i < len(x) in turn, for the len(y) columns of a block of y.
	gemvT func(alpha float64, x, a []float64, n int, y []float64)

	fmaRow   func(y []float64, a float64, r []float64)                           // y = fma(a, r, y)
	fmaRows4 func(y []float64, a0, a1, a2, a3 float64, r0, r1, r2, r3 []float64) // four fmaRow in turn

	// gemmTile computes the unscaled product S = op(A)·op(B) for rows
	// [i0, i1) and columns [j0, j1) of C into w, whose rows are ldw
	// elements apart (w[0] is element (i0, j0)).
	gemmTile func(ks *kernelSet, p gemmArgs, i0, i1, j0, j1 int, w []float64, ldw int)
}

// active is the implementation the exported kernels use.
var active = &goKernels

// kernelSets lists every implementation this processor can run, the
// pure-Go one first; tests compare them.
var kernelSets = []*kernelSet{&goKernels}

// Chunk sizes and parallel thresholds. The first two fix the order of
// the floating-point operations of a reduction, so changing one changes
// results in the last bits. The thresholds only decide whether a size is
// worth more goroutines (a few microseconds to hand chunks over): the
// results are the same on either side. See docs/performance.md for the
// measurements behind them.
const (
	// Sum and Dot of at most reduceSerialMax elements are one kernel
	// call; longer ones are reduced in chunks of reduceGrain whose sums
	// are added in chunk order.
	reduceSerialMax = 1 << 16
	reduceGrain     = 1 << 14
	// From reduceParallelMin elements on, the chunks are reduced on
	// several goroutines.
	reduceParallelMin = 1 << 18

	// Elementwise kernels over at least mapParallelMin elements run in
	// chunks of mapGrain on several goroutines.
	mapParallelMin = 1 << 18
	mapGrain       = 1 << 15
)

// sumWith is Sum with the kernels of ks.
func sumWith(ks *kernelSet, x []float64) float64 {
	n := len(x)
	switch {
	case n <= reduceSerialMax:
		return ks.sum(x)
	case n < reduceParallelMin:
		// The chunks of ParallelSum, in order on this goroutine (and
		// without a closure, which would be allocated).
		s := ks.sum(x[:reduceGrain])
		for lo := reduceGrain; lo < n; lo += reduceGrain {
			s += ks.sum(x[lo:min(lo+reduceGrain, n)])
		}
		return s
	}
	t := getVecTask()
	t.op, t.ks, t.x = vecSum, ks, x
	return t.add(n, reduceGrain)
}

// dotWith is Dot with the kernels of ks; y must be as long as x.
func dotWith(ks *kernelSet, x, y []float64) float64 {
	n := len(x)
	switch {
	case n <= reduceSerialMax:
		return ks.dot(x, y)
	case n < reduceParallelMin:
		s := ks.dot(x[:reduceGrain], y[:reduceGrain])
		for lo := reduceGrain; lo < n; lo += reduceGrain {
			hi := min(lo+reduceGrain, n)
			s += ks.dot(x[lo:hi], y[lo:hi])
		}
		return s
	}
	t := getVecTask()
	t.op, t.ks, t.x, t.y = vecDot, ks, x, y
	return t.add(n, reduceGrain)
}

// mapVV runs an elementwise kernel over dst, x and y, on several
// goroutines when they are long.
func mapVV(k func(dst, x, y []float64), dst, x, y []float64) {
	if len(dst) < mapParallelMin {
		k(dst, x, y)
		return
	}
	t := getVecTask()
	t.op, t.vv, t.dst, t.x, t.y = vecVV, k, dst, x, y
	t.run(len(dst), mapGrain)
}

// mapVC is mapVV for the kernels of a vector and a constant.
func mapVC(k func(dst, x []float64, c float64), dst, x []float64, c float64) {
	if len(dst) < mapParallelMin {
		k(dst, x, c)
		return
	}
	t := getVecTask()
	t.op, t.vc, t.dst, t.x, t.a = vecVC, k, dst, x, c
	t.run(len(dst), mapGrain)
}

// mapCV is mapVC with the constant first.
func mapCV(k func(dst []float64, c float64, x []float64), dst []float64, c float64, x []float64) {
	if len(dst) < mapParallelMin {
		k(dst, c, x)
		return
	}
	t := getVecTask()
	t.op, t.cv, t.dst, t.x, t.a = vecCV, k, dst, x, c
	t.run(len(dst), mapGrain)
}

// axpyWith is y += a·x with the kernels of ks.
func axpyWith(ks *kernelSet, a float64, x, y []float64) {
	if len(y) < mapParallelMin {
		ks.axpy(a, x, y)
		return
	}
	t := getVecTask()
	t.op, t.ks, t.a, t.x, t.y = vecAxpy, ks, a, x, y
	t.run(len(y), mapGrain)
}

// axpyToWith is dst = a·x + y with the kernels of ks.
func axpyToWith(ks *kernelSet, dst []float64, a float64, x, y []float64) {
	if len(dst) < mapParallelMin {
		ks.axpyTo(dst, a, x, y)
		return
	}
	t := getVecTask()
	t.op, t.ks, t.dst, t.a, t.x, t.y = vecAxpyTo, ks, dst, a, x, y
	t.run(len(dst), mapGrain)
}

// AxpyTo stores a·x + y in dst: one pass over memory for what would
// otherwise be ScaleTo and AddTo. Each element is rounded as the scalar
// expression a*x[i] + y[i] is, the product first and then the sum (not
// a single-rounding FMA), so a fused loop gives the interpreter's bits.
// All three slices must have the same length; dst may be x or y.
func AxpyTo(dst []float64, a float64, x, y []float64) {
	checkLen("AxpyTo", len(dst), len(x), len(y))
	axpyToWith(active, dst, a, x, y)
}
