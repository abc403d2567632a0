package runtime

import "math"

// The pure-Go kernels: the only ones under the purego build tag and on
// every architecture but amd64, the fallback on amd64 processors without
// AVX2 and FMA, and the reference that the assembly is tested against.
// Each computes exactly the floating-point operations, in exactly the
// order, that its AVX2 twin does (see kernels_simd.go), so that the two
// agree to the last bit. Two Go rules matter for that:
//
//   - math.FMA rounds once, as VFMADD231PD does; on amd64 and arm64 the
//     compiler turns it into the instruction.
//   - Go may fuse x*y + z into one FMA on some architectures (arm64,
//     ppc64, s390x); an explicit float64(x*y) forbids it, so the kernels
//     that round the product first write it that way.

var goKernels = kernelSet{
	name:     "go",
	sum:      sumGo,
	dot:      dotGo,
	add:      addGo,
	sub:      subGo,
	mul:      mulGo,
	div:      divGo,
	addConst: addConstGo,
	mulConst: mulConstGo,
	divConst: divConstGo,
	constSub: constSubGo,
	constDiv: constDivGo,
	axpy:     axpyGo,
	axpyTo:   axpyToGo,
	gemvN:    gemvNGo,
	gemvT:    gemvTGo,
	fmaRow:   fmaRowGo,
	fmaRows4: fmaRows4Go,
	gemmTile: gemmTileRows,
}

// sumGo is Σ x[i] in the fixed order of the reductions: sixteen
// accumulators a0..a15 (a[4k+l] is lane l of accumulator k), each element
// of a block of 16 into its own; then blocks of 4 into a0..a3; then the
// combination v[l] = (a[l] + a[4+l]) + (a[8+l] + a[12+l]) and
// r = (v0 + v2) + (v1 + v3); then the last 0 to 3 elements into r in turn.
func sumGo(x []float64) float64 {
	var a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15 float64
	i := 0
	for ; len(x)-i >= 16; i += 16 {
		b := x[i : i+16 : i+16]
		a0 += b[0]
		a1 += b[1]
		a2 += b[2]
		a3 += b[3]
		a4 += b[4]
		a5 += b[5]
		a6 += b[6]
		a7 += b[7]
		a8 += b[8]
		a9 += b[9]
		a10 += b[10]
		a11 += b[11]
		a12 += b[12]
		a13 += b[13]
		a14 += b[14]
		a15 += b[15]
	}
	for ; len(x)-i >= 4; i += 4 {
		b := x[i : i+4 : i+4]
		a0 += b[0]
		a1 += b[1]
		a2 += b[2]
		a3 += b[3]
	}
	v0 := (a0 + a4) + (a8 + a12)
	v1 := (a1 + a5) + (a9 + a13)
	v2 := (a2 + a6) + (a10 + a14)
	v3 := (a3 + a7) + (a11 + a15)
	r := (v0 + v2) + (v1 + v3)
	for _, v := range x[i:] {
		r += v
	}
	return r
}

// dotGo is Σ x[i]·y[i] in the order of sumGo, each term fused into its
// accumulator: a = fma(x[i], y[i], a).
func dotGo(x, y []float64) float64 {
	y = y[:len(x)]
	var a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15 float64
	i := 0
	for ; len(x)-i >= 16; i += 16 {
		b := x[i : i+16 : i+16]
		c := y[i : i+16 : i+16]
		a0 = math.FMA(b[0], c[0], a0)
		a1 = math.FMA(b[1], c[1], a1)
		a2 = math.FMA(b[2], c[2], a2)
		a3 = math.FMA(b[3], c[3], a3)
		a4 = math.FMA(b[4], c[4], a4)
		a5 = math.FMA(b[5], c[5], a5)
		a6 = math.FMA(b[6], c[6], a6)
		a7 = math.FMA(b[7], c[7], a7)
		a8 = math.FMA(b[8], c[8], a8)
		a9 = math.FMA(b[9], c[9], a9)
		a10 = math.FMA(b[10], c[10], a10)
		a11 = math.FMA(b[11], c[11], a11)
		a12 = math.FMA(b[12], c[12], a12)
		a13 = math.FMA(b[13], c[13], a13)
		a14 = math.FMA(b[14], c[14], a14)
		a15 = math.FMA(b[15], c[15], a15)
	}
	for ; len(x)-i >= 4; i += 4 {
		b := x[i : i+4 : i+4]
		c := y[i : i+4 : i+4]
		a0 = math.FMA(b[0], c[0], a0)
		a1 = math.FMA(b[1], c[1], a1)
		a2 = math.FMA(b[2], c[2], a2)
		a3 = math.FMA(b[3], c[3], a3)
	}
	v0 := (a0 + a4) + (a8 + a12)
	v1 := (a1 + a5) + (a9 + a13)
	v2 := (a2 + a6) + (a10 + a14)
	v3 := (a3 + a7) + (a11 + a15)
	r := (v0 + v2) + (v1 + v3)
	for j := i; j < len(x); j++ {
		r = math.FMA(x[j], y[j], r)
	}
	return r
}

