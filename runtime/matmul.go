package runtime

import (
	goruntime "runtime"
)

// Matrix-vector and matrix-matrix products with a fixed order of
// operations per output element.
//
// Matrix product: element (i, j) of S = op(A)·op(B) is the chain
//
//	s = 0; for l = 0, 1, ..., k-1: s = fma(op(A)[i][l], op(B)[l][j], s)
//
// and C = alpha·S + beta·C with the product and the sum rounded apart
// (beta = 0 gives alpha·S and ignores C). Blocking over l only pauses
// the chain: a partial s is stored as the float64 it already is and
// continued later, so the packed AVX2 micro-kernel, the pure-Go loops,
// any tile size and any split between goroutines give the same bits.
//
// Matrix-vector product: with A as stored, y[i] = alpha·Dot(A[i,:], x) +
// beta·y[i], each row exactly as Dot computes it. With Aᵀ, y[j] starts
// as beta·y[j] (0 when beta = 0) and takes fma(alpha·x[i], A[i][j], y[j])
// for i = 0, 1, ..., m-1 in turn, the order of the reference BLAS.

// Thresholds of the products, in multiply-adds.
const (
	// Products with fewer run on one goroutine.
	gemvParallelMin = 1 << 18
	gemmParallelMin = 1 << 21
	// A parallel matrix-vector product gives each goroutine chunks of
	// about gemvGrain elements of A.
	gemvGrain = 1 << 15
	// Columns of y per chunk in y = Aᵀ·x: a chunk of y stays in L1
	// while all rows of A stream past it.
	gemvTCols = 512
)

// scaleAdd is alpha·s + beta·c, each product rounded, or alpha·s when
// beta is 0.
func scaleAdd(alpha, s, beta, c float64) float64 {
	if beta == 0 {
		return alpha * s
	}
	return float64(alpha*s) + float64(beta*c)
}

// scaleOrZeroWith is scaleOrZero with the kernels of ks.
func scaleOrZeroWith(ks *kernelSet, beta float64, y []float64) {
	switch beta {
	case 0:
		clear(y)
	case 1:
	default:
		ks.mulConst(y, y, beta)
	}
}

// gemvWith is Gemv after its checks, for rows, cols ≥ 1.
func gemvWith(ks *kernelSet, trans bool, m, n int, alpha float64, a, x []float64, beta float64, y []float64) {
	if alpha == 0 {
		scaleOrZeroWith(ks, beta, y)
		return
	}
	if !trans {
		// A row longer than reduceSerialMax is a parallel Dot already.
		if m*n < gemvParallelMin || n > reduceSerialMax {
			gemvRows(ks, n, alpha, a, x, beta, y, 0, m)
			return
		}
		t := getVecTask()
		t.op, t.ks, t.n, t.a, t.mat, t.x, t.beta, t.y = vecGemvRows, ks, n, alpha, a, x, beta, y
		t.run(m, max(1, gemvGrain/n))
		return
	}
	scaleOrZeroWith(ks, beta, y)
	if m*n < gemvParallelMin {
		for lo := 0; lo < n; lo += gemvTCols {
			gemvCols(ks, m, n, alpha, a, x, y, lo, min(lo+gemvTCols, n))
		}
		return
	}
	t := getVecTask()
	t.op, t.ks, t.m, t.n, t.a, t.mat, t.x, t.y = vecGemvCols, ks, m, n, alpha, a, x, y
	t.run(n, gemvTCols)
}

// gemvRows computes rows [lo, hi) of y = alpha·A·x + beta·y.
func gemvRows(ks *kernelSet, n int, alpha float64, a, x []float64, beta float64, y []float64, lo, hi int) {
	if n <= reduceSerialMax {
		ks.gemvN(n, alpha, a[lo*n:hi*n], x[:n], beta, y[lo:hi])
		return
	}
	for i := lo; i < hi; i++ {
		y[i] = scaleAdd(alpha, dotWith(ks, a[i*n:(i+1)*n], x), beta, y[i])
	}
}

// gemvCols adds alpha·Aᵀ·x to elements [lo, hi) of y, row by row.
func gemvCols(ks *kernelSet, m, n int, alpha float64, a, x, y []float64, lo, hi int) {
	// The kernel reads a[lo+i·n : lo+i·n+hi-lo] for i < m.
	ks.gemvT(alpha, x[:m], a[lo:(m-1)*n+hi], n, y[lo:hi])
}

// gemmArgs are the operands of a matrix product: op(A) is m×k, op(B) is
// k×n, both row-major as stored.
type gemmArgs struct {
	transA, transB bool
	m, n, k        int
	a, b           []float64
}

// atA is op(A)[i][l].
func (p *gemmArgs) atA(i, l int) float64 {
	if p.transA {
		return p.a[l*p.m+i]
	}
	return p.a[i*p.k+l]
}

