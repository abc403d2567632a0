package stdlib_test

// The continuous adjoint of std/ode's dopri5 (testdata/ode_adjoint.nab):
// reverse-mode gradients against closed forms, forward and Taylor mode,
// and differentiation through the steps of the same method; and the
// memory of the reverse pass, which must not grow with the steps.

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/nabla-lang/nabla"
)

var (
	adjOnce sync.Once
	adjProg *nabla.Program
	adjErr  error
)

// adjCall calls a def of testdata/ode_adjoint.nab with opts.
func adjCall(t *testing.T, opts []nabla.Option, name string, args ...any) (any, error) {
	t.Helper()
	adjOnce.Do(func() {
		src, err := os.ReadFile(filepath.Join("testdata", "ode_adjoint.nab"))
		if err != nil {
			adjErr = err
			return
		}
		adjProg, adjErr = nabla.Compile("ode_adjoint.nab", src)
	})
	if adjErr != nil {
		t.Fatal(adjErr)
	}
	p := adjProg
	if len(opts) > 0 {
		src, _ := os.ReadFile(filepath.Join("testdata", "ode_adjoint.nab"))
		var err error
		if p, err = nabla.Compile("ode_adjoint.nab", src, opts...); err != nil {
			t.Fatal(err)
		}
	}
	f, err := p.Func(name)
	if err != nil {
		t.Fatal(err)
	}
	return f.Call(context.Background(), args...)
}

