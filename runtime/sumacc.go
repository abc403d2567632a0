package runtime

// SumPiece is the length of the pieces a SumAcc takes: every piece but
// the last has exactly this many elements. It is a multiple of Sum's 16
// partial sums and divides its grain, so pieces never straddle either.
const SumPiece = 1024

// SumAcc computes Sum of a sequence handed over in consecutive pieces,
// to the same bits as Sum of the whole sequence stored in one slice: the
// interpreter's fused reductions (sum of a comprehension, sum(a*x + y))
// use it to add values they never store. It follows Sum's order: sixteen
// partial sums over each grain, combined as Sum combines them, and the
// grains' sums added in order.
type SumAcc struct {
	a      [16]float64
	big    bool // the sequence is summed in grains, as Sum does past reduceSerialMax
	seen   int  // elements of the current grain added so far
	grains int
	total  float64
}

// NewSumAcc starts a sum of n elements.
func NewSumAcc(n int) SumAcc { return SumAcc{big: n > reduceSerialMax} }

// Add adds a piece of exactly SumPiece elements.
func (s *SumAcc) Add(x []float64) {
	if len(x) != SumPiece {
		panic("runtime: SumAcc.Add: piece of the wrong length")
	}
	a := &s.a
	for i := 0; i < len(x); i += 16 {
		b := x[i : i+16 : i+16]
		a[0] += b[0]
		a[1] += b[1]
		a[2] += b[2]
		a[3] += b[3]
		a[4] += b[4]
		a[5] += b[5]
		a[6] += b[6]
		a[7] += b[7]
		a[8] += b[8]
		a[9] += b[9]
		a[10] += b[10]
		a[11] += b[11]
		a[12] += b[12]
		a[13] += b[13]
		a[14] += b[14]
		a[15] += b[15]
	}
	s.seen += len(x)
	if s.big && s.seen == reduceGrain {
		s.endGrain(s.finish(nil))
	}
}

// Sum adds the last piece (shorter than SumPiece, maybe empty) and
// returns the sum of the whole sequence.
func (s *SumAcc) Sum(last []float64) float64 {
	if len(last) >= SumPiece {
		panic("runtime: SumAcc.Sum: last piece too long")
	}
	if s.big && s.seen == 0 && s.grains > 0 && len(last) == 0 {
		return s.total
	}
	s.endGrain(s.finish(last))
	return s.total
}

func (s *SumAcc) endGrain(g float64) {
	if s.grains == 0 {
		s.total = g
	} else {
		s.total += g
	}
	s.grains++
	s.a, s.seen = [16]float64{}, 0
}

// finish is the end of sumGo on a grain whose first elements are in the
// partial sums: x's groups of 16, then of 4, the combination, the rest.
func (s *SumAcc) finish(x []float64) float64 {
	a := &s.a
	i := 0
	for ; len(x)-i >= 16; i += 16 {
		for j, v := range x[i : i+16 : i+16] {
			a[j] += v
		}
	}
	for ; len(x)-i >= 4; i += 4 {
		b := x[i : i+4 : i+4]
		a[0] += b[0]
		a[1] += b[1]
		a[2] += b[2]
		a[3] += b[3]
	}
	v0 := (a[0] + a[4]) + (a[8] + a[12])
	v1 := (a[1] + a[5]) + (a[9] + a[13])
	v2 := (a[2] + a[6]) + (a[10] + a[14])
	v3 := (a[3] + a[7]) + (a[11] + a[15])
	r := (v0 + v2) + (v1 + v3)
	for _, v := range x[i:] {
		r += v
	}
	return r
}
