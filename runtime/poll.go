package runtime

import "math"

// Cancellation inside primitives. A primitive charges its steps before it
// starts (so a step limit stops it before its memory is taken), but one
// primitive over a large array can run for seconds: the interpreter runs
// the work of such a primitive in pieces of about PollChunk elements and
// looks at the call's context between them, so that a deadline or a
// cancellation stops it within about a millisecond.
//
// The pieces never change a result: elementwise work and exact
// combinations (max, integer sums) split anywhere; sequential reductions
// (prod, the sums inside logsumexp, softmax and norm) carry their running
// value from piece to piece; Sum and Dot cut pieces at multiples of
// reduceGrain and add the grains' partial sums in the same left-to-right
// order as the unpolled kernels. The *Polled functions therefore return
// the same bits as their plain forms, which generated code calls.

// PollChunk is about how many elements of work a primitive does between
// two looks at its context: a millisecond or less. It is a multiple of
// reduceGrain and at least reduceParallelMin, so that a piece keeps the
// grains and the parallelism of the kernels.
const PollChunk = 1 << 20

// Poll returns the error of m's context, if it is done.
func (m *Machine) Poll() error {
	if m == nil {
		return nil
	}
	return m.Ctx.Err()
}

// Pieces calls body on consecutive pieces [lo, hi) of [0, n), each of
// about PollChunk/cost indices (cost being the elements of work an index
// stands for), checking m's context before every piece but the first. It
// stops at the first error, body's or the context's. A short loop is one
// call of body.
func Pieces(m *Machine, n, cost int, body func(lo, hi int) error) error {
	return piecesOf(m, n, max(PollChunk/max(cost, 1), 1), body)
}

// piecesOf is Pieces with pieces of step indices.
func piecesOf(m *Machine, n, step int, body func(lo, hi int) error) error {
	if n <= step {
		return body(0, n)
	}
	for lo := 0; lo < n; lo += step {
		if lo > 0 {
			if err := m.Poll(); err != nil {
				return err
			}
		}
		if err := body(lo, min(lo+step, n)); err != nil {
			return err
		}
	}
	return nil
}

// grainSum is the sum, in sumWith's order, of part over the reduceGrain
// chunks of [0, n), for n > reduceSerialMax: part(0, g) + part(g, 2g) +
// ... left to right, polling between pieces of PollChunk elements.
func grainSum(m *Machine, n int, part func(lo, hi int) float64) (float64, error) {
	var buf [PollChunk / reduceGrain]float64
	s := 0.0
	err := Pieces(m, n, 1, func(lo, hi int) error {
		k := (hi - lo + reduceGrain - 1) / reduceGrain
		ps := buf[:k]
		chunk := func(c int) { ps[c] = part(lo+c*reduceGrain, min(lo+(c+1)*reduceGrain, hi)) }
		if hi-lo >= reduceParallelMin {
			runChunks(k, chunk)
		} else {
			for c := range k {
				chunk(c)
			}
		}
		for c, p := range ps {
			if lo == 0 && c == 0 {
				s = p
			} else {
				s += p
			}
		}
		return nil
	})
	return s, err
}

// SumPolled is Sum under m.
func SumPolled(m *Machine, x []float64) (float64, error) {
	if len(x) <= PollChunk {
		return Sum(x), nil
	}
	return grainSum(m, len(x), func(lo, hi int) float64 { return active.sum(x[lo:hi]) })
}

// DotPolled is Dot under m.
func DotPolled(m *Machine, x, y []float64) (float64, error) {
	checkLen("Dot", len(x), len(y))
	if len(x) <= PollChunk {
		return Dot(x, y), nil
	}
	return grainSum(m, len(x), func(lo, hi int) float64 { return active.dot(x[lo:hi], y[lo:hi]) })
}

// MeanPolled is Mean under m.
func MeanPolled(m *Machine, x []float64) (float64, error) {
	s, err := SumPolled(m, x)
	return s / float64(len(x)), err
}

