package dense

import (
	"github.com/nabla-lang/nabla/runtime"
	"gonum.org/v1/gonum/mat"
)

// From gives the row-major elements of m and its dimensions: m's own
// storage when its rows are contiguous (generated code never writes into
// an argument), else a copy cut from ar. ok is false for a nil matrix.
func From(ar *runtime.Arena, m *mat.Dense) (flat []float64, dims [2]int, ok bool) {
	if m == nil {
		return nil, [2]int{}, false
	}
	raw := m.RawMatrix()
	r, c := raw.Rows, raw.Cols
	if raw.Stride == c || r <= 1 {
		return raw.Data[:r*c], [2]int{r, c}, true
	}
	flat = ar.F64w(r * c)
	for i := 0; i < r; i++ {
		copy(flat[i*c:(i+1)*c], raw.Data[i*raw.Stride:])
	}
	return flat, [2]int{r, c}, true
}

// To copies an m×n result out of the call's arena into a new matrix (an
// empty one when m or n is 0, which mat.NewDense refuses).
func To(r []float64, m, n int) *mat.Dense {
	if m == 0 || n == 0 {
		return &mat.Dense{}
	}
	return mat.NewDense(m, n, append([]float64(nil), r[:m*n]...))
}

// Into copies an m×n result into dst and reports whether dst is m×n (a
// nil dst is 0×0).
func Into(dst *mat.Dense, r []float64, m, n int) bool {
	if dst == nil {
		return m == 0 || n == 0
	}
	if rows, cols := dst.Dims(); rows != m || cols != n {
		return false
	}
	raw := dst.RawMatrix()
	for i := 0; i < m; i++ {
		copy(raw.Data[i*raw.Stride:i*raw.Stride+n], r[i*n:(i+1)*n])
	}
	return true
}
