package runtime_test

import (
	"testing"

	"github.com/nabla-lang/nabla/runtime"
)

// TestRows2 checks that Rows2 accepts exactly the matrices Flatten2
// accepts, with the same number of columns.
func TestRows2(t *testing.T) {
	for _, x := range [][][]float64{
		nil, {}, {{}}, {{}, {}}, {{1}}, {{1, 2}, {3, 4}, {5, 6}},
		{{1, 2}, {3}}, {{1}, {2, 3}}, {{}, {1}}, {{1, 2}, {3, 4}, {5, 6, 7}},
	} {
		n, ok := runtime.Rows2(x)
		_, dims, fok := runtime.Flatten2(new(runtime.Arena), x)
		if ok != fok || ok && n != dims[1] {
			t.Errorf("Rows2(%v) = %d, %v; Flatten2 gives %v, %v", x, n, ok, dims, fok)
		}
	}
}

// TestDsts checks the aliasing answers of Dsts, ApartVec and Rows2Apart
// on buffers that are apart, equal, overlapping by one element, and
// adjacent (apart).
func TestDsts(t *testing.T) {
	b := make([]float64, 10)
	other := make([]float64, 4)
	cases := []struct {
		name      string
		vecs      [][]float64
		mat       [][]float64
		arg       []float64
		rows      [][]float64
		ok, apart bool
	}{
		{"apart", [][]float64{b[:3]}, nil, other, [][]float64{other[:2], other[2:]}, true, true},
		{"adjacent", [][]float64{b[:3]}, [][]float64{b[3:5]}, b[5:], [][]float64{b[8:], other[:2]}, true, true},
		{"argument is a destination", [][]float64{b[:3]}, nil, b[:3], nil, true, false},
		{"argument overlaps by one", [][]float64{b[:3]}, nil, b[2:4], nil, true, false},
		{"a row is a destination", [][]float64{b[:3]}, nil, other, [][]float64{other[:3], b[:3]}, true, false},
		{"a row overlaps", nil, [][]float64{b[4:6]}, other, [][]float64{b[5:7], b[7:9]}, true, false},
		{"destinations overlap", [][]float64{b[:3]}, [][]float64{b[2:4]}, other, nil, false, false},
		{"a destination twice", nil, [][]float64{b[:3], b[:3]}, other, nil, false, false},
		{"too many", nil, [][]float64{b[0:1], b[1:2], b[2:3], b[3:4], b[4:5], b[5:6], b[6:7], b[7:8], b[8:9]}, other, nil, false, false},
		{"empty slices", [][]float64{b[:0], b[:0]}, nil, b[:0], [][]float64{b[:0]}, true, true},
	}
	for _, c := range cases {
		var d runtime.Dsts
		for _, v := range c.vecs {
			d.Vec(v)
		}
		d.Mat(c.mat)
		_, ok, rowsApart := runtime.Rows2Apart(&d, c.rows)
		apart := runtime.ApartVec(&d, c.arg) && ok && rowsApart
		if d.Ok() != c.ok || apart != c.apart {
			t.Errorf("%s: Ok %v, apart %v; want %v, %v", c.name, d.Ok(), apart, c.ok, c.apart)
		}
	}
}
