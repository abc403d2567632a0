package main

import (
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// mapSpec describes an elementwise kernel: for every i < len(dst),
// dst[i] = f(vecs[0][i], ..., scalars...). The Go wrapper has checked
// that every slice is as long as dst.
type mapSpec struct {
	name, sig string
	doc       []string
	dst       string   // the slice written; its length is the trip count
	vecs      []string // the slices read, in the order f receives them
	scalars   []string // float64 parameters, broadcast to every lane
	// f emits the computation of one vector (or element) of width w from
	// the broadcast scalars s and the memory operands v of the inputs,
	// and returns the register that holds the result.
	f func(g *gen, w width, s []reg.Register, v []operand.Mem) reg.Register
}

// mapKernel emits the loop of a mapSpec: sixteen elements per iteration
// in four independent YMM registers, then four at a time, then one at a
// time. Loads and stores are unaligned, so any slice offset works, and
// each element is loaded before it is stored, so dst may be one of the
// inputs (the same slice; partial overlap is not supported).
func (g *gen) mapKernel(m mapSpec) {
	g.fn(m.name, m.sig, m.doc...)
	n := g.length(m.dst)
	dp := g.base(m.dst)
	ps := make([]reg.Register, len(m.vecs))
	for k, v := range m.vecs {
		if v == m.dst {
			ps[k] = dp
		} else {
			ps[k] = g.base(v)
		}
	}
	sy := make([]reg.Register, len(m.scalars))
	sx := make([]reg.Register, len(m.scalars))
	for k, s := range m.scalars {
		y := g.YMM()
		g.VBROADCASTSD(g.arg(s), y)
		sy[k], sx[k] = y, y.AsX()
	}
	i := g.GP64()
	g.XORQ(i, i)

	compute := func(w width, off int) reg.Register {
		v := make([]operand.Mem, len(ps))
		for k, p := range ps {
			v[k] = at(p, i, off)
		}
		s := sy
		if w == scalar {
			s = sx
		}
		return m.f(g, w, s, v)
	}
	step := func(w width, off int) { g.store(w, compute(w, off), at(dp, i, off)) }

	// The four vectors of a block are all loaded and computed before the
	// first store, so no load waits behind a store that may alias it.
	g.Label("loop16")
	g.CMPQ(n, operand.U32(16))
	g.JL(operand.LabelRef("loop4"))
	var res [4]reg.Register
	for k := range res {
		res[k] = compute(packed, 4*k)
	}
	for k, r := range res {
		g.store(packed, r, at(dp, i, 4*k))
	}
	g.ADDQ(operand.U32(16), i)
	g.SUBQ(operand.U32(16), n)
	g.JMP(operand.LabelRef("loop16"))

	g.Label("loop4")
	g.CMPQ(n, operand.U32(4))
	g.JL(operand.LabelRef("tail"))
	step(packed, 0)
	g.ADDQ(operand.U32(4), i)
	g.SUBQ(operand.U32(4), n)
	g.JMP(operand.LabelRef("loop4"))

	g.Label("tail")
	g.TESTQ(n, n)
	g.JE(operand.LabelRef("done"))
	step(scalar, 0)
	g.INCQ(i)
	g.DECQ(n)
	g.JMP(operand.LabelRef("tail"))

	g.done()
}

// binary is x op y for two inputs: load x, then op with y from memory.
func binary(inst func(*gen, width) func(...operand.Op)) func(*gen, width, []reg.Register, []operand.Mem) reg.Register {
	return func(g *gen, w width, _ []reg.Register, v []operand.Mem) reg.Register {
		t := g.vec(w)
		g.load(w, v[0], t)
		inst(g, w)(v[1], t, t) // t = t op y
		return t
	}
}

// scalarFirst is c op x with the broadcast scalar as first operand.
func scalarFirst(inst func(*gen, width) func(...operand.Op)) func(*gen, width, []reg.Register, []operand.Mem) reg.Register {
	return func(g *gen, w width, s []reg.Register, v []operand.Mem) reg.Register {
		t := g.vec(w)
		inst(g, w)(v[0], s[0], t) // t = c op x
		return t
	}
}

// scalarLast is x op c.
func scalarLast(inst func(*gen, width) func(...operand.Op)) func(*gen, width, []reg.Register, []operand.Mem) reg.Register {
	return func(g *gen, w width, s []reg.Register, v []operand.Mem) reg.Register {
		t := g.vec(w)
		g.load(w, v[0], t)
		inst(g, w)(s[0], t, t) // t = x op c
		return t
	}
}

func (g *gen) maps() {
	vv := "func(dst, x, y []float64)"
	for _, k := range []struct {
		name, what string
		inst       func(*gen, width) func(...operand.Op)
	}{
		{"addAVX2", "x[i] + y[i]", (*gen).add},
		{"subAVX2", "x[i] - y[i]", (*gen).sub},
		{"mulAVX2", "x[i] * y[i]", (*gen).mul},
		{"divAVX2", "x[i] / y[i]", (*gen).div},
	} {
		g.mapKernel(mapSpec{
			name: k.name, sig: vv,
			doc: []string{k.name + " stores " + k.what + " in dst[i] for i < len(dst)."},
			dst: "dst", vecs: []string{"x", "y"},
			f: binary(k.inst),
		})
	}

	xc := "func(dst, x []float64, c float64)"
	cx := "func(dst []float64, c float64, x []float64)"
	for _, k := range []struct {
		name, sig, what string
		f               func(*gen, width, []reg.Register, []operand.Mem) reg.Register
	}{
		{"addConstAVX2", xc, "x[i] + c", scalarLast((*gen).add)},
		{"mulConstAVX2", xc, "x[i] * c", scalarLast((*gen).mul)},
		{"divConstAVX2", xc, "x[i] / c", scalarLast((*gen).div)},
		{"constSubAVX2", cx, "c - x[i]", scalarFirst((*gen).sub)},
		{"constDivAVX2", cx, "c / x[i]", scalarFirst((*gen).div)},
	} {
		g.mapKernel(mapSpec{
			name: k.name, sig: k.sig,
			doc: []string{k.name + " stores " + k.what + " in dst[i] for i < len(dst)."},
			dst: "dst", vecs: []string{"x"}, scalars: []string{"c"},
			f: k.f,
		})
	}

	// a·x + y rounded twice, as the scalar expression: the product is
	// rounded before the sum. (An FMA would round once and differ from
	// what the interpreter computes for a*x + y.)
	mulAdd := func(g *gen, w width, s []reg.Register, v []operand.Mem) reg.Register {
		t := g.vec(w)
		g.mul(w)(v[0], s[0], t) // t = a·x
		g.add(w)(v[1], t, t)    // t = t + y
		return t
	}
	g.mapKernel(mapSpec{
		name: "axpyAVX2", sig: "func(a float64, x, y []float64)",
		doc: []string{"axpyAVX2 stores a*x[i] + y[i] in y[i] for i < len(y), the product rounded before the sum."},
		dst: "y", vecs: []string{"x", "y"}, scalars: []string{"a"},
		f: mulAdd,
	})
	g.mapKernel(mapSpec{
		name: "axpyToAVX2", sig: "func(dst []float64, a float64, x, y []float64)",
		doc: []string{"axpyToAVX2 stores a*x[i] + y[i] in dst[i] for i < len(dst), the product rounded before the sum."},
		dst: "dst", vecs: []string{"x", "y"}, scalars: []string{"a"},
		f: mulAdd,
	})

	// The update of y = Aᵀ·x: each y[j] is a chain of fused multiply-adds
	// over the rows in order, so one row at a time and four at a time give
	// the same bits.
	g.mapKernel(mapSpec{
		name: "fmaRowAVX2", sig: "func(y []float64, a float64, r []float64)",
		doc: []string{"fmaRowAVX2 stores fma(a, r[i], y[i]) in y[i] for i < len(y)."},
		dst: "y", vecs: []string{"r", "y"}, scalars: []string{"a"},
		f: func(g *gen, w width, s []reg.Register, v []operand.Mem) reg.Register {
			t := g.vec(w)
			g.load(w, v[1], t)
			g.fma(w)(v[0], s[0], t)
			return t
		},
	})
	g.mapKernel(mapSpec{
		name: "fmaRows4AVX2", sig: "func(y []float64, a0, a1, a2, a3 float64, r0, r1, r2, r3 []float64)",
		doc: []string{
			"fmaRows4AVX2 stores fma(a3, r3[i], fma(a2, r2[i], fma(a1, r1[i], fma(a0, r0[i], y[i]))))",
			"in y[i] for i < len(y).",
		},
		dst: "y", vecs: []string{"r0", "r1", "r2", "r3", "y"}, scalars: []string{"a0", "a1", "a2", "a3"},
		f: func(g *gen, w width, s []reg.Register, v []operand.Mem) reg.Register {
			t := g.vec(w)
			g.load(w, v[4], t)
			for k := 0; k < 4; k++ {
				g.fma(w)(v[k], s[k], t)
			}
			return t
		},
	})
}
