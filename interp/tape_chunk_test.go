package interp

import (
	"math"
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

// TestTapeReuseZero: an arena taken again from its site carves from the
// chunks of the run before, in the same order, and every piece is zero
// as from a new chunk, however the run before left the chunks (here
// filled with junk: NaNs, boxed values, stale storage in every header
// slice).
func TestTapeReuseZero(t *testing.T) {
	like := &runtime.Array{Shape: []int{2, 7}, Kind: runtime.ElemF64, F: make([]float64, 14)}
	junk := make([]float64, 3)
	type pieces struct {
		vecs, mats, boxes []*runtime.Array
		tups              []runtime.Tuple
	}
	carveAll := func(a *tapeArena) pieces {
		var p pieces
		for range 700 {
			v, err := a.vec(14)
			if err != nil {
				t.Fatal(err)
			}
			m, err := a.like(like)
			if err != nil {
				t.Fatal(err)
			}
			b, err := a.boxes(3)
			if err != nil {
				t.Fatal(err)
			}
			p.vecs, p.mats, p.boxes = append(p.vecs, v), append(p.mats, m), append(p.boxes, b)
			p.tups = append(p.tups, a.tuple(5))
		}
		return p
	}
	site := &tapeSite{}
	fr := &frame{}
	a := site.arena(fr, true)
	if a.site != site || len(fr.tapes) != 1 {
		t.Fatal("the arena is not listed on the frame")
	}
	first := carveAll(a)
	spans := a.spans(nil)
	spans.sort()
	for _, arrs := range [][]*runtime.Array{first.vecs, first.mats, first.boxes} {
		for _, x := range arrs {
			for i := range x.F {
				x.F[i] = math.NaN()
			}
			for i := range x.Box {
				x.Box[i] = runtime.Value{F: 1, I: 2, R: like}
			}
			x.F, x.I, x.B, x.Box = junk, []int64{1}, []bool{true}, []runtime.Value{{F: 3}}
		}
	}
	for _, tu := range first.tups {
		for i := range tu {
			tu[i] = runtime.Value{F: 4, R: like}
		}
	}
	site.put(a)
	before := tapeRecycled.Load()
	fr2 := &frame{}
	b := site.arena(fr2, true)
	if b != a || tapeRecycled.Load() != before+1 {
		t.Fatal("the site did not give the kept arena back")
	}
	second := carveAll(b)
	for i, v := range second.vecs {
		if !spans.array(v) {
			t.Fatalf("vector %d is not carved from the first run's chunks", i)
		}
		if v.Kind != runtime.ElemF64 || len(v.F) != 14 || v.I != nil || v.B != nil || v.Box != nil || len(v.Shape) != 1 || v.Shape[0] != 14 {
			t.Fatalf("vector %d: %+v", i, *v)
		}
		for _, x := range v.F {
			if x != 0 || math.Signbit(x) {
				t.Fatalf("vector %d: %v", i, v.F)
			}
		}
	}
	for i, m := range second.mats {
		if m.Kind != runtime.ElemF64 || len(m.F) != 14 || m.I != nil || m.B != nil || m.Box != nil || len(m.Shape) != 2 {
			t.Fatalf("matrix %d: %+v", i, *m)
		}
		for _, x := range m.F {
			if x != 0 || math.Signbit(x) {
				t.Fatalf("matrix %d: %v", i, m.F)
			}
		}
	}
	for i, bx := range second.boxes {
		if bx.Kind != runtime.ElemBox || len(bx.Box) != 3 || bx.F != nil || bx.I != nil || bx.B != nil {
			t.Fatalf("boxes %d: %+v", i, *bx)
		}
		for _, x := range bx.Box {
			if x != (runtime.Value{}) {
				t.Fatalf("boxes %d: %v", i, bx.Box)
			}
		}
	}
	for i, tu := range second.tups {
		for _, x := range tu {
			if x != (runtime.Value{}) {
				t.Fatalf("tuple %d: %v", i, tu)
			}
		}
	}
}
