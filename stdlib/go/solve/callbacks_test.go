package solve

import (
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/functions"
)

// fgOf is an objective of gonum's and its gradient as one callback,
// counting its calls.
func fgOf(f interface {
	Func([]float64) float64
	Grad(g, x []float64)
}, calls *int) func([]float64) (float64, []float64) {
	return func(x []float64) (float64, []float64) {
		*calls++
		g := make([]float64, len(x))
		f.Grad(g, x)
		return f.Func(x), g
	}
}

// hvOf is ∇²f(x)·v from gonum's Hess, counting its calls.
func hvOf(h interface {
	Hess(*mat.SymDense, []float64)
}, calls *int) func(x, v []float64) []float64 {
	return func(x, v []float64) []float64 {
		*calls++
		n := len(x)
		hm := mat.NewSymDense(n, nil)
		h.Hess(hm, x)
		out := mat.NewVecDense(n, nil)
		out.MulVec(hm, mat.NewVecDense(n, slices.Clone(v)))
		return out.RawVector().Data
	}
}

// rosenbrock is the extended Rosenbrock function with its Hessian, which
// gonum's ExtendedRosenbrock does not have.
type rosenbrock struct{ functions.ExtendedRosenbrock }

func (rosenbrock) Hess(dst *mat.SymDense, x []float64) {
	n := len(x)
	for i := range n {
		for j := i; j < n; j++ {
			dst.SetSym(i, j, 0)
		}
	}
	for i := 0; i+1 < n; i++ {
		b := x[i+1] - x[i]*x[i]
		dst.SetSym(i, i, dst.At(i, i)+2-400*b+800*x[i]*x[i])
		dst.SetSym(i, i+1, -400*x[i])
		dst.SetSym(i+1, i+1, dst.At(i+1, i+1)+200)
	}
}

// TestFista: ½Σ dᵢ(xᵢ − sᵢ)² + lam·‖x‖₁ has the minimizer
// xᵢ = soft(sᵢ, lam/dᵢ), with a known support; FISTA with step 1/max d
// reaches it, calling fg once per step.
func TestFista(t *testing.T) {
	d := []float64{1, 4, 0.5, 2, 3}
	s := []float64{2, -0.1, 0.3, -1.5, 0.05}
	lam := 0.4
	calls := 0
	fg := func(x []float64) (float64, []float64) {
		calls++
		f, g := 0.0, make([]float64, len(x))
		for i := range x {
			f += 0.5 * d[i] * (x[i] - s[i]) * (x[i] - s[i])
			g[i] = d[i] * (x[i] - s[i])
		}
		return f, g
	}
	prox := func(v []float64, step float64) []float64 { return SoftThreshold(v, lam*step) }
	x, err := Fista(fg, prox, make([]float64, 5), 0.25, 400)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, 5)
	for i := range want {
		want[i] = math.Copysign(math.Max(math.Abs(s[i])-lam/d[i], 0), s[i])
	}
	near(t, "Fista", x, want, 1e-10)
	if calls != 400 {
		t.Errorf("%d calls of fg, want 400 (one per step)", calls)
	}
	for i := range x {
		if (x[i] == 0) != (want[i] == 0) {
			t.Errorf("support of %v, want that of %v", x, want)
			break
		}
	}
}

// TestFistaMGH: with the proximal map of the zero function (the
// identity) FISTA is Nesterov's accelerated gradient; on Beale from MGH's
// start, with a step below 1/L near the minimum, it reaches (3, ½).
func TestFistaMGH(t *testing.T) {
	id := func(v []float64, step float64) []float64 { return v }
	x, err := Fista(fgOf(functions.Beale{}, new(int)), id, []float64{1, 1}, 0.02, 5000)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "Fista(Beale)", x, []float64{3, 0.5}, 1e-8)
}

