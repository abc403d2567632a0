package runtime_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nabla-lang/nabla/runtime"
)

// TestPolledSameBits: the polled reductions give exactly the plain
// kernels' results, on lengths around the piece size and on data with
// the cases that decide ties and NaN (±0, infinities, NaN late or early).
func TestPolledSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := runtime.NewMachine(context.Background(), runtime.Limits{})
	n := 3*runtime.PollChunk + 12345
	data := map[string][]float64{}
	base := make([]float64, n)
	for i := range base {
		base[i] = rng.NormFloat64() * 1e3
	}
	data["normal"] = base
	ties := make([]float64, n)
	for i := range ties {
		ties[i] = float64(rng.IntN(3)) - 1
		if i%7 == 0 {
			ties[i] = math.Copysign(0, -1)
		}
	}
	ties[runtime.PollChunk+5] = 5
	ties[2*runtime.PollChunk+9] = 5 // a tie in a later piece: the first stays
	data["ties"] = ties
	lateNaN := append([]float64(nil), base...)
	lateNaN[2*runtime.PollChunk+1] = math.NaN()
	lateNaN[3*runtime.PollChunk] = math.Inf(1)
	data["late NaN"] = lateNaN
	tiny := make([]float64, n)
	for i := range tiny {
		tiny[i] = rng.Float64() * 1e-300
	}
	data["tiny"] = tiny
	huge := append([]float64(nil), base...)
	huge[runtime.PollChunk+3] = 1e300
	data["huge"] = huge

	type red struct {
		plain  func([]float64) float64
		polled func(*runtime.Machine, []float64) (float64, error)
	}
	idx := func(f func([]float64) int) func([]float64) float64 {
		return func(x []float64) float64 { return float64(f(x)) }
	}
	idxP := func(f func(*runtime.Machine, []float64) (int, error)) func(*runtime.Machine, []float64) (float64, error) {
		return func(m *runtime.Machine, x []float64) (float64, error) { i, err := f(m, x); return float64(i), err }
	}
	reds := map[string]red{
		"sum":       {runtime.Sum, runtime.SumPolled},
		"mean":      {runtime.Mean, runtime.MeanPolled},
		"prod":      {runtime.Prod, runtime.ProdPolled},
		"max":       {runtime.Max, runtime.MaxPolled},
		"min":       {runtime.Min, runtime.MinPolled},
		"argmax":    {idx(runtime.ArgMax), idxP(runtime.ArgMaxPolled)},
		"argmin":    {idx(runtime.ArgMin), idxP(runtime.ArgMinPolled)},
		"norm":      {runtime.Norm2, runtime.Norm2Polled},
		"logsumexp": {runtime.LogSumExp, runtime.LogSumExpPolled},
		"dot": {func(x []float64) float64 { return runtime.Dot(x, base[:len(x)]) },
			func(m *runtime.Machine, x []float64) (float64, error) { return runtime.DotPolled(m, x, base[:len(x)]) }},
		"softmax[last]": {func(x []float64) float64 {
			d := make([]float64, len(x))
			runtime.Softmax(d, x)
			return d[len(d)-1]
		}, func(m *runtime.Machine, x []float64) (float64, error) {
			d := make([]float64, len(x))
			err := runtime.SoftmaxPolled(m, d, x)
			return d[len(d)-1], err
		}},
	}
	for _, length := range []int{1, runtime.PollChunk, runtime.PollChunk + 1, n} {
		for dname, x := range data {
			for rname, r := range reds {
				want := r.plain(x[:length])
				got, err := r.polled(m, x[:length])
				if err != nil || !sameBits(got, want) {
					t.Errorf("%s of %d %s values: polled %v (%v), plain %v", rname, length, dname, got, err, want)
				}
			}
		}
	}

	ints := make([]int64, n)
	for i := range ints {
		ints[i] = rng.Int64() >> rng.IntN(64)
	}
	ints[2*runtime.PollChunk] = math.MaxInt64
	for _, length := range []int{0, 5, n} {
		x := ints[:length]
		s, _ := runtime.SumI64Polled(m, x)
		p, _ := runtime.ProdI64Polled(m, x)
		am, _ := runtime.ArgMaxI64Polled(m, x)
		an, _ := runtime.ArgMinI64Polled(m, x)
		if s != runtime.SumI64(x) || p != runtime.ProdI64(x) || am != runtime.ArgMaxI64(x) || an != runtime.ArgMinI64(x) {
			t.Errorf("i64 reductions of %d values differ", length)
		}
		mx, err1 := runtime.MaxI64Polled(m, x)
		wmx, err2 := runtime.MaxI64(x)
		mn, err3 := runtime.MinI64Polled(m, x)
		wmn, err4 := runtime.MinI64(x)
		if mx != wmx || mn != wmn || (err1 == nil) != (err2 == nil) || (err3 == nil) != (err4 == nil) {
			t.Errorf("i64 max/min of %d values: %d %d, want %d %d", length, mx, mn, wmx, wmn)
		}
	}
}

