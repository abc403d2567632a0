package dense_test

import (
	"slices"
	"testing"

	"github.com/nabla-lang/nabla/runtime"
	"github.com/nabla-lang/nabla/runtime/dense"
	"gonum.org/v1/gonum/mat"
)

// TestFrom: contiguous matrices are read in place, strided views copied
// into the arena, nil refused.
func TestFrom(t *testing.T) {
	ar := new(runtime.Arena)
	m := mat.NewDense(2, 3, []float64{1, 2, 3, 4, 5, 6})
	view := m.Slice(0, 2, 1, 3).(*mat.Dense)
	row := m.Slice(1, 2, 0, 2).(*mat.Dense) // one row: contiguous
	cases := []struct {
		name    string
		m       *mat.Dense
		flat    []float64
		dims    [2]int
		inPlace bool
	}{
		{"whole", m, []float64{1, 2, 3, 4, 5, 6}, [2]int{2, 3}, true},
		{"view", view, []float64{2, 3, 5, 6}, [2]int{2, 2}, false},
		{"row", row, []float64{4, 5}, [2]int{1, 2}, true},
		{"empty", &mat.Dense{}, nil, [2]int{0, 0}, false},
	}
	for _, c := range cases {
		flat, dims, ok := dense.From(ar, c.m)
		if !ok || dims != c.dims || !slices.Equal(flat, c.flat) {
			t.Errorf("%s: From = %v, %v, %v", c.name, flat, dims, ok)
			continue
		}
		if c.inPlace && &flat[0] != &c.m.RawMatrix().Data[0] {
			t.Errorf("%s: contiguous matrix copied", c.name)
		}
		if !c.inPlace && len(flat) > 0 && &flat[0] == &c.m.RawMatrix().Data[0] {
			t.Errorf("%s: strided view read in place", c.name)
		}
	}
	if _, _, ok := dense.From(ar, nil); ok {
		t.Error("From(nil) accepted")
	}
}

// TestToInto: results out as new matrices (empty ones for a zero
// dimension) and into destinations of the right shape only, views
// included.
func TestToInto(t *testing.T) {
	r := []float64{1, 2, 3, 4, 5, 6, 99}
	m := dense.To(r, 2, 3)
	r[0] = -1
	if m.At(0, 0) != 1 || m.At(1, 2) != 6 {
		t.Errorf("To = %v", mat.Formatted(m))
	}
	if rows, cols := dense.To(r, 0, 3).Dims(); rows != 0 || cols != 0 {
		t.Errorf("To of 0 rows is %d×%d", rows, cols)
	}
	big := mat.NewDense(3, 4, nil)
	cases := []struct {
		name string
		dst  *mat.Dense
		m, n int
		ok   bool
	}{
		{"shape", mat.NewDense(2, 3, nil), 2, 3, true},
		{"view", big.Slice(1, 3, 1, 4).(*mat.Dense), 2, 3, true},
		{"transposed shape", mat.NewDense(3, 2, nil), 2, 3, false},
		{"nil for empty", nil, 0, 3, true},
		{"nil", nil, 2, 3, false},
	}
	for _, c := range cases {
		if got := dense.Into(c.dst, r, c.m, c.n); got != c.ok {
			t.Errorf("%s: Into = %v, want %v", c.name, got, c.ok)
		}
	}
	if big.At(2, 3) != 6 || big.At(1, 1) != -1 || big.At(0, 0) != 0 || big.At(1, 0) != 0 {
		t.Errorf("Into a view wrote outside it: %v", mat.Formatted(big))
	}
}
