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