// TestPolledStops: a done context stops a long polled loop between
// pieces, and a short one runs in one piece without looking.
func TestPolledStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := runtime.NewMachine(ctx, runtime.Limits{})
	x := make([]float64, 2*runtime.PollChunk)
	if _, err := runtime.SumPolled(m, x); !errors.Is(err, context.Canceled) {
		t.Errorf("SumPolled under a cancelled context: %v", err)
	}
	calls := 0
	err := runtime.Pieces(m, 10*runtime.PollChunk, 1, func(lo, hi int) error { calls++; return nil })
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("Pieces under a cancelled context: %v after %d pieces; want Canceled after 1", err, calls)
	}
	calls = 0
	if err := runtime.Pieces(m, 100, 1000, func(lo, hi int) error { calls++; return nil }); err != nil || calls != 1 {
		t.Errorf("a short Pieces: %v, %d pieces", err, calls)
	}
	var seen []int
	_ = runtime.Pieces(nil, 5, runtime.PollChunk/2, func(lo, hi int) error { seen = append(seen, lo, hi); return nil })
	if len(seen) != 6 || seen[0] != 0 || seen[5] != 5 {
		t.Errorf("Pieces of cost PollChunk/2 over 5: %v; want pieces of 2", seen)
	}
}

// TestPolledProductsSameBits: the products computed in pieces give the
// plain products' bits, on shapes cut into several pieces.
func TestPolledProductsSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	fill := func(n int) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		return x
	}
	m := runtime.NewMachine(context.Background(), runtime.Limits{})
	same := func(name string, got, want []float64) {
		t.Helper()
		for i := range want {
			if !sameBits(got[i], want[i]) {
				t.Fatalf("%s: element %d is %v, want %v", name, i, got[i], want[i])
			}
		}
	}
	for _, d := range [][3]int{{100, 1200, 1200}, {7, 3, 5}, {0, 4, 4}, {5, 0, 3}} {
		rows, k, cols := d[0], d[1], d[2]
		a, b := fill(rows*k), fill(k*cols)
		want, got := make([]float64, rows*cols), make([]float64, rows*cols)
		runtime.MatMul(want, a, b, rows, k, cols)
		if err := runtime.MatMulPolled(m, got, a, b, rows, k, cols); err != nil {
			t.Fatal(err)
		}
		same("MatMulPolled", got, want)
	}
	for _, d := range [][2]int{{2500, 1000}, {3, 4}, {1, 0}} {
		rows, k := d[0], d[1]
		a, x := fill(rows*k), fill(k)
		want, got := make([]float64, rows), make([]float64, rows)
		runtime.MatVec(want, a, x, rows, k)
		if err := runtime.MatVecPolled(m, got, a, x, rows, k); err != nil {
			t.Fatal(err)
		}
		same("MatVecPolled", got, want)
		// a read as a k×rows matrix for the vector-matrix product.
		y, z := fill(k), make([]float64, rows)
		wantT := make([]float64, rows)
		runtime.VecMat(wantT, y, a, k, rows)
		if err := runtime.VecMatPolled(m, z, y, a, k, rows); err != nil {
			t.Fatal(err)
		}
		same("VecMatPolled", z, wantT)
	}
}

