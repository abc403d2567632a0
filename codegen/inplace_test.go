package codegen_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/codegen"
	"github.com/nabla-lang/nabla/internal/pipeline"
)

// inPlaceNames are the exported functions of testdata/inplace.nab whose
// def has a second function reading matrices in place; Total and Mv read
// their matrix as one flat array and must copy it.
var inPlaceNames = []string{"Project", "Diag", "Rowsums", "At", "Picks", "Pairs", "Cols"}

// inPlaceCalls are the calls TestInPlace compares: values (shortest
// round-trip decimal, so the same bits) and errors (text, positions and
// frames) must be the same with the matrices read in place and copied.
// m23 is 2×3, m22 2×2, ragged has rows of 3 and 2 elements, longer of 2
// and 3, empty none,
// hollow two rows of none.
var inPlaceCalls = []string{
	"Project(m23, f32, []int64{1, 0, 1})", "Project(m23, f32, []int64{1, 2, 0})",
	"Project(ragged, f32, []int64{0, 0, 0})", "Project(m23, ragged, []int64{0, 0})",
	"Project(empty, empty, nil)", "Project(nil, f32, []int64{0, 0, 0})", "Project(hollow, f32, []int64{0, 0, 0})",
	"Project(m23, f32, []int64{0, 1})", "Project(m22, f32, []int64{0, 0, 0})", "Project(big3, bigF, bigIdx)", "Project(big3, bigF, badIdx)",
	"ProjectInto(d2, d1, m23, f32, []int64{1, 0, 1})", "ProjectInto(d2, d1[:1], m23, f32, []int64{1, 0, 1})",
	"Diag(m22)", "Diag(m23)", "Diag(empty)", "Diag(ragged)", "Diag(longer)", "Diag(hollow)", "Diag(big)",
	"Rowsums(m23)", "Rowsums(hollow)", "Rowsums(empty)", "Rowsums(ragged)", "Rowsums(longer)", "Rowsums(big)",
	"At(m23, 1, 2)", "At(m23, 2, 0)", "At(m23, 0, 3)", "At(m23, -1, 0)", "At(empty, 0, 0)", "At(hollow, 1, 0)", "At(ragged, 0, 0)",
	"Picks(m23, []int64{0, 1, 1, 0})", "Picks(m23, []int64{0, 1, 7, 0})", "Picks(m23, []int64{-1})", "Picks(empty, nil)", "Picks(empty, []int64{0})",
	"Picks(big3, bigIdx)", "Picks(big3, badIdx)",
	"Pairs([][]int64{{1, 2}, {3, 4}}, [][]float64{{0.5}, {1.5}})", "Pairs([][]int64{{1, 2}, {3}}, [][]float64{{0.5}, {1.5}})",
	"Pairs([][]int64{{1, 2}, {3, 4}}, [][]float64{{0.5}})", "Pairs([][]int64{{1, 2, 3}}, [][]float64{{0.5}})", "Pairs(nil, nil)",
	"Total(m22)", "Total(ragged)", "Mv(m22, []float64{0.5, 1.5})", "Mv(m22, []float64{0.5})",
	"MvInto(d1[:2], m22, []float64{0.5, 1.5})", "DiagInto(d1[:2], m22)", "RowsumsInto(d1, m23)", "RowsumsInto(d1[:2], m23)",
	"PicksInto(d1, m23, []int64{0, 1, 1})", "PairsInto(d1[:2], [][]int64{{1, 2}, {3, 4}}, [][]float64{{0.5}, {1.5}})",
}