func adjVec(t *testing.T, name string, args ...any) []float64 {
	t.Helper()
	v, err := adjCall(t, nil, name, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	switch v := v.(type) {
	case float64:
		return []float64{v}
	case [][]float64:
		var out []float64
		for _, r := range v {
			out = append(out, r...)
		}
		return out
	case []any: // a tuple of a matrix and a vector
		var out []float64
		for _, x := range v {
			switch x := x.(type) {
			case [][]float64:
				for _, r := range x {
					out = append(out, r...)
				}
			case []float64:
				out = append(out, x...)
			}
		}
		return out
	}
	return v.([]float64)
}

// The tolerance of a comparison at rtol: dopri5's global error is a
// small multiple of its local tolerance on these problems (smooth, not
// stiff, spans of a few units; the largest seen is 3·rtol), and each
// gradient is a separate solve, so gradients agree with the exact ones,
// and with each other, to adjTol·rtol relative to max(1, |value|).
const adjTol = 20

func TestODEAdjointClosedForms(t *testing.T) {
	for _, rtol := range []float64{1e-6, 1e-10} {
		tol := adjTol * rtol
		// Decay: y(T) = y0·e^(−kT), ∂/∂k = −T·y(T), ∂/∂y0 = e^(−kT), ∂/∂T = −k·y(T).
		k, y0, T := 0.8, 1.5, 2.0
		yT := y0 * math.Exp(-k*T)
		close(t, "decay", adjVec(t, "decay", []float64{k, y0}, T, rtol), []float64{yT}, tol)
		close(t, "∇decay", adjVec(t, "decay_rev", []float64{k, y0}, T, rtol), []float64{-T * yT, math.Exp(-k * T)}, tol)
		close(t, "∂decay/∂T", adjVec(t, "decay_rev_T", []float64{k, y0}, T, rtol), []float64{-k * yT}, tol)

		// The spiral y' = [[a, b], [−b, a]]·y, loss c·y(T).
		a, b, u, v := -0.3, 2.0, 1.0, 0.5
		c, s, ea := math.Cos(b*T), math.Sin(b*T), math.Exp(a*T)
		yv := []float64{ea * (c*u + s*v), ea * (-s*u + c*v)}
		loss := yv[0] + 2*yv[1]
		dyb := []float64{T * ea * (-s*u + c*v), T * ea * (-c*u - s*v)}
		want := []float64{T * loss, dyb[0] + 2*dyb[1], ea * (c - 2*s), ea * (s + 2*c)}
		p := []float64{a, b, u, v}
		close(t, "∇spiral", adjVec(t, "spiral_rev", p, T, rtol), want, tol)
		close(t, "∇spiral forward", adjVec(t, "spiral_fwd", p, T, rtol), want, tol)

		// The same with the matrix closed over: ∂L/∂A = ∫₀ᵀ λ(t)·y(t)ᵀ dt,
		// λ(t) = e^(Aᵀ(T−t))·c; for A = [[a, b], [−b, a]] the integrand
		// is in closed form, integrated here by Gauss–Legendre.
		A := [][]float64{{a, b}, {-b, a}}
		close(t, "∇linear", adjVec(t, "linear_rev", A, T, rtol), linearGrad(a, b, []float64{0.5, -1}, []float64{1, 2}, T), tol)

		// Logistic growth y' = r·y·(1 − y/K): with E = e^(rT) and
		// D = K + y0·(E − 1), y(T) = K·y0·E/D.
		r, K, z0 := 1.3, 4.0, 0.5
		E := math.Exp(r * T)
		D := K + z0*(E-1)
		close(t, "logistic", adjVec(t, "logistic", []float64{r, K, z0}, T, rtol), []float64{K * z0 * E / D}, tol)
		close(t, "∇logistic", adjVec(t, "logistic_rev", []float64{r, K, z0}, T, rtol),
			[]float64{K * z0 * T * E * (K - z0) / (D * D), z0 * z0 * E * (E - 1) / (D * D), K * K * E / (D * D)}, tol)
	}
}

// linearGrad is ∂(c·y(T))/∂A for y' = A·y, y(0) = y0, A = [[a, b], [−b, a]]:
// ∫₀ᵀ e^(Aᵀ(T−t))·c·(e^(At)·y0)ᵀ dt by three-point Gauss–Legendre on 400
// panels (error below 1e-15 for this smooth integrand).
func linearGrad(a, b float64, y0, c []float64, T float64) []float64 {
	flow := func(t float64, x []float64, transpose bool) []float64 {
		ct, st, e := math.Cos(b*t), math.Sin(b*t), math.Exp(a*t)
		if transpose {
			st = -st
		}
		return []float64{e * (ct*x[0] + st*x[1]), e * (-st*x[0] + ct*x[1])}
	}
	nodes := []float64{-math.Sqrt(3.0 / 5.0), 0, math.Sqrt(3.0 / 5.0)}
	weights := []float64{5.0 / 9.0, 8.0 / 9.0, 5.0 / 9.0}
	g := make([]float64, 4)
	const panels = 400
	h := T / panels
	for p := range panels {
		for q, x := range nodes {
			t := h*float64(p) + h/2*(1+x)
			lam, y := flow(T-t, c, true), flow(t, y0, false)
			for i := range 2 {
				for j := range 2 {
					g[2*i+j] += h / 2 * weights[q] * lam[i] * y[j]
				}
			}
		}
	}
	return g
}

func TestODEAdjointAgainstSteps(t *testing.T) {
	// The continuous adjoint against reverse mode through the steps (the
	// discrete adjoint): both approximate the exact gradient to within
	// the solver's tolerance.
	for _, rtol := range []float64{1e-6, 1e-10} {
		tol := adjTol * rtol
		T := 2.0
		close(t, "decay: adjoint vs steps", adjVec(t, "decay_rev", []float64{0.8, 1.5}, T, rtol), adjVec(t, "decay_steps_rev", []float64{0.8, 1.5}, T, rtol), tol)
		p := []float64{-0.3, 2, 1, 0.5}
		close(t, "spiral: adjoint vs steps", adjVec(t, "spiral_rev", p, T, rtol), adjVec(t, "spiral_steps_rev", p, T, rtol), tol)
		q := []float64{1.3, 4, 0.5}
		close(t, "logistic: adjoint vs steps", adjVec(t, "logistic_rev", q, T, rtol), adjVec(t, "logistic_steps_rev", q, T, rtol), tol)
		W := [][]float64{{0.5, -1, 0.2}, {0.3, 0.1, -0.7}, {-0.4, 0.9, 0.2}}
		node := []any{W, []float64{0.1, -0.2, 0.3}}
		y0 := []float64{1, -0.5, 0.25}
		close(t, "neural ODE: adjoint vs steps", adjVec(t, "node_rev", node, y0, rtol), adjVec(t, "node_steps_rev", node, y0, rtol), tol)
	}
	// Second order: Taylor mode's second coefficient is ½·dpᵀ·H·dp, H the
	// Hessian by reverse over reverse.
	p, dp := []float64{1.3, 4, 0.5}, []float64{0.2, -0.5, 1}
	H, err := adjCall(t, nil, "logistic_hessian", p, 2.0, 1e-10)
	if err != nil {
		t.Fatal(err)
	}
	quad := 0.0
	for i, row := range H.([][]float64) {
		for j, h := range row {
			quad += dp[i] * h * dp[j]
		}
	}
	ser := adjVec(t, "logistic_taylor", p, dp, 2.0, 1e-10)
	close(t, "taylor vs hessian", []float64{ser[2]}, []float64{quad / 2}, adjTol*1e-10)
}

func TestODEAdjointMemory(t *testing.T) {
	// The reverse pass keeps only y(T): under a limit of 64 KiB of live
	// array storage its gradient succeeds for a span of 10 and one of
	// 1000 (a hundred times the steps, counted from the progress
	// reports), while differentiating through the steps needs a tape
	// that passes the limit at the longer span.
	p := []float64{1, 1}
	steps := func(T float64) int {
		f, err := adjProg.Func("osc")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		if _, err := f.Call(nabla.WithProgress(context.Background(), func(nabla.Progress) { n++ }), p, T); err != nil {
			t.Fatal(err)
		}
		return n
	}
	adjVec(t, "osc", p, 1.0) // compiles adjProg
	if short, long := steps(10), steps(1000); long < 50*short {
		t.Fatalf("steps: %d for T = 10, %d for T = 1000", short, long)
	}
	limit := []nabla.Option{nabla.WithLimits(0, 64<<10)}
	var grads [][]float64
	for _, T := range []float64{10, 1000} {
		g, err := adjCall(t, limit, "osc_rev", p, T)
		if err != nil {
			t.Fatalf("adjoint gradient for T = %g under 64 KiB: %v", T, err)
		}
		grads = append(grads, g.([]float64))
	}
	// y' = (p0·y1, −p1·y0), y(0) = (1, 0): with ω = √(p0·p1), y0 = cos ωt
	// and y1 = −√(p1/p0)·sin ωt; at p = (1, 1) the loss's gradient is
	// ((sin T − T·sin T − T·cos T)/2, (−sin T − T·sin T − T·cos T)/2).
	// The global error of an oscillation grows with the span.
	for i, T := range []float64{10, 1000} {
		sn, cs := math.Sin(T), math.Cos(T)
		want := []float64{(sn - T*sn - T*cs) / 2, (-sn - T*sn - T*cs) / 2}
		close(t, "osc adjoint", grads[i], want, adjTol*1e-8*T)
	}
	close(t, "osc adjoint vs steps", grads[0], adjVec(t, "osc_steps_rev", p, 10.0), adjTol*1e-8*10)
	if _, err := adjCall(t, limit, "osc_steps_rev", p, 1000.0); !errors.Is(err, nabla.ErrMemoryLimit) {
		t.Errorf("through the steps for T = 1000 under 64 KiB: error %v, want the memory limit", err)
	}
}