// TestPolledMovesSameBits: transpose, reverse, a column of a series, zip
// and the series kernels, done in several pieces, give what their
// definitions give, element by element.
func TestPolledMovesSameBits(t *testing.T) {
	m := runtime.NewMachine(context.Background(), runtime.Limits{})
	n := 2*runtime.PollChunk + 3
	for _, d := range [][3]int{{n / 1000, 1000, 1}, {3, n, 1}, {n / 4000, 1000, 4}, {2, 3, 2}} {
		rows, cols, block := d[0], d[1], d[2]
		src := &runtime.Array{Shape: []int{rows, cols, block}, Kind: runtime.ElemI64, I: seq(rows * cols * block)}
		dst := &runtime.Array{Shape: []int{cols, rows, block}, Kind: runtime.ElemI64, I: make([]int64, rows*cols*block)}
		if err := runtime.TransposeArrayPolled(m, dst, src); err != nil {
			t.Fatal(err)
		}
		if want := naiveTranspose(src.I, rows, cols, block); !slices.Equal(dst.I, want) {
			t.Errorf("TransposeArrayPolled %v differs from the definition", d)
		}
	}
	for _, row := range []int{1, 3} {
		k := n / row
		src := &runtime.Array{Shape: []int{k, row}, Kind: runtime.ElemI64, I: seq(k * row)}
		dst := &runtime.Array{Shape: []int{k, row}, Kind: runtime.ElemI64, I: make([]int64, k*row)}
		if err := runtime.ReverseArrayPolled(m, dst, src); err != nil {
			t.Fatal(err)
		}
		for i := range k {
			if !slices.Equal(dst.I[i*row:(i+1)*row], src.I[(k-1-i)*row:(k-i)*row]) {
				t.Fatalf("ReverseArrayPolled, rows of %d: row %d is not row %d", row, i, k-1-i)
			}
		}
	}
	// A series of k coefficients of [2][n/2] matrices: element 1 of each.
	const k = 3
	half := n / 2
	src := &runtime.Array{Shape: []int{k, 2, half}, Kind: runtime.ElemI64, I: seq(k * 2 * half)}
	col := &runtime.Array{Shape: []int{k, half}, Kind: runtime.ElemI64, I: make([]int64, k*half)}
	if err := runtime.ColumnArrayPolled(m, col, src, 1); err != nil {
		t.Fatal(err)
	}
	for j := range k {
		if !slices.Equal(col.I[j*half:(j+1)*half], src.I[(2*j+1)*half:(2*j+2)*half]) {
			t.Fatalf("ColumnArrayPolled: coefficient %d is not row 1 of the source's", j)
		}
	}
	a := runtime.FromI64(seq(n))
	zipped := make([]runtime.Value, n)
	if err := runtime.ZipPolled(m, zipped, []*runtime.Array{a, a}); err != nil {
		t.Fatal(err)
	}
	for i, v := range zipped {
		if tu := v.Tuple(); tu[0].I != int64(i) || tu[1].I != int64(i) {
			t.Fatalf("ZipPolled: element %d is %v", i, tu)
		}
	}
	// The series kernels on every element, against the kernel on that
	// element's coefficients alone.
	rng := rand.New(rand.NewPCG(7, 8))
	ne := runtime.PollChunk/(k*k)*2 + 5
	x, y := make([]float64, k*ne), make([]float64, k*ne)
	for i := range x {
		x[i], y[i] = rng.NormFloat64(), rng.NormFloat64()
	}
	var w runtime.SeriesWork
	got1, got2 := make([]float64, k*ne), make([]float64, k*ne)
	if err := runtime.SeriesMap1Polled(m, got1, x, k, runtime.SeriesExp, &w); err != nil {
		t.Fatal(err)
	}
	xa := runtime.SeriesArg{Series: true, F: x, N: ne}
	ya := runtime.SeriesArg{Series: true, F: y, N: ne}
	if err := runtime.SeriesMap2Polled(m, got2, k, xa, ya, runtime.SeriesMul, &w); err != nil {
		t.Fatal(err)
	}
	for e := 0; e < ne; e += 997 {
		xe, ye := make([]float64, k), make([]float64, k)
		for j := range k {
			xe[j], ye[j] = x[j*ne+e], y[j*ne+e]
		}
		z1, z2 := make([]float64, k), make([]float64, k)
		runtime.SeriesExp(z1, xe, &w)
		runtime.SeriesMul(z2, xe, ye, true, true, &w)
		for j := range k {
			if !sameBits(got1[j*ne+e], z1[j]) || !sameBits(got2[j*ne+e], z2[j]) {
				t.Fatalf("element %d, coefficient %d: SeriesMap1Polled %v, SeriesMap2Polled %v; want %v, %v", e, j, got1[j*ne+e], got2[j*ne+e], z1[j], z2[j])
			}
		}
	}
}
