package tests

import (
	"context"
	"runtime"
	"testing"

	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/internal/progen"
	"github.com/nabla-lang/nabla/interp"
)

// TestCompileWorkLinear guards what rewrite's TestCompileTimeLinear does
// not count: the work of the stages around the optimizer (AD expansion,
// resolving checkpoints) and of the interpreter's compiler, measured by
// the bytes they allocate, which is deterministic, not by a timer. Each
// family at 200 and 1600 lines: eight times the lines must not take more
// than twelve times the bytes. Per-let scans of the rest of a def made
// both quadratic (progen.Loops(1600): 90 times the bytes).
func TestCompileWorkLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles programs of thousands of lines")
	}
	const small, large = 200, 1600
	for _, k := range progen.Kinds {
		if k.Depths {
			continue
		}
		ps, is := compileBytes(t, k.Gen(small))
		pl, il := compileBytes(t, k.Gen(large))
		for _, c := range []struct {
			what   string
			lo, hi uint64
		}{{"pipeline", ps, pl}, {"interp.New", is, il}} {
			ratio := float64(c.hi) / float64(c.lo)
			t.Logf("%s, %s: %d bytes for %d lines, %d for %d: %.1f times", k.Name, c.what, c.lo, small, c.hi, large, ratio)
			if ratio > 12 {
				t.Errorf("%s, %s: %.1f times the bytes for 8 times the lines (%d, %d)", k.Name, c.what, ratio, c.lo, c.hi)
			}
		}
	}
}

// compileBytes returns the bytes allocated by compiling src through the
// pipeline and then by interp.New on the result.
func compileBytes(t *testing.T, src string) (pipe, load uint64) {
	t.Helper()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	a := m.TotalAlloc
	res, err := pipeline.Compile(context.Background(), "gen.nab", []byte(src), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&m)
	b := m.TotalAlloc
	if _, err := interp.New(res.Opt); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&m)
	return b - a, m.TotalAlloc - b
}
