package interp

import (
	"testing"
	"unsafe"

	"github.com/nabla-lang/nabla/runtime"
)

// TestTapeChunkBytes: once an arena has carved a lot of each kind of
// storage (vectors, matrices and their headers, boxes, tuples), the
// chunks it makes next stay within tapeChunkBytes, while every piece has
// the size asked for and storage of its own; without the bound
// (noTapeSmallChunks) they grow past it, as before.
func TestTapeChunkBytes(t *testing.T) {
	like := &runtime.Array{Shape: []int{2, 7}, Kind: runtime.ElemF64, F: make([]float64, 14)}
	for _, small := range []bool{true, false} {
		a := newTapeArena(nil, small)
		var prev *float64
		for i := range 5000 {
			v, err := a.vec(14)
			if err != nil {
				t.Fatal(err)
			}
			if len(v.F) != 14 || cap(v.F) != 14 || len(v.Shape) != 1 || v.Shape[0] != 14 || &v.F[0] == prev {
				t.Fatalf("vector %d: %d elements (cap %d), shape %v, or shared storage", i, len(v.F), cap(v.F), v.Shape)
			}
			prev = &v.F[0]
			m, err := a.like(like)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.F) != 14 || len(m.Shape) != 2 || m.Shape[0] != 2 || m.Shape[1] != 7 {
				t.Fatalf("matrix %d: %d elements, shape %v", i, len(m.F), m.Shape)
			}
			if b, err := a.boxes(3); err != nil || len(b.Box) != 3 {
				t.Fatalf("boxes %d: %v", i, err)
			}
			if tu := a.tuple(8); len(tu) != 8 {
				t.Fatalf("tuple %d: %d fields", i, len(tu))
			}
		}
		value := int(unsafe.Sizeof(runtime.Value{}))
		next := map[string]int{
			"f64":      a.f.next * 8,
			"boxes":    a.box.next * value,
			"tuples":   a.tup.next * value,
			"headers":  a.hdr.next * int(unsafe.Sizeof(tapeVec{})),
			"matrices": a.hdr2.next * int(unsafe.Sizeof(tapeMat{})),
		}
		for kind, bytes := range next {
			if small && bytes > tapeChunkBytes {
				t.Errorf("next chunk of %s: %d bytes, bound %d", kind, bytes, tapeChunkBytes)
			}
		}
		if !small && next["headers"] <= tapeChunkBytes {
			t.Errorf("without the bound the next chunk of headers has %d bytes", next["headers"])
		}
	}
}