// ProdPolled is Prod under m.
func ProdPolled(m *Machine, x []float64) (float64, error) {
	p := 1.0
	err := Pieces(m, len(x), 1, func(lo, hi int) error { p = prodFrom(p, x[lo:hi]); return nil })
	return p, err
}

// MaxPolled is Max under m: the first NaN met ends it, as in Max, and of
// equal maxima (+0 and -0) the first stays.
func MaxPolled(m *Machine, x []float64) (float64, error) {
	return extremePolled(m, x, Max, func(v, best float64) bool { return !(v <= best) })
}

// MinPolled is Min under m.
func MinPolled(m *Machine, x []float64) (float64, error) {
	return extremePolled(m, x, Min, func(v, best float64) bool { return !(v >= best) })
}

func extremePolled(m *Machine, x []float64, f func([]float64) float64, replaces func(v, best float64) bool) (float64, error) {
	best, first := 0.0, true
	err := Pieces(m, len(x), 1, func(lo, hi int) error {
		if !first && best != best {
			return nil // a NaN was met: nothing can change the result
		}
		if v := f(x[lo:hi]); first || replaces(v, best) {
			best, first = v, false
		}
		return nil
	})
	return best, err
}

// ArgMaxPolled is ArgMax under m.
func ArgMaxPolled(m *Machine, x []float64) (int, error) {
	return argPolled(m, x, ArgMax, func(v, best float64) bool { return !(v <= best) })
}

// ArgMinPolled is ArgMin under m.
func ArgMinPolled(m *Machine, x []float64) (int, error) {
	return argPolled(m, x, ArgMin, func(v, best float64) bool { return !(v >= best) })
}

// argPolled combines the first extreme index of each piece as the plain
// kernels do within one: a later piece wins only if it is strictly
// better, and a NaN, once found, stays.
func argPolled(m *Machine, x []float64, f func([]float64) int, replaces func(v, best float64) bool) (int, error) {
	best := -1
	err := Pieces(m, len(x), 1, func(lo, hi int) error {
		if best >= 0 && x[best] != x[best] {
			return nil
		}
		i := f(x[lo:hi])
		if i < 0 {
			return nil
		}
		if v := x[lo+i]; best < 0 || v != v || replaces(v, x[best]) {
			best = lo + i
		}
		return nil
	})
	return best, err
}

// Norm2Polled is Norm2 under m.
func Norm2Polled(m *Machine, x []float64) (float64, error) {
	s, err := DotPolled(m, x, x)
	if err != nil || (s >= norm2Small && s <= math.MaxFloat64) {
		return math.Sqrt(s), err
	}
	if s == 0 {
		zero := true
		if err := Pieces(m, len(x), 1, func(lo, hi int) error { zero = zero && allZero(x[lo:hi]); return nil }); err != nil || zero {
			return 0, err
		}
	}
	scale, inf, nan := 0.0, false, false
	err = Pieces(m, len(x), 1, func(lo, hi int) error {
		sc, i, n := norm2Scale(x[lo:hi])
		scale, inf, nan = max(scale, sc), inf || i, nan || n
		return nil
	})
	if r, done := norm2Special(scale, inf, nan); done || err != nil {
		return r, err
	}
	s = 0
	err = Pieces(m, len(x), 1, func(lo, hi int) error { s = sumScaledSquares(s, x[lo:hi], scale); return nil })
	return scale * math.Sqrt(s), err
}

// LogSumExpPolled is LogSumExp under m.
func LogSumExpPolled(m *Machine, x []float64) (float64, error) {
	mx, err := MaxPolled(m, x)
	if err != nil || math.IsInf(mx, 0) || mx != mx {
		return mx, err
	}
	s := 0.0
	err = Pieces(m, len(x), 1, func(lo, hi int) error { s = sumExpFrom(s, x[lo:hi], mx); return nil })
	return mx + math.Log(s), err
}

