package ad

import (
	"testing"

	"github.com/nabla-lang/nabla/ir"
)

// TestErrorsOncePerPosition checks that the expander keeps one copy of an
// error met again at the same position (a def differentiated once per
// enclosing derivative would otherwise repeat it), and keeps errors that
// differ in position or message.
func TestErrorsOncePerPosition(t *testing.T) {
	p1 := ir.Pos{File: "t.nab", Line: 1, Col: 5}
	p2 := ir.Pos{File: "t.nab", Line: 2, Col: 4}
	a := &expander{}
	a.errorf(p1, "reverse mode: %s", "a")
	a.errorf(p1, "reverse mode: %s", "a")
	a.errorf(p2, "reverse mode: %s", "a")
	a.errorf(p1, "reverse mode: %s", "b")
	a.fail(ir.Errorf(p2, "reverse mode: a"))
	want := []string{"t.nab:1:5: reverse mode: a", "t.nab:2:4: reverse mode: a", "t.nab:1:5: reverse mode: b"}
	if len(a.errs) != len(want) {
		t.Fatalf("%d errors %v, want %d", len(a.errs), a.errs, len(want))
	}
	for i, e := range a.errs {
		if e.Error() != want[i] {
			t.Errorf("error %d is %q, want %q", i, e.Error(), want[i])
		}
	}
}
