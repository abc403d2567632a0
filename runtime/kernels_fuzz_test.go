package runtime

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Fuzz targets for every kernel, over lengths 0..4097, slice offsets 0..7
// (every alignment of a 32-byte vector) and the value modes of fill
// (including NaN, ±Inf, ±0 and subnormals). Each compares every
// implementation with the pure-Go one bit for bit and with a naive loop:
// exactly for elementwise kernels and matrix products, within
// reductionBound for Sum and Dot. Run one for a while with, e.g.,
//
//	go test ./runtime -run '^$' -fuzz '^FuzzMaps$' -fuzztime 2m

// vecIn is a guarded input of length n at offset off filled by mode.
func vecIn(rng *rand.Rand, n int, off uint8, mode uint8) []float64 {
	g := newGuarded(n, int(off%8))
	fill(rng, g.s, mode)
	return g.s
}

func FuzzReductions(f *testing.F) {
	f.Add(uint16(0), uint8(0), uint8(0), uint8(0), uint64(1))
	f.Add(uint16(15), uint8(1), uint8(3), uint8(2), uint64(2))
	f.Add(uint16(4097), uint8(7), uint8(5), uint8(1), uint64(3))
	f.Add(uint16(1000), uint8(2), uint8(6), uint8(4), uint64(4))
	f.Fuzz(func(t *testing.T, n uint16, offX, offY, mode uint8, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, uint64(n)))
		l := int(n) % 4098
		x, y := vecIn(rng, l, offX, mode), vecIn(rng, l, offY, mode/5)
		checkReductions(t, x, y)
		// Norm2 uses Dot, and must not depend on the implementation
		// either.
		want := Norm2(x)
		saved := active
		active = &goKernels
		got := Norm2(x)
		active = saved
		if !sameBits(got, want) {
			t.Fatalf("n=%d: Norm2 = %v, pure Go %v", l, want, got)
		}
	})
}

func FuzzMaps(f *testing.F) {
	f.Add(uint16(0), uint8(0), uint8(0), uint8(0), uint8(0), uint64(1), 1.5)
	f.Add(uint16(17), uint8(1), uint8(2), uint8(3), uint8(2), uint64(2), math.Copysign(0, -1))
	f.Add(uint16(4097), uint8(7), uint8(0), uint8(5), uint8(1), uint64(3), math.Inf(1))
	f.Add(uint16(35), uint8(4), uint8(4), uint8(4), uint8(3), uint64(4), math.NaN())
	f.Fuzz(func(t *testing.T, n uint16, offX, offY, offD, mode uint8, seed uint64, c float64) {
		rng := rand.New(rand.NewPCG(seed, uint64(n)))
		l := int(n) % 4098
		x, y := vecIn(rng, l, offX, mode), vecIn(rng, l, offY, mode)
		checkMaps(t, x, y, int(offD%8), c)
	})
}

func FuzzGemv(f *testing.F) {
	f.Add(uint16(1), uint16(1), false, uint8(0), uint8(0), uint64(1), 1.0, 0.0)
	f.Add(uint16(33), uint16(17), true, uint8(3), uint8(2), uint64(2), -2.0, 0.5)
	f.Add(uint16(7), uint16(4097), false, uint8(5), uint8(1), uint64(3), 1.0, math.Copysign(0, -1))
	f.Add(uint16(300), uint16(5), true, uint8(1), uint8(0), uint64(4), 0.0, math.NaN())
	f.Fuzz(func(t *testing.T, m, n uint16, trans bool, off, mode uint8, seed uint64, alpha, beta float64) {
		// m·n at most 2¹⁷ keeps a run fast; either side may reach 4097.
		rows, cols := int(m)%4098, int(n)%4098
		for rows*cols > 1<<17 {
			rows /= 2
		}
		if rows == 0 || cols == 0 {
			return // Gemv handles empty sides before the kernels
		}
		rng := rand.New(rand.NewPCG(seed, uint64(m)<<16|uint64(n)))
		xl, yl := cols, rows
		if trans {
			xl, yl = rows, cols
		}
		a, x := vecIn(rng, rows*cols, off, mode), vecIn(rng, xl, off>>3, mode)
		yg := newGuarded(yl, int(off>>5)%8)
		fill(rng, yg.s, mode)
		want := make([]float64, yl)
		switch {
		case alpha == 0:
			for i := range want {
				if beta != 0 {
					want[i] = beta * yg.s[i]
				}
			}
		case !trans:
			for i := range want {
				want[i] = scaleAdd(alpha, dotGo(a[i*cols:(i+1)*cols], x), beta, yg.s[i])
			}
		default:
			for j := range want {
				s := 0.0
				if beta != 0 {
					s = beta * yg.s[j]
				}
				for i := range rows {
					s = math.FMA(alpha*x[i], a[i*cols+j], s)
				}
				want[j] = s
			}
		}
		y0 := append([]float64(nil), yg.s...)
		for _, ks := range kernelSets {
			copy(yg.s, y0)
			gemvWith(ks, trans, rows, cols, alpha, a, x, beta, yg.s)
			yg.check(t, "gemv "+ks.name)
			if i := firstDiff(yg.s, want); i >= 0 {
				t.Fatalf("gemv %s trans=%v %d×%d alpha=%v beta=%v: y[%d] = %v, want %v", ks.name, trans, rows, cols, alpha, beta, i, yg.s[i], want[i])
			}
		}
	})
}

func FuzzGemm(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint8(1), false, false, uint8(0), uint8(0), uint64(1), 1.0, 0.0)
	f.Add(uint8(13), uint8(17), uint8(70), true, false, uint8(9), uint8(2), uint64(2), -0.5, 2.0)
	f.Add(uint8(64), uint8(9), uint8(3), false, true, uint8(0), uint8(3), uint64(3), 1.0, 1.0)
	f.Add(uint8(7), uint8(80), uint8(255), true, true, uint8(255), uint8(1), uint64(4), 3.0, math.Copysign(0, -1))
	f.Fuzz(func(t *testing.T, m, n, k uint8, transA, transB bool, off, mode uint8, seed uint64, alpha, beta float64) {
		// Sides up to 80 (k up to 255): past the packing threshold and
		// several micro-tiles wide, with every kind of edge tile.
		mm, nn, kk := int(m)%81, int(n)%81, int(k)
		if mm == 0 || nn == 0 || kk == 0 || alpha == 0 {
			return // handled by Gemm before the kernels
		}
		rng := rand.New(rand.NewPCG(seed, uint64(m)<<16|uint64(n)<<8|uint64(k)))
		a, b := vecIn(rng, mm*kk, off, mode), vecIn(rng, kk*nn, off>>3, mode)
		cg := newGuarded(mm*nn, int(off>>5)%8)
		fill(rng, cg.s, mode)
		want := naiveGemmFMA(transA, transB, mm, nn, kk, alpha, a, b, beta, cg.s)
		c0 := append([]float64(nil), cg.s...)
		for _, ks := range kernelSets {
			copy(cg.s, c0)
			gemmWith(ks, transA, transB, mm, nn, kk, alpha, a, b, beta, cg.s)
			cg.check(t, "gemm "+ks.name)
			if i := firstDiff(cg.s, want); i >= 0 {
				t.Fatalf("gemm %s tA=%v tB=%v %d×%d×%d alpha=%v beta=%v: C[%d] = %v, want %v",
					ks.name, transA, transB, mm, nn, kk, alpha, beta, i, cg.s[i], want[i])
			}
		}
	})
}