func addGo(dst, x, y []float64) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = x[i] + y[i]
	}
}

func subGo(dst, x, y []float64) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = x[i] - y[i]
	}
}

func mulGo(dst, x, y []float64) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = x[i] * y[i]
	}
}

func divGo(dst, x, y []float64) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = x[i] / y[i]
	}
}

func addConstGo(dst, x []float64, c float64) {
	x = x[:len(dst)]
	for i := range dst {
		dst[i] = x[i] + c
	}
}

func mulConstGo(dst, x []float64, c float64) {
	x = x[:len(dst)]
	for i := range dst {
		dst[i] = x[i] * c
	}
}

func divConstGo(dst, x []float64, c float64) {
	x = x[:len(dst)]
	for i := range dst {
		dst[i] = x[i] / c
	}
}

func constSubGo(dst []float64, c float64, x []float64) {
	x = x[:len(dst)]
	for i := range dst {
		dst[i] = c - x[i]
	}
}

func constDivGo(dst []float64, c float64, x []float64) {
	x = x[:len(dst)]
	for i := range dst {
		dst[i] = c / x[i]
	}
}

// axpyGo is y += a·x with the product rounded first (never fused).
func axpyGo(a float64, x, y []float64) {
	x = x[:len(y)]
	for i := range y {
		y[i] += float64(a * x[i])
	}
}

// axpyToGo is dst = a·x + y with the product rounded first.
func axpyToGo(dst []float64, a float64, x, y []float64) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = float64(a*x[i]) + y[i]
	}
}

// gemvNGo is y = alpha·A·x + beta·y with the rows reduced by dotGo.
func gemvNGo(n int, alpha float64, a, x []float64, beta float64, y []float64) {
	for i := range y {
		y[i] = scaleAdd(alpha, dotGo(a[i*n:(i+1)*n], x), beta, y[i])
	}
}

// gemvTGo is the update of y by alpha·Aᵀ·x, four rows per pass.
func gemvTGo(alpha float64, x, a []float64, n int, y []float64) {
	c := len(y)
	i := 0
	for ; i+4 <= len(x); i += 4 {
		o := i * n
		fmaRows4Go(y, alpha*x[i], alpha*x[i+1], alpha*x[i+2], alpha*x[i+3],
			a[o:o+c], a[o+n:o+n+c], a[o+2*n:o+2*n+c], a[o+3*n:o+3*n+c])
	}
	for ; i < len(x); i++ {
		fmaRowGo(y, alpha*x[i], a[i*n:i*n+c])
	}
}

// fmaRowGo is y = fma(a, r, y) elementwise.
func fmaRowGo(y []float64, a float64, r []float64) {
	r = r[:len(y)]
	for i := range y {
		y[i] = math.FMA(a, r[i], y[i])
	}
}

// fmaRows4Go is fmaRowGo for four rows in turn, with one pass over y.
func fmaRows4Go(y []float64, a0, a1, a2, a3 float64, r0, r1, r2, r3 []float64) {
	n := len(y)
	r0, r1, r2, r3 = r0[:n], r1[:n], r2[:n], r3[:n]
	for i := range y {
		s := math.FMA(a0, r0[i], y[i])
		s = math.FMA(a1, r1[i], s)
		s = math.FMA(a2, r2[i], s)
		y[i] = math.FMA(a3, r3[i], s)
	}
}
