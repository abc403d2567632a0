package runtime

import (
	"fmt"
	"math"
)

// GMRES solves A x = b for a square A given only the product v -> A v,
// by GMRES from x = 0 restarted every restart steps, stopping when
// ‖b − A x‖ ≤ tol·‖b‖ or after maxIter products. It fails, rather than
// return a poor solution, when the system is singular or GMRES does not
// converge; the messages name linsolve, the primitive built on it.
// matvec must return len(v) values and not modify v; GMRES copies what
// matvec returns before changing it, so matvec may return storage it
// reuses. An error from matvec is returned as it is.
func GMRES(matvec func(v []float64) ([]float64, error), b []float64, tol float64, restart, maxIter int) ([]float64, error) {
	n := len(b)
	x := make([]float64, n)
	bnorm := Norm2(b)
	if bnorm == 0 {
		return x, nil
	}
	m := min(restart, n)
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
		beta := Norm2(r)
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
				H[i][k] = Dot(w, V[i])
				for j := range w {
					w[j] -= H[i][k] * V[i][j]
				}
			}
			hnext := Norm2(w)
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
