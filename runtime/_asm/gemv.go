package main

import (
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

func (g *gen) gemv() {
	g.gemvN()
	g.gemvT()
}

// gemvN emits the rows of y = alpha·A·x + beta·y: each row is reduced as
// dotAVX2 reduces it, then scaled as runtime's scaleAdd does. Looping
// over the rows here rather than calling dotAVX2 per row saves a call per
// row, and lets a row's final additions overlap the next row's loads.
func (g *gen) gemvN() {
	g.fn("gemvNAVX2", "func(n int, alpha float64, a, x []float64, beta float64, y []float64)",
		"gemvNAVX2 stores alpha*dot(a[i*n:(i+1)*n], x) + beta*y[i] in y[i] for",
		"i < len(y), the dot product in the order of dotGo and the products",
		"rounded before the sum; with beta = 0 it stores alpha*dot and ignores y.",
	)
	rows := g.length("y")
	n := g.GP64()
	g.Load(g.Param("n"), n)
	rowBytes := g.GP64()
	g.MOVQ(n, rowBytes)
	g.SHLQ(operand.U8(3), rowBytes)
	pa := g.base("a")
	px := g.base("x")
	py := g.base("y")
	alpha, beta := g.XMM(), g.XMM()
	g.VMOVSD(g.arg("alpha"), alpha)
	g.VMOVSD(g.arg("beta"), beta)
	zero := g.XMM()
	g.VXORPD(zero, zero, zero)
	row := g.GP64()
	g.XORQ(row, row)

	g.Label("row")
	g.CMPQ(row, rows)
	g.JGE(operand.LabelRef("done"))
	cnt := g.GP64()
	g.MOVQ(n, cnt)
	r := g.reduce(pa, px, cnt, "r")
	g.VMULSD(alpha, r, r)
	// beta == 0 (either sign) leaves alpha·s; UCOMISD sets ZF for equal
	// and for unordered, so a NaN beta is told apart by the parity flag.
	g.VUCOMISD(zero, beta)
	g.JNE(operand.LabelRef("scaled"))
	g.JP(operand.LabelRef("scaled"))
	g.JMP(operand.LabelRef("store"))
	g.Label("scaled")
	t := g.XMM()
	g.VMULSD(at(py, row, 0), beta, t)
	g.VADDSD(t, r, r)
	g.Label("store")
	g.VMOVSD(r, at(py, row, 0))
	g.ADDQ(rowBytes, pa)
	g.INCQ(row)
	g.JMP(operand.LabelRef("row"))

	g.done()
}

// gemvT emits the update of a block of columns of y by Aᵀ·x: for each
// row i in turn, y[j] = fma(alpha·x[i], A[i][j], y[j]). Four rows go
// together through one pass over the block (a chain of four FMAs per
// element, in row order), the last 0 to 3 rows one at a time; the order
// per element is the same either way.
func (g *gen) gemvT() {
	g.fn("gemvTAVX2", "func(alpha float64, x, a []float64, n int, y []float64)",
		"gemvTAVX2 takes, for i = 0, 1, ..., len(x)-1 in turn and every",
		"j < len(y), y[j] = fma(alpha*x[i], a[i*n+j], y[j]).",
	)
	rows := g.length("x")
	cols := g.length("y")
	pa := g.base("a")
	px := g.base("x")
	py := g.base("y")
	stride := g.GP64()
	g.Load(g.Param("n"), stride)
	g.SHLQ(operand.U8(3), stride) // bytes between rows
	alpha := g.YMM()
	g.VBROADCASTSD(g.arg("alpha"), alpha)

	// coef broadcasts alpha·x[k] (the product rounded as in Go).
	coef := func(k int) reg.VecVirtual {
		c := g.YMM()
		g.VBROADCASTSD(operand.Mem{Base: px, Disp: 8 * k}, c)
		g.VMULPD(alpha, c, c)
		return c
	}

	g.Label("rows4")
	g.CMPQ(rows, operand.U32(4))
	g.JL(operand.LabelRef("rows1"))
	r := []reg.Register{pa, g.GP64(), g.GP64(), g.GP64()}
	g.LEAQ(operand.Mem{Base: pa, Index: stride, Scale: 1}, r[1])
	g.LEAQ(operand.Mem{Base: r[1], Index: stride, Scale: 1}, r[2])
	g.LEAQ(operand.Mem{Base: r[2], Index: stride, Scale: 1}, r[3])
	var cs []reg.VecVirtual
	for k := range 4 {
		cs = append(cs, coef(k))
	}
	g.columns("q", py, cols, r, cs)
	g.LEAQ(operand.Mem{Base: r[3], Index: stride, Scale: 1}, pa)
	g.ADDQ(operand.U32(32), px)
	g.SUBQ(operand.U32(4), rows)
	g.JMP(operand.LabelRef("rows4"))

	g.Label("rows1")
	g.TESTQ(rows, rows)
	g.JE(operand.LabelRef("done"))
	g.columns("s", py, cols, []reg.Register{pa}, []reg.VecVirtual{coef(0)})
	g.ADDQ(stride, pa)
	g.ADDQ(operand.U32(8), px)
	g.DECQ(rows)
	g.JMP(operand.LabelRef("rows1"))

	g.done()
}

// columns emits one pass over the len(y) = cols elements of y: each
// takes fma(cs[k], rows[k][j], y[j]) for k in order. Labels start with
// prefix.
func (g *gen) columns(prefix string, py reg.Register, cols reg.Register, rows []reg.Register, cs []reg.VecVirtual) {
	label := func(s string) operand.LabelRef { return operand.LabelRef(prefix + s) }
	j, rem := g.GP64(), g.GP64()
	g.XORQ(j, j)
	g.MOVQ(cols, rem)
	step := func(w width, off int) {
		t := g.vec(w)
		g.load(w, at(py, j, off), t)
		for k, r := range rows {
			c := reg.Register(cs[k])
			if w == scalar {
				c = cs[k].AsX()
			}
			g.fma(w)(at(r, j, off), c, t)
		}
		g.store(w, t, at(py, j, off))
	}
	g.Label(prefix + "16")
	g.CMPQ(rem, operand.U32(16))
	g.JL(label("4"))
	for k := range 4 {
		step(packed, 4*k)
	}
	g.ADDQ(operand.U32(16), j)
	g.SUBQ(operand.U32(16), rem)
	g.JMP(label("16"))
	g.Label(prefix + "4")
	g.CMPQ(rem, operand.U32(4))
	g.JL(label("1"))
	step(packed, 0)
	g.ADDQ(operand.U32(4), j)
	g.SUBQ(operand.U32(4), rem)
	g.JMP(label("4"))
	g.Label(prefix + "1")
	g.TESTQ(rem, rem)
	g.JE(label("end"))
	step(scalar, 0)
	g.INCQ(j)
	g.DECQ(rem)
	g.JMP(label("1"))
	g.Label(prefix + "end")
}