// gemmWith is Gemm after its checks, for m, n, k ≥ 1.
func gemmWith(ks *kernelSet, transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64) {
	if alpha == 0 {
		scaleOrZeroWith(ks, beta, c)
		return
	}
	p := gemmArgs{transA: transA, transB: transB, m: m, n: n, k: k, a: a, b: b}
	if float64(m)*float64(n)*float64(k) < gemmParallelMin {
		gemmTask(ks, p, alpha, beta, c, 0, m, 0, n)
		return
	}
	workers := goruntime.GOMAXPROCS(0)
	if workers == 1 {
		gemmTask(ks, p, alpha, beta, c, 0, m, 0, n)
		return
	}
	// Every element is computed whole by one task, so how the tasks
	// split C changes no bit: one task per goroutine along the longer
	// side of C, in whole micro-tiles. (Each task packs its own panels,
	// so thinner tasks would repeat more packing.)
	parts := workers
	t := getVecTask()
	t.ks, t.gemm, t.a, t.beta, t.dst = ks, p, alpha, beta, c
	if n >= m {
		t.op = vecGemmCols
		t.run(n, roundUp((n+parts-1)/parts, gemmNR))
	} else {
		t.op = vecGemmRows
		t.run(m, roundUp((m+parts-1)/parts, gemmMR))
	}
}

// gemmTask computes rows [i0, i1) and columns [j0, j1) of C.
func gemmTask(ks *kernelSet, p gemmArgs, alpha, beta float64, c []float64, i0, i1, j0, j1 int) {
	n, nc := p.n, j1-j0
	// The unscaled product goes straight into C when C's old value is
	// not needed, else into a buffer of the tile.
	w, ldw := c[i0*n+j0:], n
	var buf *[]float64
	if beta != 0 {
		buf = getBuf((i1 - i0) * nc)
		w, ldw = *buf, nc
	}
	ks.gemmTile(ks, p, i0, i1, j0, j1, w, ldw)
	for i := i0; i < i1; i++ {
		cr := c[i*n+j0 : i*n+j1]
		if beta == 0 {
			if alpha != 1 {
				for j, v := range cr {
					cr[j] = alpha * v
				}
			}
			continue
		}
		wr := w[(i-i0)*ldw : (i-i0)*ldw+nc]
		for j, v := range wr {
			cr[j] = float64(alpha*v) + float64(beta*cr[j])
		}
	}
	if buf != nil {
		putBuf(buf)
	}
}

// Shape of the AVX2 micro-kernel's tile (see _asm/gemm.go); the split of
// C between goroutines follows it on every architecture.
const (
	gemmMR = 6
	gemmNR = 8
)

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// gemmTileRows computes a tile of S row by row: for each row of the tile
// and l in increasing order, the row takes fma(op(A)[i][l], op(B)[l][j:],
// row), four values of l per pass (fmaRows4). It serves small products
// and the pure-Go path. Column blocks of gemmRowsCols keep the rows of
// op(B) in cache across the rows of the tile.
func gemmTileRows(ks *kernelSet, p gemmArgs, i0, i1, j0, j1 int, w []float64, ldw int) {
	k := p.k
	bt, ldb, boff := p.b, p.n, j0
	var buf *[]float64
	if p.transB {
		// op(B)[l][j] = b[j·k + l]: copy the tile's columns into rows.
		nc := j1 - j0
		buf = getBuf(k * nc)
		bt, ldb, boff = *buf, nc, 0
		for j := range nc {
			src := p.b[(j0+j)*k : (j0+j+1)*k]
			for l, v := range src {
				bt[l*nc+j] = v
			}
		}
	}
	for jb := j0; jb < j1; jb += gemmRowsCols {
		je := min(jb+gemmRowsCols, j1)
		lo, hi := jb-j0+boff, je-j0+boff // columns of bt
		for i := i0; i < i1; i++ {
			o := (i-i0)*ldw + jb - j0
			wr := w[o : o+je-jb]
			clear(wr)
			l := 0
			for ; l+4 <= k; l += 4 {
				b0 := l * ldb
				ks.fmaRows4(wr, p.atA(i, l), p.atA(i, l+1), p.atA(i, l+2), p.atA(i, l+3),
					bt[b0+lo:b0+hi], bt[b0+ldb+lo:b0+ldb+hi], bt[b0+2*ldb+lo:b0+2*ldb+hi], bt[b0+3*ldb+lo:b0+3*ldb+hi])
			}
			for ; l < k; l++ {
				ks.fmaRow(wr, p.atA(i, l), bt[l*ldb+lo:l*ldb+hi])
			}
		}
	}
	if buf != nil {
		putBuf(buf)
	}
}

const gemmRowsCols = 256

// bufPool recycles the scratch buffers of the matrix products. (Not a
// sync.Pool: the garbage collector empties those, and the next product
// would allocate.)
var bufPool idleStack[*[]float64]

// getBuf returns a buffer of n float64s with unspecified contents.
func getBuf(n int) *[]float64 {
	if b, ok := bufPool.pop(); ok && cap(*b) >= n {
		*b = (*b)[:n]
		return b
	}
	s := make([]float64, n)
	return &s
}

// putBuf keeps b unless maxIdleBufs buffers are idle: as many as the
// products that run at once need, without keeping the memory of many.
func putBuf(b *[]float64) { bufPool.push(b, maxIdleBufs) }

const maxIdleBufs = 16
