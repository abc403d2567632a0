package gengo

import (
	"math/rand/v2"
	"testing"
)

// Benchmarks of the generated objectives and derivatives at one size
// each, for profiling (go test -bench . -cpuprofile); nablabench -go is
// the measurement.

func randRows(rng *rand.Rand, rows, cols int) [][]float64 {
	out := make([][]float64, rows)
	for i := range out {
		out[i] = make([]float64, cols)
		for j := range out[i] {
			out[i][j] = rng.Float64()
		}
	}
	return out
}

func gmmInstance(d, k, n int) (alphas []float64, means, icf, x [][]float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	return randRows(rng, 1, k)[0], randRows(rng, k, d), randRows(rng, k, d+d*(d-1)/2), randRows(rng, n, d)
}

func BenchmarkGmm(b *testing.B) {
	alphas, means, icf, x := gmmInstance(2, 10, 1000)
	for b.Loop() {
		if _, err := Gmm(alphas, means, icf, x, 1, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGmmGrad(b *testing.B) {
	alphas, means, icf, x := gmmInstance(2, 10, 1000)
	da, dm, di := make([]float64, 10), randRows(rand.New(rand.NewPCG(0, 0)), 10, 2), randRows(rand.New(rand.NewPCG(0, 0)), 10, 3)
	for b.Loop() {
		if err := GmmGradInto(da, dm, di, alphas, means, icf, x, 1, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func lstmInstance(l, c, bits int) (mp, ep, state, seq [][]float64) {
	rng := rand.New(rand.NewPCG(3, 4))
	return randRows(rng, 2*l, 4*bits), randRows(rng, 3, bits), randRows(rng, 2*l, bits), randRows(rng, c, bits)
}

func BenchmarkLstm(b *testing.B) {
	mp, ep, state, seq := lstmInstance(2, 1024, 14)
	for b.Loop() {
		if _, err := LstmObjective(mp, ep, state, seq); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLstmGrad(b *testing.B) {
	mp, ep, state, seq := lstmInstance(2, 1024, 14)
	dmp, dep := randRows(rand.New(rand.NewPCG(0, 0)), 4, 56), randRows(rand.New(rand.NewPCG(0, 0)), 3, 14)
	for b.Loop() {
		if err := LstmJacobianInto(dmp, dep, mp, ep, state, seq); err != nil {
			b.Fatal(err)
		}
	}
}

func baInstance(n, m, p int) (cams, pts [][]float64, w []float64, feats [][]float64, camIdx, ptIdx []int64) {
	return BAInstance(rand.New(rand.NewPCG(5, 6)), n, m, p)
}

func BenchmarkBa(b *testing.B) {
	cams, pts, w, feats, camIdx, ptIdx := baInstance(49, 7776, 31843)
	reproj, werr := randRows(rand.New(rand.NewPCG(0, 0)), 2, 31843), make([]float64, 31843)
	for b.Loop() {
		if err := BaObjectiveInto(reproj, werr, cams, pts, w, feats, camIdx, ptIdx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaHand(b *testing.B) {
	cams, pts, w, feats, camIdx, ptIdx := baInstance(49, 7776, 31843)
	fc, fp, ff := flatRows(cams), flatRows(pts), flatRows(feats)
	reproj, werr := make([]float64, 2*len(w)), make([]float64, len(w))
	for b.Loop() {
		BAHand(fc, fp, w, ff, camIdx, ptIdx, reproj, werr)
	}
}

func flatRows(x [][]float64) []float64 {
	var out []float64
	for _, r := range x {
		out = append(out, r...)
	}
	return out
}

// The ADBench d = 10, K = 25, n = 10000 shape, where the gradient ÷
// objective ratio is furthest from its goal.
func BenchmarkGmmD10(b *testing.B) {
	alphas, means, icf, x := gmmInstance(10, 25, 10000)
	for b.Loop() {
		if _, err := Gmm(alphas, means, icf, x, 1, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaJacobian(b *testing.B) {
	cams, pts, w, feats, camIdx, ptIdx := baInstance(49, 7776, 31843)
	jac := make([][][]float64, 2)
	for j := range jac {
		jac[j] = randRows(rand.New(rand.NewPCG(0, 0)), 15, 31843)
	}
	werr := make([]float64, 31843)
	for b.Loop() {
		if err := BaJacobianInto(jac, werr, cams, pts, w, feats, camIdx, ptIdx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGmmGradD10(b *testing.B) {
	alphas, means, icf, x := gmmInstance(10, 25, 10000)
	rng := rand.New(rand.NewPCG(0, 0))
	da, dm, di := make([]float64, 25), randRows(rng, 25, 10), randRows(rng, 25, 55)
	for b.Loop() {
		if err := GmmGradInto(da, dm, di, alphas, means, icf, x, 1, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaJacobianHand(b *testing.B) {
	cams, pts, w, feats, camIdx, ptIdx := baInstance(49, 7776, 31843)
	fc, fp, ff := flatRows(cams), flatRows(pts), flatRows(feats)
	jac, dw := make([]float64, 2*15*len(w)), make([]float64, len(w))
	for b.Loop() {
		BAJacobianHand(fc, fp, w, ff, camIdx, ptIdx, jac, dw)
	}
}
