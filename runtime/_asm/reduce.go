package main

import (
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// reductions emits sum and dot. Both follow the fixed order that
// runtime/kernels_go.go reproduces in Go (see sumGo and dotGo there):
//
//   - four accumulators of four lanes, acc[k][l], all +0 at the start;
//   - while 16 or more elements remain, element i+4k+l goes into
//     acc[k][l];
//   - then, while 4 or more remain, element i+l goes into acc[0][l];
//   - the accumulators are combined lane by lane as
//     v[l] = (acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l]),
//     the lanes as r = (v[0] + v[2]) + (v[1] + v[3]);
//   - the last 0 to 3 elements go into r one after the other.
//
// "Goes into" is acc + x for sum and fma(x, y, acc) for dot.
func (g *gen) reductions() {
	g.reduction("sumAVX2", "func(x []float64) float64",
		[]string{"sumAVX2 returns the sum of x in the fixed order of sumGo."}, false)
	g.reduction("dotAVX2", "func(x, y []float64) float64",
		[]string{"dotAVX2 returns the dot product of x and y[:len(x)] in the fixed order of dotGo."}, true)
}

func (g *gen) reduction(name, sig string, doc []string, dot bool) {
	g.fn(name, sig, doc...)
	n := g.length("x")
	px := g.base("x")
	var py reg.GPVirtual
	if dot {
		py = g.base("y")
	}
	r := g.reduce(px, py, n, "")
	g.VZEROUPPER()
	g.Store(r, g.ReturnIndex(0))
	g.RET()
}

// reduce emits the fixed-order reduction of the n elements at px (sum,
// or with py the dot product with the elements at py) and returns the
// XMM register that holds the result. It consumes n. Its labels start
// with prefix; it ends at the label prefix+"end".
func (g *gen) reduce(px, py reg.GPVirtual, n reg.Register, prefix string) reg.Register {
	dot := py != nil
	label := func(s string) operand.LabelRef { return operand.LabelRef(prefix + s) }
	acc := make([]reg.VecVirtual, 4)
	for k := range acc {
		acc[k] = g.YMM()
		g.VXORPD(acc[k], acc[k], acc[k])
	}
	i := g.GP64()
	g.XORQ(i, i)

	// into adds the vector (or element) at offset off into a.
	into := func(w width, off int, a reg.Register) {
		if !dot {
			g.add(w)(at(px, i, off), a, a)
			return
		}
		t := g.vec(w)
		g.load(w, at(px, i, off), t)
		g.fma(w)(at(py, i, off), t, a) // a = x·y + a
	}

	g.Label(prefix + "loop16")
	g.CMPQ(n, operand.U32(16))
	g.JL(label("loop4"))
	for k := range acc {
		into(packed, 4*k, acc[k])
	}
	g.ADDQ(operand.U32(16), i)
	g.SUBQ(operand.U32(16), n)
	g.JMP(label("loop16"))

	g.Label(prefix + "loop4")
	g.CMPQ(n, operand.U32(4))
	g.JL(label("combine"))
	into(packed, 0, acc[0])
	g.ADDQ(operand.U32(4), i)
	g.SUBQ(operand.U32(4), n)
	g.JMP(label("loop4"))

	g.Label(prefix + "combine")
	g.VADDPD(acc[1], acc[0], acc[0])
	g.VADDPD(acc[3], acc[2], acc[2])
	g.VADDPD(acc[2], acc[0], acc[0]) // v
	hi := g.XMM()
	g.VEXTRACTF128(operand.U8(1), acc[0], hi) // (v2, v3)
	r := acc[0].AsX()                         // (v0, v1)
	g.VADDPD(hi, r, r)                        // (v0+v2, v1+v3)
	g.VHADDPD(r, r, r)                        // (v0+v2) + (v1+v3)

	g.Label(prefix + "tail")
	g.TESTQ(n, n)
	g.JE(label("end"))
	into(scalar, 0, r)
	g.INCQ(i)
	g.DECQ(n)
	g.JMP(label("tail"))

	g.Label(prefix + "end")
	return r
}