// inPlaceSnippets are calls of Into functions whose destinations are, or
// overlap, an argument or each other: fresh buffers per call (P. is the
// package, the one under test or c), the results and the buffers shown.
// Each must give what copying gives: the in-place writes must see the
// aliasing and fall back to the arena.
var inPlaceSnippets = []string{
	// no aliasing: written in place
	"x := []float64{1, 2, 3}; d0, d1 := make([]float64, 3), [][]float64{make([]float64, 3), make([]float64, 3)}; return show(P.ShiftInto(d0, d1, x), x, d0, d1)",
	// the vector destination is the argument
	"x := []float64{1, 2, 3}; d1 := [][]float64{make([]float64, 3), make([]float64, 3)}; return show(P.ShiftInto(x, d1, x), x, d1)",
	// a row of the matrix destination is the argument
	"x := []float64{1, 2, 3}; d0 := make([]float64, 3); return show(P.ShiftInto(d0, [][]float64{make([]float64, 3), x}, x), x, d0)",
	// the destination overlaps the argument by two elements
	"b := []float64{1, 2, 3, 4}; x, d0 := b[:3], b[1:]; d1 := [][]float64{make([]float64, 3), make([]float64, 3)}; return show(P.ShiftInto(d0, d1, x), b, d1)",
	// two destinations overlap
	"x := []float64{1, 2, 3}; d0 := make([]float64, 3); d1 := [][]float64{d0, make([]float64, 3)}; return show(P.ShiftInto(d0, d1, x), x, d0, d1)",
	"x := []float64{1, 2, 3}; r := make([]float64, 3); d1 := [][]float64{r, r}; return show(P.ShiftInto(make([]float64, 3), d1, x), x, r)",
	"x := []float64{1, 2, 3}; b := make([]float64, 4); d1 := [][]float64{b[1:], make([]float64, 3)}; return show(P.ShiftInto(b[:3], d1, x), x, b)",
	"x := []float64{1, 2, 3}; b := make([]float64, 4); d1 := [][]float64{b[:3], b[1:]}; return show(P.ShiftInto(make([]float64, 3), d1, x), x, b)",
	// a destination not written in place overlaps one that is
	"x := []float64{1, 2, 3}; d := make([]float64, 3); return show(P.KeepInto(d, d, x), x, d)",
	"x := []float64{1, 2, 3}; b := make([]float64, 4); return show(P.KeepInto(b[1:], b[:3], x), x, b)",
	"x := []float64{1, 2, 3}; d := make([]float64, 3); return show(P.KeepInto(d, make([]float64, 3), x), x, d)",
	// a destination is a row of a matrix argument read in place
	"x := [][]float64{{1, 2}, {3, 4}}; d1 := make([]float64, 2); return show(P.ColsInto(x[0], d1, x), x, d1)",
	"x := [][]float64{{1, 2}, {3, 4}}; d0 := make([]float64, 2); return show(P.ColsInto(d0, x[1], x), x, d0)",
	"b := []float64{1, 2, 3, 4}; x := [][]float64{b[:2], b[2:]}; d0 := make([]float64, 2); return show(P.ColsInto(d0, b[1:3], x), b, d0)",
	"x := [][]float64{{1, 2}, {3, 4}}; d0, d1 := make([]float64, 2), make([]float64, 2); return show(P.ColsInto(d0, d1, x), x, d0, d1)",
	// destinations of the wrong shapes: the error, nothing written (but
	// see failedSnippets)
	"x := []float64{1, 2, 3}; d0, d1 := make([]float64, 3), [][]float64{make([]float64, 3), make([]float64, 2)}; return show(P.ShiftInto(d0, d1, x), d0, d1)",
	"x := []float64{1, 2, 3}; d0, d1 := make([]float64, 3), [][]float64{make([]float64, 3)}; return show(P.ShiftInto(d0, d1, x), d0, d1)",
	"d0, d1 := []float64{}, [][]float64{{}, {}}; return show(P.ShiftInto(d0, d1, nil), d0, d1)",
	"return show(P.ShiftInto(nil, nil, nil))",
	// a matrix argument's row is a destination
	"m := [][]float64{{1, 2, 3}, {4, 5, 6}}; f := [][]float64{{0.5, 0.25}, {2, 1}, {3, -1}}; d1 := m[1]; return show(P.ProjectInto([][]float64{make([]float64, 3), make([]float64, 3)}, d1, m, f, []int64{1, 0, 1}), m)",
	"m := [][]float64{{1, 2, 3}, {4, 5, 6}}; f := [][]float64{{0.5, 0.25}, {2, 1}, {3, -1}}; d0 := [][]float64{make([]float64, 3), m[0]}; return show(P.ProjectInto(d0, make([]float64, 3), m, f, []int64{1, 0, 1}), m, d0)",
	"b := []float64{0.5, 0.25, 2, 1, 3, -1}; f := [][]float64{b[0:2], b[2:4], b[4:6]}; d1 := b[1:4]; return show(P.ProjectInto([][]float64{make([]float64, 3), make([]float64, 3)}, d1, [][]float64{{1, 2, 3}, {4, 5, 6}}, f, []int64{1, 0, 1}), b)",
	"x := []float64{1, 2, 3}; d := make([]float64, 3); return show(P.RatioInto(d, x, []int64{1, 2, 3}), d)",
	"x := []float64{1, 2, 3}; return show(P.RatioInto(x, x, []int64{1, 2, 3}), x)",
}

