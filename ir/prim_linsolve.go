package ir

import (
	"fmt"
	"math"

	"github.com/nabla-lang/nabla/runtime"
)

// PrimLinsolve solves A x = b given only the product v -> A v, by
// restarted GMRES: the matrix-free solve behind implicit differentiation
// (SPEC §6), where A is ∂F/∂x or its transpose, applied through JVPs or
// VJPs of F. Package ad differentiates it itself, with respect to b and to
// the values the matvec closes over (nested implicit differentiation).
var PrimLinsolve = Register(&Prim{Name: "linsolve", Arity: 2, Doc: "linsolve(matvec, b): x with matvec(x) = b, by restarted GMRES",
	Type: func(args []Type, _ any) (Type, error) {
		f, err := needFunc("linsolve", 0, args[0], 1)
		if err != nil {
			return nil, err
		}
		if !isVectorOrScalar(args[1]) || !Equal(f.Params[0], args[1]) || !Equal(f.Result, args[1]) {
			return nil, fmt.Errorf("linsolve: want (T -> T, T) with T f64 or [n]f64, got (%s, %s)", f, args[1])
		}
		return args[1], nil
	},
	Eval: func(s *Site) (Impl, error) {
		scalar := Rank(s.Args[1]) == 0
		return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
			f, err := function("linsolve", args[0])
			if err != nil {
				return errValue, err
			}
			if scalar {
				a, err := call(m, f, runtime.F64(1))
				if err != nil {
					return errValue, err
				}
				return runtime.F64(args[1].F / a.F), nil
			}
			b := args[1].Array().F
			matvec := func(v []float64) ([]float64, error) {
				out, err := call(m, f, runtime.Arr(runtime.FromF64(append([]float64(nil), v...))))
				if err != nil {
					return nil, err
				}
				r := out.Array()
				if len(r.F) != len(v) {
					return nil, fmt.Errorf("linsolve: matvec returned %d values for %d", len(r.F), len(v))
				}
				return r.F, nil
			}
			x, err := gmres(matvec, b, 1e-13, 30, 20*len(b)+100)
			if err != nil {
				return errValue, err
			}
			return runtime.Arr(runtime.FromF64(x)), m.Alloc(int64(8 * len(x)))
		}, nil
	}})

func isVectorOrScalar(t Type) bool {
	if Identical(t, TF64) {
		return true
	}
	a, ok := t.(*Array)
	return ok && Identical(a.Elem, TF64)
}

// gmres solves A x = b from x = 0 with restarts every m steps, stopping
// when ‖b − A x‖ ≤ tol·‖b‖ or after maxIter products. It fails, rather than
// returning a poor solution, when it does not converge.
func gmres(matvec func([]float64) ([]float64, error), b []float64, tol float64, m, maxIter int) ([]float64, error) {
	n := len(b)
	x := make([]float64, n)
	bnorm := runtime.Norm2(b)
	if bnorm == 0 {
		return x, nil
	}
	m = min(m, n)
	iters := 0
	for iters < maxIter {
		ax, err := matvec(x)
		if err != nil {
			return nil, err
		}
		r := make([]float64, n)
		for i := range r {
			r[i] = b[i] - ax[i]
		}
		beta := runtime.Norm2(r)
		if beta <= tol*bnorm {
			return x, nil
		}
		V := [][]float64{scaled(r, 1/beta)}
		H := make([][]float64, m+1) // H[i][j], (m+1) x m
		for i := range H {
			H[i] = make([]float64, m)
		}
		cs, sn := make([]float64, m), make([]float64, m)
		g := make([]float64, m+1)
		g[0] = beta
		k := 0
		for ; k < m && iters < maxIter; k++ {
			iters++
			w, err := matvec(V[k])
			if err != nil {
				return nil, err
			}
			w = append([]float64(nil), w...)
			for i := 0; i <= k; i++ { // modified Gram-Schmidt
				H[i][k] = runtime.Dot(w, V[i])
				for j := range w {
					w[j] -= H[i][k] * V[i][j]
				}
			}
			hnext := runtime.Norm2(w)
			H[k+1][k] = hnext
			for i := 0; i < k; i++ { // apply earlier rotations
				t := cs[i]*H[i][k] + sn[i]*H[i+1][k]
				H[i+1][k] = -sn[i]*H[i][k] + cs[i]*H[i+1][k]
				H[i][k] = t
			}
			d := math.Hypot(H[k][k], H[k+1][k])
			if d == 0 {
				k++
				break
			}
			cs[k], sn[k] = H[k][k]/d, H[k+1][k]/d
			H[k][k], H[k+1][k] = d, 0
			g[k+1] = -sn[k] * g[k]
			g[k] = cs[k] * g[k]
			if math.Abs(g[k+1]) <= tol*bnorm || hnext == 0 {
				k++
				break
			}
			V = append(V, scaled(w, 1/hnext))
		}
		// Solve the k x k triangular system and update x.
		y := make([]float64, k)
		for i := k - 1; i >= 0; i-- {
			s := g[i]
			for j := i + 1; j < k; j++ {
				s -= H[i][j] * y[j]
			}
			if H[i][i] == 0 {
				return nil, fmt.Errorf("linsolve: the linear system is singular")
			}
			y[i] = s / H[i][i]
		}
		for i := 0; i < k; i++ {
			for j := range x {
				x[j] += y[i] * V[i][j]
			}
		}
	}
	ax, err := matvec(x)
	if err != nil {
		return nil, err
	}
	res := 0.0
	for i := range ax {
		res += (b[i] - ax[i]) * (b[i] - ax[i])
	}
	if math.Sqrt(res) <= 1e-8*bnorm {
		return x, nil
	}
	return nil, fmt.Errorf("linsolve: GMRES did not converge in %d products (relative residual %.3g)", maxIter, math.Sqrt(res)/bnorm)
}

func scaled(v []float64, s float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x * s
	}
	return out
}
