package tests

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/nabla-lang/nabla"
)

// The benchmarks of the cheap-gradient requirement (SPEC §6): f and
// grad(f) for Rosenbrock and the ADBench GMM objective at growing sizes.
// The ratio of the grad time to the f time should stay flat and at most 5;
// cmd/nablabench prints that ratio as a table.
//
//	go test -run '^$' -bench . ./tests
//
// Calls go through Func.Call, so the timings include converting the Go
// arguments and results (a copy of the arrays: well under 1% here).

const rosenbrockSrc = `
def rosen(x: [n]f64): f64 = sum([100.0 * (x[i + 1] - x[i]^2)^2 + (1.0 - x[i])^2 for i < n - 1])
def rosen_grad(x: [n]f64): [n]f64 = grad(rosen)(x)
`

// gmmReported reports each instance's source once per process.
var gmmReported onceByKey

type onceByKey struct {
	mu   sync.Mutex
	done map[string]bool
}

func (o *onceByKey) Do(key string, f func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.done[key] {
		if o.done == nil {
			o.done = map[string]bool{}
		}
		o.done[key] = true
		f()
	}
}

var benchProgs struct {
	sync.Once
	rosen, gmm *nabla.Program
	err        error
}

func programs(b *testing.B) (rosen, gmm *nabla.Program) {
	benchProgs.Do(func() {
		benchProgs.rosen, benchProgs.err = nabla.Compile("rosenbrock.nab", []byte(rosenbrockSrc))
		if benchProgs.err == nil {
			benchProgs.gmm, benchProgs.err = nabla.CompileFile("testdata/gmm.nab")
		}
	})
	if benchProgs.err != nil {
		b.Fatal(benchProgs.err)
	}
	return benchProgs.rosen, benchProgs.gmm
}

func benchCall(b *testing.B, f *nabla.Func, args ...any) {
	ctx := context.Background()
	if _, err := f.Call(ctx, args...); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.Call(ctx, args...); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRosenbrock(b *testing.B) {
	rosen, _ := programs(b)
	for _, name := range []string{"f", "grad"} {
		def := map[string]string{"f": "rosen", "grad": "rosen_grad"}[name]
		f, err := rosen.Func(def)
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range []int{100, 1000, 10000} {
			b.Run(fmt.Sprintf("%s/n=%d", name, n), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, uint64(n)))
				x := make([]float64, n)
				for i := range x {
					x[i] = 2*rng.Float64() - 1
				}
				benchCall(b, f, x)
			})
		}
	}
}

func BenchmarkGMM(b *testing.B) {
	_, gmm := programs(b)
	for _, c := range gmmCases {
		// A random stand-in for a missing ADBench file is named
		// NAME_random, and both kinds are reported on stderr (benchmark
		// logs are shown only with -v).
		g, how := loadGMM(c.name, c.d, c.k, c.n)
		gmmReported.Do(c.name, func() { fmt.Fprintf(os.Stderr, "BenchmarkGMM: %s: %s\n", c.name, how) })
		for _, name := range []string{"f", "grad"} {
			def := map[string]string{"f": "gmm", "grad": "gmm_grad"}[name]
			f, err := gmm.Func(def)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%s/%s", name, g.name), func(b *testing.B) {
				benchCall(b, f, g.args()...)
			})
		}
	}
}
