package codegen_test

import (
	"regexp"
	"strings"
	"testing"
)

// TestCatRows runs testdata/catrows.nab's RUN lines through both
// backends: array literals whose elements end in concats, and concats of
// literals of rows, give the interpreter's values bit for bit and its
// errors at the positions the ERROR lines give. The generated code
// copies each leaf once: no concat allocates a buffer of its own where
// its result is a literal's row or its operand a literal of rows that is
// not a recipe.
func TestCatRows(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go programs")
	}
	src := checkRuns(t, "testdata/catrows.nab", 10)
	concatBuf := regexp.MustCompile(`c_\d+ := ar\.F64w\(len\(`)
	for _, c := range []struct {
		def     string
		buffers int // concats with a buffer of their own
		copies  int // copy statements in the body
	}{
		// Rows 0 and 1 copied from their leaves, row 1's [v + 1.0] (a
		// recipe, so its literal is built) one of them; element 2 slices
		// a concat (its buffer, into which [v, v]'s rows are copied as
		// leaves, then copied into row 2).
		{"litcats", 1, 3 + 3 + 4 + 1},
		{"litrowsdiffer", 0, 2 + 2 + 2},
		// Both concats of u straight into their rows; concat(y, x) + 1.0
		// reads its concat, which has a buffer.
		{"litvecs", 1, 2 + 2 + 2 + 2},
		// Results: each concat has its buffer, the leaves copied once;
		// [w, v * 3.0] holds a recipe, so it is built in one loop (no
		// copy) and is one leaf.
		{"catlit", 3, 3 + 2 + 2},
		// Each row: [dx] and [dy] as two leaves (and the two seeds'
		// builds copy their rows).
		{"pairjac", 0, 4 + 2},
	} {
		body := genBody(t, src, c.def)
		if n := len(concatBuf.FindAllString(body, -1)); n != c.buffers {
			t.Errorf("%s: %d concat buffers, want %d:\n%s", c.def, n, c.buffers, body)
		}
		if n := strings.Count(body, "copy("); n != c.copies {
			t.Errorf("%s: %d copies, want %d:\n%s", c.def, n, c.copies, body)
		}
	}
}