// TestBcdMGH: block coordinate descent with Go callbacks on MGH problems
// with known minima. One block of size n is Newton's method with full
// steps; blocks of 2 on Wood follow its pairs (x0, x1), (x2, x3). hv is
// called block times per iteration, fg once.
func TestBcdMGH(t *testing.T) {
	type fn interface {
		Func([]float64) float64
		Grad(g, x []float64)
		Hess(*mat.SymDense, []float64)
	}
	cases := []struct {
		name        string
		f           fn
		x0, xstar   []float64
		block, iter int64
		tol         float64
	}{
		{"Rosenbrock/block2", rosenbrock{}, []float64{-1.2, 1}, []float64{1, 1}, 2, 10, 1e-12},
		{"Wood/block4", functions.Wood{}, []float64{-3, -1, -3, -1}, []float64{1, 1, 1, 1}, 4, 100, 1e-12},
		{"Wood/block2", functions.Wood{}, []float64{-3, -1, -3, -1}, []float64{1, 1, 1, 1}, 2, 3000, 1e-12},
		{"BrownAndDennis/block4", functions.BrownAndDennis{}, []float64{25, 5, -5, -1},
			[]float64{-11.594439904762162, 13.203630051207202, -0.4034394881768612, 0.2367787744557347}, 4, 40, 1e-6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fc, hc := 0, 0
			x0 := slices.Clone(c.x0)
			x, err := Bcd(fgOf(c.f, &fc), hvOf(c.f, &hc), x0, c.block, c.iter)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("x = %v, F = %.3g, %d calls of fg, %d of hv", x, c.f.Func(x), fc, hc)
			for i := range x {
				if !(math.Abs(x[i]-c.xstar[i]) <= c.tol*(1+math.Abs(c.xstar[i]))) {
					t.Errorf("x = %v, want %v", x, c.xstar)
					break
				}
			}
			if fc != int(c.iter) || hc != int(c.iter*c.block) {
				t.Errorf("%d calls of fg and %d of hv, want %d and %d", fc, hc, c.iter, c.iter*c.block)
			}
			if !slices.Equal(x0, c.x0) {
				t.Errorf("x0 changed to %v", x0)
			}
		})
	}
}

// TestAuglag: an equality-constrained QP, whose solution and multipliers
// solve the KKT system [Q Aᵀ; A 0]·[x; λ] = [−q; b], and Rosenbrock on the
// line x0 = ½, whose minimizer is (½, ¼) with multiplier 1 (∂f/∂x0 = −1
// there).
func TestAuglag(t *testing.T) {
	qm := mat.NewSymDense(4, []float64{4, 1, 0, 0, 1, 3, 0.5, 0, 0, 0.5, 2, 0.2, 0, 0, 0.2, 1})
	q := []float64{1, -2, 0.5, 1}
	am := mat.NewDense(2, 4, []float64{1, 1, 1, 1, 1, -1, 0, 2})
	b := []float64{1, 0.5}
	kkt := mat.NewDense(6, 6, nil)
	rhs := mat.NewVecDense(6, nil)
	for i := range 4 {
		for j := range 4 {
			kkt.Set(i, j, qm.At(i, j))
		}
		rhs.SetVec(i, -q[i])
	}
	for k := range 2 {
		for j := range 4 {
			kkt.Set(4+k, j, am.At(k, j))
			kkt.Set(j, 4+k, am.At(k, j))
		}
		rhs.SetVec(4+k, b[k])
	}
	var sol mat.VecDense
	if err := sol.SolveVec(kkt, rhs); err != nil {
		t.Fatal(err)
	}
	qp := func(x []float64) (float64, []float64) {
		g := mat.NewVecDense(4, nil)
		g.MulVec(qm, mat.NewVecDense(4, slices.Clone(x)))
		f := 0.5*floats.Dot(x, g.RawVector().Data) + floats.Dot(q, x)
		floats.Add(g.RawVector().Data, q)
		return f, g.RawVector().Data
	}
	c := func(x []float64) []float64 {
		out := mat.NewVecDense(2, nil)
		out.MulVec(am, mat.NewVecDense(4, slices.Clone(x)))
		floats.Sub(out.RawVector().Data, b)
		return out.RawVector().Data
	}
	jac := func([]float64) []float64 { return slices.Clone(am.RawMatrix().Data) }
	x, lam, err := Auglag(qp, c, jac, make([]float64, 4), 30, 200)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "QP x", x, sol.RawVector().Data[:4], 1e-8)
	near(t, "QP λ", lam, sol.RawVector().Data[4:], 1e-7)

	x, lam, err = Auglag(fgOf(functions.ExtendedRosenbrock{}, new(int)),
		func(x []float64) []float64 { return []float64{x[0] - 0.5} },
		func([]float64) []float64 { return []float64{1, 0} },
		[]float64{-1.2, 1}, 30, 200)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "Rosenbrock x", x, []float64{0.5, 0.25}, 1e-8)
	near(t, "Rosenbrock λ", lam, []float64{1}, 1e-7)
}

