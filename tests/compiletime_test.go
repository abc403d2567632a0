package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/internal/progen"
)

// BenchmarkCompile times nabla.Compile (front end, AD and optimizer) on
// the generated programs of internal/progen: straight-line code, its
// gradient, loops and dependent lets of 500 to 8000 lines, and grad
// nested 1 to 9 deep. It reports the time per source line (ns/line),
// which stays about flat as the programs grow when compile time is
// linear. `go run ./cmd/nablabench compile` prints the same measurements
// as a table (docs/benchmarks.md).
//
//	GOMAXPROCS=1 go test -run '^$' -bench Compile -benchtime 1x ./tests
func BenchmarkCompile(b *testing.B) {
	for _, k := range progen.Kinds {
		sizes := progen.Sizes
		if k.Depths {
			sizes = progen.NestedDepths
		}
		for _, n := range sizes {
			src := k.Gen(n)
			lines := strings.Count(src, "\n")
			b.Run(fmt.Sprintf("%s/%d", k.Name, n), func(b *testing.B) {
				b.SetBytes(int64(len(src)))
				for b.Loop() {
					if _, err := nabla.Compile("gen.nab", []byte(src)); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(lines), "ns/line")
			})
		}
	}
}

// TestCompileHostileSizes compiles the programs of issue 15 that did not
// finish: 5000 dependent lets and a 200,000-term sum, and checks that a
// 10 MB single line of '+' is refused with a positioned error.
func TestCompileHostileSizes(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles programs of megabytes")
	}
	p, err := nabla.Compile("lets.nab", []byte(progen.Lets(5000)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := p.Func("main")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := f.Call(t.Context()); err != nil || v != 5000.0 {
		t.Errorf("5000 lets: got %v, %v, want 5000", v, err)
	}
	p, err = nabla.Compile("sum.nab", []byte(progen.PlusChain(200000)))
	if err != nil {
		t.Fatal(err)
	}
	if f, err = p.Func("main"); err != nil {
		t.Fatal(err)
	}
	if v, err := f.Call(t.Context()); err != nil || v != 200000.0 {
		t.Errorf("200,000 terms: got %v, %v, want 200000", v, err)
	}
	_, err = nabla.Compile("line.nab", []byte(progen.PlusChain(10<<20/6)))
	if err == nil || !strings.Contains(err.Error(), "line.nab:1:") || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("10 MB line: got %v, want a positioned error about nesting", err)
	}
}