// failedSnippets are calls that fail with destinations written in
// place: mid-build, or on a destination of the wrong shape found after
// the call, with the other destinations written. The error is the
// copying package's; the destinations hold what the failing call wrote
// in place (here the elements computed before the failing one, or a whole
// result), where copying leaves them untouched (docs/decisions.md). Each
// shows the error, then "|", then the destinations.
var failedSnippets = []struct{ code, inPlace, copied string }{
	{"d := []float64{-1, -1, -1}; err := P.RatioInto(d, []float64{1, 2, 3}, []int64{1, 0, 3}); return show(err) + \"|\" + show(d)",
		"[10 -1 -1]", "[-1 -1 -1]"},
	{"d := []float64{-1, -1, -1}; err := P.PicksInto(d, [][]float64{{1, 2, 3}, {4, 5, 6}}, []int64{0, 1, 7}); return show(err) + \"|\" + show(d)",
		"[7 16 -1]", "[-1 -1 -1]"},
	{"x := []float64{1, 2, 3}; d0, d1 := make([]float64, 2), [][]float64{make([]float64, 3), make([]float64, 3)}; err := P.ShiftInto(d0, d1, x); return show(err) + \"|\" + show(d0, d1)",
		"[0 0] [[2 4 6] [2 3 4]]", "[0 0] [[0 0 0] [0 0 0]]"},
}

// TestInPlace generates testdata/inplace.nab twice, with the matrix
// arguments read from the caller's rows where the code allows and with
// every matrix copied (Options.noInPlace), each with the default parallel
// thresholds and with loops of 8 elements or more parallel; a test in the
// first package compares every call of inPlaceCalls with the second's,
// and checks which exported functions call a _rows function.
func TestInPlace(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Go toolchain")
	}
	const file = "testdata/inplace.nab"
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	res, err := pipeline.Compile(context.Background(), file, src, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	comparePackages(t, res.Opt, inPlaceTest(), codegen.WithoutInPlace)
}

