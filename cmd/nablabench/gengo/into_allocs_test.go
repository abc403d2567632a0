package gengo

import (
	"math/rand/v2"
	"testing"
)

// TestBaObjectiveIntoInPlace checks that BaObjectiveInto, whose results
// are written straight into its buffers and whose matrices are read from
// the caller's rows (codegen's inplace.go), gives BaObjective's values,
// allocates nothing in steady state, and, with a buffer that is also an
// argument, falls back to the copies and still gives them.
func TestBaObjectiveIntoInPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cams, pts, w, feats, camIdx, ptIdx := BAInstance(rng, 5, 20, 300)
	want0, want1, err := BaObjective(cams, pts, w, feats, camIdx, ptIdx)
	if err != nil {
		t.Fatal(err)
	}
	d0 := [][]float64{make([]float64, 300), make([]float64, 300)}
	d1 := make([]float64, 300)
	call := func() {
		if err := BaObjectiveInto(d0, d1, cams, pts, w, feats, camIdx, ptIdx); err != nil {
			t.Fatal(err)
		}
	}
	call()
	for i := range d1 {
		if d0[0][i] != want0[0][i] || d0[1][i] != want0[1][i] || d1[i] != want1[i] {
			t.Fatalf("observation %d: %v %v %v, want %v %v %v", i, d0[0][i], d0[1][i], d1[i], want0[0][i], want0[1][i], want1[i])
		}
	}
	if n := testing.AllocsPerRun(20, call); n != 0 {
		t.Errorf("BaObjectiveInto allocates %v times per call", n)
	}
	// w as the weight residuals' buffer: 1 - w² must be computed from w
	// before w is overwritten.
	wc := append([]float64(nil), w...)
	if err := BaObjectiveInto(d0, wc, cams, pts, wc, feats, camIdx, ptIdx); err != nil {
		t.Fatal(err)
	}
	for i := range wc {
		if wc[i] != want1[i] || d0[0][i] != want0[0][i] {
			t.Fatalf("observation %d with w as a buffer: %v %v, want %v %v", i, wc[i], d0[0][i], want1[i], want0[0][i])
		}
	}
}
