package runtime

import "testing"

// MarkAt must store exactly the mark Mark returns, at every state of the
// arena (fresh, after cuts of each kind, across a chunk change, after a
// release), and the zero mark for a nil arena, so that Release of either
// frees the same elements.
func TestArenaMarkAt(t *testing.T) {
	a := &Arena{}
	steps := []struct {
		name string
		cut  func()
	}{
		{"fresh", func() {}},
		{"f64", func() { a.F64(10) }},
		{"i64", func() { a.I64(3) }},
		{"bool", func() { a.Bool(5) }},
		{"new chunk", func() { a.F64w(1 << 12) }},
		{"released", func() { m := a.Mark(); a.F64(7); a.Release(m) }},
	}
	for _, s := range steps {
		s.cut()
		var m ArenaMark
		a.MarkAt(&m)
		if want := a.Mark(); m != want {
			t.Errorf("%s: MarkAt stored %+v, Mark is %+v", s.name, m, want)
		}
		// Releasing to it frees what is cut afterwards.
		before := a.Mark()
		a.F64(3)
		a.Release(m)
		if got := a.Mark(); got != before {
			t.Errorf("%s: after Release(MarkAt) the arena is at %+v, want %+v", s.name, got, before)
		}
	}
	var nilArena *Arena
	m := ArenaMark{f: pos{1, 2}}
	nilArena.MarkAt(&m)
	if m != (ArenaMark{}) {
		t.Errorf("nil arena: MarkAt stored %+v, want the zero mark", m)
	}
}