// TestCallbackErrors: bad counts, nil callbacks and results of the wrong
// size are Go errors naming them, never panics.
func TestCallbackErrors(t *testing.T) {
	fg := fgOf(functions.ExtendedRosenbrock{}, new(int))
	hv := hvOf(rosenbrock{}, new(int))
	id := func(v []float64, step float64) []float64 { return v }
	c := func(x []float64) []float64 { return []float64{x[0] - 0.5} }
	jac := func([]float64) []float64 { return []float64{1, 0} }
	x0 := []float64{-1.2, 1}
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"Fista step", func() error { _, err := Fista(fg, id, x0, -1, 10); return err }, "solve.fista: argument 4 (step) must be non-negative"},
		{"Fista steps", func() error { _, err := Fista(fg, id, x0, 0.1, -1); return err }, "solve.fista: argument 5 (steps) must be non-negative"},
		{"Fista nil prox", func() error { _, err := Fista(fg, nil, x0, 0.1, 1); return err }, "fista: argument prox is a nil function"},
		{"Fista short prox", func() error {
			_, err := Fista(fg, func(v []float64, s float64) []float64 { return v[:1] }, x0, 0.1, 1)
			return err
		}, "prox"},
		{"Bcd block", func() error { _, err := Bcd(fg, hv, x0, 0, 10); return err }, "solve.Bcd: argument 4 (block) must be at least 1"},
		{"Bcd iters", func() error { _, err := Bcd(fg, hv, x0, 1, -2); return err }, "solve.Bcd: argument 5 (iters) must be non-negative"},
		{"Bcd nil hv", func() error { _, err := Bcd(fg, nil, x0, 1, 1); return err }, "bcd: argument hv is a nil function"},
		{"Bcd short hv", func() error {
			_, err := Bcd(fg, func(x, v []float64) []float64 { return v[:1] }, x0, 1, 1)
			return err
		}, "hv"},
		{"Auglag outer", func() error { _, _, err := Auglag(fg, c, jac, x0, -1, 10); return err }, "solve.Auglag: argument 5 (outer) must be non-negative"},
		{"Auglag inner", func() error { _, _, err := Auglag(fg, c, jac, x0, 1, -1); return err }, "solve.Auglag: argument 6 (inner) must be non-negative"},
		{"Auglag nil c", func() error { _, _, err := Auglag(fg, nil, jac, x0, 1, 1); return err }, "auglag: argument c is a nil function"},
		{"Auglag nil jac", func() error { _, _, err := Auglag(fg, c, nil, x0, 1, 1); return err }, "auglag: argument jac is a nil function"},
		{"Auglag jac not p·n", func() error {
			_, _, err := Auglag(fg, c, func([]float64) []float64 { return []float64{1, 0, 0} }, x0, 1, 1)
			return err
		}, "solve.Auglag: jac(x) must return p·n values"},
		{"Auglag jac of 2 rows", func() error {
			_, _, err := Auglag(fg, c, func([]float64) []float64 { return []float64{1, 0, 0, 1} }, x0, 1, 1)
			return err
		}, "inner sizes differ"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
			t.Log(err)
		})
	}
}

// TestSimplex: ½‖x − p‖² over the probability simplex, with p in it, has
// its minimum at p; with p outside, at the Euclidean projection of p
// (here (0.8, 0.2, 0): p − τ clipped at 0, τ = 0.6). Frank–Wolfe
// converges as O(1/t), mirror descent linearly on this problem; each
// calls fg once per iteration.
func TestSimplex(t *testing.T) {
	for _, c := range []struct {
		p, want []float64
	}{
		{[]float64{0.2, 0.5, 0.3}, []float64{0.2, 0.5, 0.3}},
		{[]float64{1.4, 0.8, -0.5}, []float64{0.8, 0.2, 0}},
	} {
		calls := 0
		fg := func(x []float64) (float64, []float64) {
			calls++
			f, g := 0.0, make([]float64, len(x))
			for i := range x {
				f += 0.5 * (x[i] - c.p[i]) * (x[i] - c.p[i])
				g[i] = x[i] - c.p[i]
			}
			return f, g
		}
		x0 := []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}
		x, err := FrankWolfeSimplex(fg, x0, 2000)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "FrankWolfeSimplex", x, c.want, 2e-3)
		if calls != 2000 {
			t.Errorf("FrankWolfeSimplex: %d calls of fg, want 2000", calls)
		}
		calls = 0
		x, err = MirrorDescentSimplex(fg, x0, 1, 2000)
		if err != nil {
			t.Fatal(err)
		}
		// The exact minimizer of the second case is on the boundary,
		// which mirror descent approaches but never reaches.
		near(t, "MirrorDescentSimplex", x, c.want, 1e-3)
		if calls != 2000 || !(math.Abs(floats.Sum(x)-1) < 1e-12) {
			t.Errorf("MirrorDescentSimplex: %d calls of fg, Σx = %v", calls, floats.Sum(x))
		}
	}
	if _, err := FrankWolfeSimplex(nil, []float64{1}, 1); err == nil || !strings.Contains(err.Error(), "argument fg is a nil function") {
		t.Errorf("nil fg: %v", err)
	}
	if _, err := MirrorDescentSimplex(func(x []float64) (float64, []float64) { return 0, x }, []float64{1}, -1, 1); err == nil || !strings.Contains(err.Error(), "argument 3 (lr) must be non-negative") {
		t.Errorf("negative lr: %v", err)
	}
}
