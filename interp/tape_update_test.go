package interp_test

// Tests of tape_update.go: update copies carved from the tape arena,
// against the same programs compiled with every update through the
// primitive's implementation (interp.SetNoTapeUpdate).

import (
	"os"
	"testing"

	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/runtime"
)

// tapeUpdSrc updates a matrix state (f) and a vector state (h) in loops
// whose gradients save the old states: their forward sweeps copy them
// with update inside tape bodies.
const tapeUpdSrc = `
def f(w: [m][n]f64, s0: [r][n]f64, k: i64): f64 =
  let (s, t) = loop (s, t) = (s0, 0.0) for i < m do
    let h = tanh(w[i] * s[0]) in
    (update(s, k, h), t + sum(h * s[1]))
  in t + sum(s[0])
def g(w: [m][n]f64, s0: [r][n]f64, k: i64) = grad(fn(w, s0) => f(w, s0, k))(w, s0)
def h(w: [m][n]f64, v0: [n]f64, k: i64): f64 =
  let (v, t) = loop (v, t) = (v0, 0.0) for i < m do
    let a = sum(w[i] * v) in
    (update(v, k, a), t + a * a)
  in t + sum(v)
def hg(w: [m][n]f64, v0: [n]f64, k: i64) = grad(fn(w, v0) => h(w, v0, k))(w, v0)`

// fastCase is a call to compare with and without a fast path; with
// wantErr it must fail, the same way both times, and with noRun the fast
// path must not run (a case outside its class).
type fastCase struct {
	name    string
	src     string // source, or a file name with file set
	file    bool
	def     string
	args    func() []runtime.Value
	wantErr bool
	noRun   bool
}

var tapeUpdCases = []fastCase{
	lstmCase,
	{name: "matrix state", src: tapeUpdSrc, def: "g",
		args: func() []runtime.Value { return []runtime.Value{flatArray(5, 4, 3), flatArray(6, 3, 3), runtime.I64(2)} }},
	{name: "matrix state, index out of range", src: tapeUpdSrc, def: "g", wantErr: true,
		args: func() []runtime.Value { return []runtime.Value{flatArray(5, 4, 3), flatArray(6, 3, 3), runtime.I64(3)} }},
	{name: "matrix state, negative index", src: tapeUpdSrc, def: "g", wantErr: true,
		args: func() []runtime.Value {
			return []runtime.Value{flatArray(5, 4, 3), flatArray(6, 3, 3), runtime.I64(-1)}
		}},
	{name: "matrix state above the arena's size", src: tapeUpdSrc, def: "g", noRun: true,
		args: func() []runtime.Value { return []runtime.Value{flatArray(5, 4, 9), flatArray(6, 8, 9), runtime.I64(7)} }},
	{name: "vector state", src: tapeUpdSrc, def: "hg",
		args: func() []runtime.Value { return []runtime.Value{flatArray(7, 5, 4), flatArray(8, 4), runtime.I64(3)} }},
	{name: "vector state, index out of range", src: tapeUpdSrc, def: "hg", wantErr: true,
		args: func() []runtime.Value { return []runtime.Value{flatArray(7, 5, 4), flatArray(8, 4), runtime.I64(4)} }},
}

// TestTapeUpdate compiles each case with and without the arena's
// update copies and checks that the calls agree (checkFastPath).
func TestTapeUpdate(t *testing.T) {
	for _, c := range tapeUpdCases {
		t.Run(c.name, func(t *testing.T) {
			checkFastPath(t, c, interp.SetNoTapeUpdate, interp.TapeUpdates)
		})
	}
}

// checkFastPath compiles case c twice, with a fast path and without it
// (off disables it while compiling), and checks that the fast path ran
// (ran counts its runs) unless c.noRun or c.wantErr, and that the calls
// agree: the same bits, or the same error at the same position; the same
// steps, and the same outcome under every step limit up to them.
func checkFastPath(t *testing.T, c fastCase, off func() func(), ran func() int64) {
	t.Helper()
	hot, ref := compileTwice(t, caseSource(t, c), off)
	before := ran()
	sameCalls(t, hot, ref, c.def, c.args, c.wantErr, true)
	switch n := ran() - before; {
	case c.noRun && n != 0:
		t.Errorf("the fast path ran %d times", n)
	case !c.noRun && !c.wantErr && n == 0:
		t.Errorf("the fast path did not run")
	}
}

// caseSource is case c's program: its source, or the file it names.
func caseSource(t *testing.T, c fastCase) string {
	t.Helper()
	if !c.file {
		return c.src
	}
	src, err := os.ReadFile(c.src)
	if err != nil {
		t.Fatal(err)
	}
	return string(src)
}