// inPlaceTest is the test file of package d.
func inPlaceTest() string {
	var b strings.Builder
	b.WriteString(`package d

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"gen/c"
)

func show(vs ...any) string { return fmt.Sprint(vs...) }

// rows makes an r×k matrix of distinct values, each row its own
// allocation.
func rows(r, k int) [][]float64 {
	x := make([][]float64, r)
	for i := range x {
		x[i] = make([]float64, k)
		for j := range x[i] {
			x[i][j] = float64((i*7+j*3)%11)/4 - 1
		}
	}
	return x
}

func TestSame(t *testing.T) {
	m23 := [][]float64{{1, 2, 3}, {4, 5, 6}}
	m22 := [][]float64{{1, 2}, {3, 4}}
	f32 := [][]float64{{0.5, 0.25}, {2, 1}, {3, -1}}
	ragged := [][]float64{{1, 2, 3}, {4, 5}}
	longer := [][]float64{{1, 2}, {3, 4, 5}}
	empty := [][]float64{}
	hollow := [][]float64{{}, {}}
	big, big3, bigF := rows(40, 40), rows(30, 3), rows(50, 2)
	bigIdx, badIdx := make([]int64, 50), make([]int64, 50)
	for i := range bigIdx {
		bigIdx[i] = int64(i*13) % 30
		badIdx[i] = bigIdx[i]
	}
	badIdx[13], badIdx[41] = 30, -2 // two failing elements, in different chunks
	d2 := [][]float64{make([]float64, 3), make([]float64, 3)}
	d1 := make([]float64, 3)
	cases := []struct {
		call    string
		inPlace func() string
		copied  func() string
	}{
`)
	for _, c := range inPlaceCalls {
		// The Into calls write d2 and d1, cleared before each call and
		// shown after it.
		fmt.Fprintf(&b, "\t\t{%q, func() string { return show(%s) + show(d2, d1) }, func() string { return show(c.%s) + show(d2, d1) }},\n", c, c, c)
	}
	b.WriteString(`	}
	snippets := []struct {
		call    string
		inPlace func() string
		copied  func() string
	}{
`)
	for _, c := range inPlaceSnippets {
		fmt.Fprintf(&b, "\t\t{%q, func() string { %s }, func() string { %s }},\n", c, strings.ReplaceAll(c, "P.", ""), strings.ReplaceAll(c, "P.", "c."))
	}
	b.WriteString(`	}
	cases = append(cases, snippets...)
	failed := []struct {
		call, inPlace, copied string
		got                   [2]func() string
	}{
`)
	for _, c := range failedSnippets {
		fmt.Fprintf(&b, "\t\t{%q, %q, %q, [2]func() string{func() string { %s }, func() string { %s }}},\n", c.code, c.inPlace, c.copied,
			strings.ReplaceAll(c.code, "P.", ""), strings.ReplaceAll(c.code, "P.", "c."))
	}
	b.WriteString(`	}
	for _, tc := range failed {
		inErr, inDst, _ := strings.Cut(tc.got[0](), "|")
		cpErr, cpDst, _ := strings.Cut(tc.got[1](), "|")
		if inErr != cpErr || inErr == "<nil>" {
			t.Errorf("%s: error %s, copying %s", tc.call, inErr, cpErr)
		}
		if inDst != tc.inPlace || cpDst != tc.copied {
			t.Errorf("%s: destinations %s, copying %s; want %s and %s", tc.call, inDst, cpDst, tc.inPlace, tc.copied)
		}
	}
	for _, tc := range cases {
		for _, row := range d2 {
			clear(row)
		}
		clear(d1)
		in := tc.inPlace()
		for _, row := range d2 {
			clear(row)
		}
		clear(d1)
		if cp := tc.copied(); in != cp {
			t.Errorf("%s: %s, copying the matrices %s", tc.call, in, cp)
		}
	}
	src, err := os.ReadFile("gen.go")
	if err != nil {
		t.Fatal(err)
	}
	calls := func(name, fn string) bool {
		_, body, _ := strings.Cut(string(src), "\nfunc "+name+"(")
		body, _, _ = strings.Cut(body, "\n}\n")
		return strings.Contains(body, fn)
	}
`)
	fmt.Fprintf(&b, "\tfor _, name := range %#v {\n", inPlaceNames)
	b.WriteString(`		if !calls(name, "_rows(") {
			t.Errorf("%s does not read its matrices in place", name)
		}
	}
	for _, name := range []string{"ProjectInto", "DiagInto", "RowsumsInto", "PicksInto", "PairsInto", "MvInto", "ShiftInto", "RatioInto", "ColsInto", "KeepInto"} {
		if !calls(name, "_into(") {
			t.Errorf("%s does not write its results in place", name)
		}
	}
	for _, name := range []string{"Total", "Mv"} {
		if calls(name, "_rows(") {
			t.Errorf("%s reads a matrix in place", name)
		}
	}
}
`)
	return b.String()
}