// SoftmaxPolled is Softmax under m.
func SoftmaxPolled(m *Machine, dst, x []float64) error {
	checkLen("Softmax", len(dst), len(x))
	mx, err := MaxPolled(m, x)
	if err != nil {
		return err
	}
	s := 0.0
	if err := Pieces(m, len(x), 1, func(lo, hi int) error { s = expShiftFrom(s, dst[lo:hi], x[lo:hi], mx); return nil }); err != nil {
		return err
	}
	return Pieces(m, len(dst), 1, func(lo, hi int) error { ScaleTo(dst[lo:hi], 1/s, dst[lo:hi]); return nil })
}

// SumI64Polled is SumI64 under m (wrapping sums split anywhere).
func SumI64Polled(m *Machine, x []int64) (int64, error) {
	var s int64
	err := Pieces(m, len(x), 1, func(lo, hi int) error { s += SumI64(x[lo:hi]); return nil })
	return s, err
}

// ProdI64Polled is ProdI64 under m.
func ProdI64Polled(m *Machine, x []int64) (int64, error) {
	p := int64(1)
	err := Pieces(m, len(x), 1, func(lo, hi int) error { p *= ProdI64(x[lo:hi]); return nil })
	return p, err
}

// MaxI64Polled is MaxI64 under m.
func MaxI64Polled(m *Machine, x []int64) (int64, error) {
	if len(x) == 0 {
		return MaxI64(x)
	}
	best := x[0]
	err := Pieces(m, len(x), 1, func(lo, hi int) error { v, _ := MaxI64(x[lo:hi]); best = max(best, v); return nil })
	return best, err
}

// MinI64Polled is MinI64 under m.
func MinI64Polled(m *Machine, x []int64) (int64, error) {
	if len(x) == 0 {
		return MinI64(x)
	}
	best := x[0]
	err := Pieces(m, len(x), 1, func(lo, hi int) error { v, _ := MinI64(x[lo:hi]); best = min(best, v); return nil })
	return best, err
}

// ArgMaxI64Polled is ArgMaxI64 under m.
func ArgMaxI64Polled(m *Machine, x []int64) (int, error) {
	return argI64Polled(m, x, ArgMaxI64, func(v, best int64) bool { return v > best })
}

// ArgMinI64Polled is ArgMinI64 under m.
func ArgMinI64Polled(m *Machine, x []int64) (int, error) {
	return argI64Polled(m, x, ArgMinI64, func(v, best int64) bool { return v < best })
}

func argI64Polled(m *Machine, x []int64, f func([]int64) int, better func(v, best int64) bool) (int, error) {
	best := -1
	err := Pieces(m, len(x), 1, func(lo, hi int) error {
		if i := f(x[lo:hi]); i >= 0 && (best < 0 || better(x[lo+i], x[best])) {
			best = lo + i
		}
		return nil
	})
	return best, err
}

// MatMulPolled is MatMul under m: row blocks of C are the same bits as the
// whole (each element is one chain over k). A block has at least 8
// micro-tiles of rows, so that packing op(B) again for each block costs
// little, and otherwise about 64 pieces' worth of multiply-adds.
func MatMulPolled(m *Machine, c, a, b []float64, rows, k, cols int) error {
	step := max(rows, 1)
	if work := k * cols; work > 0 {
		step = roundUp(max(8*gemmMR, 64*PollChunk/work), gemmMR)
	}
	return piecesOf(m, rows, step, func(lo, hi int) error {
		MatMul(c[lo*cols:hi*cols], a[lo*k:hi*k], b, hi-lo, k, cols)
		return nil
	})
}

// MatVecPolled is MatVec under m, by blocks of rows.
func MatVecPolled(m *Machine, y, a, x []float64, rows, k int) error {
	return Pieces(m, rows, max(k, 1), func(lo, hi int) error {
		MatVec(y[lo:hi], a[lo*k:hi*k], x, hi-lo, k)
		return nil
	})
}

// VecMatPolled is VecMat under m, by blocks of columns.
func VecMatPolled(m *Machine, y, x, b []float64, k, n int) error {
	checkLen("VecMat", k*n, len(b))
	checkLen("VecMat", k, len(x))
	checkLen("VecMat", n, len(y))
	return Pieces(m, n, max(k, 1), func(lo, hi int) error {
		vecMatCols(y, x, b, k, n, lo, hi)
		return nil
	})
}
