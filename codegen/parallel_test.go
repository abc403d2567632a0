package codegen_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/codegen"
	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/runtime"
)

const parallelSrc = `
def squares(x: [n]f64) = sum([x[i] * x[i] for i < n])
def mapped(x: [n]f64) = [exp(x[i]) * 2.0 - x[i] for i < n]
def heavy(x: [n]f64) = sum([logsumexp([x[i] * f64(j) for j < 3]) for i < n])
def rows(x: [n]f64) = [logsumexp([x[i], f64(i)]) for i < n]
def picked(x: [n]f64, idx: [m]i64) = sum([x[idx[i]] * 2.0 for i < m])
def rosen(x: [n]f64): f64 = sum([100.0 * (x[i + 1] - x[i]^2)^2 + (1.0 - x[i])^2 for i < n - 1])
def rosen_grad(x: [n]f64) = grad(rosen)(x)
// Func literals in a parallel body: their parameters are not captured.
def odes(k: [n]f64) = [ode_dopri5(fn(t, y) => -k[i] * y, [1.0], 0.0, 1.0, 1e-8, 1e-10)[0] for i < n]
def odes_grad(k: [n]f64) = grad(fn(k) => sum(odes(k)))(k)
def solves(x: [n]f64) = sum([linsolve(fn(v) => (2.0 + x[i]) * v, [1.0, x[i]])[1] for i < n])
`

// TestParallelLoops forces every loop that can run in parallel to do so
// from 4 elements on (chunks of 2) and checks, for maps, sums, bodies that
// allocate and bodies that fail, that the program prints the same bytes
// with 1 and 4 threads and agrees with the interpreter: the same values
// (to rounding: a parallel sum adds in chunks) and the same first error.
func TestParallelLoops(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program")
	}
	ctx := context.Background()
	res := mustCompile(t, "par.nab", parallelSrc)
	src, err := codegen.Generate(res.Opt, codegen.Options{Main: true, ParallelMin: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"runtime.ParallelFor(", "runtime.ParallelSum("} {
		if !bytes.Contains(src, []byte(want)) {
			t.Fatalf("no %s in the generated code", want)
		}
	}
	bin, err := codegen.Build(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	ip := mustLoad(t, pipeline.Interp, res.Opt)
	x := make([]string, 37)
	for i := range x {
		x[i] = fmt.Sprint(float64(i%7)*0.25 - 0.6)
	}
	xs := "[" + strings.Join(x, ", ") + "]"
	cases := []struct {
		def  string
		args []string
	}{
		{"squares", []string{xs}},
		{"mapped", []string{xs}},
		{"heavy", []string{xs}},
		{"rows", []string{xs}},
		{"picked", []string{xs, "[0, 5, 36, 2, 7, 1, 3, 9, 11]"}},
		// Elements 6 and 8 are out of range: the error is element 6's,
		// in the third chunk, as in a sequential loop.
		{"picked", []string{xs, "[0, 5, 1, 2, 7, 1, 99, 9, -1, 4]"}},
		{"rosen", []string{xs}},
		{"rosen_grad", []string{xs}},
		{"odes", []string{xs}},
		{"odes_grad", []string{xs}},
		{"solves", []string{xs}},
	}
	for _, c := range cases {
		var outs []string
		for _, procs := range []string{"1", "4"} {
			cmd := exec.CommandContext(ctx, bin, "-f", c.def)
			cmd.Stdin = strings.NewReader(strings.Join(c.args, "\n") + "\n")
			cmd.Env = append(os.Environ(), "GOMAXPROCS="+procs)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			cmd.Run()
			outs = append(outs, out.String()+errb.String())
		}
		if outs[0] != outs[1] {
			t.Errorf("%s: GOMAXPROCS=1 and 4 differ:\n%s\n%s", c.def, outs[0], outs[1])
		}
		params, result, err := ip.Signature(c.def)
		if err != nil {
			t.Fatal(err)
		}
		args := make([]runtime.Value, len(params))
		for i, p := range params {
			if args[i], err = jsonv.Decode(p, []byte(c.args[i])); err != nil {
				t.Fatal(err)
			}
		}
		iv, ierr := ip.Call(ctx, c.def, args, runtime.Limits{})
		if ierr != nil {
			if got := strings.TrimSpace(outs[0]); got != ierr.Error() {
				t.Errorf("%s: error %q, interpreter %q", c.def, got, ierr.Error())
			}
			continue
		}
		ij, _ := jsonv.Encode(result, iv)
		if !closeJSON(ij, []byte(strings.TrimSpace(outs[0])), 1e-12) {
			t.Errorf("%s: %s, interpreter %s", c.def, outs[0], ij)
		}
	}
}

// intoSrc has parallel loops of the kinds the benchmarks run: Rosenbrock's
// sum and its gradient's map, and BA-like maps over observations that
// read parameter rows by index, allocate (logsumexp of a literal) and
// may fail (an index out of range).
const intoSrc = `
export def rosen(x: [n]f64): f64 = sum([100.0 * (x[i + 1] - x[i]^2)^2 + (1.0 - x[i])^2 for i < n - 1])
export def rosen_grad(x: [n]f64) = grad(rosen)(x)
def rows(cams: [m][3]f64, idx: [k]i64, obs: [k][2]f64) = [logsumexp([cams[idx[i]][0] * obs[i][0] + cams[idx[i]][1], cams[idx[i]][2] * obs[i][1]]) for i < k]
export def rows_sum(cams: [m][3]f64, idx: [k]i64, obs: [k][2]f64) = sum(rows(cams, idx, obs))
export def rows_grad(cams: [m][3]f64, idx: [k]i64, obs: [k][2]f64) = grad(fn(c) => sum(rows(c, idx, obs)))(cams)
`

const intoTest = `package gen

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// problem is one input of every def, its shape fixed and its values
// moved by shift, with destinations for the Into variants.
type problem struct {
	x, xDst    []float64
	cams, cDst [][]float64
	idx        []int64
	obs        [][]float64
}

const n, m, k = 5000, 40, 3000

func newProblem(shift float64) *problem {
	p := &problem{x: make([]float64, n), xDst: make([]float64, n), idx: make([]int64, k)}
	for i := range p.x {
		p.x[i] = math.Sin(float64(i)+shift) * 1.5
	}
	for i := range m {
		p.cams = append(p.cams, []float64{math.Cos(float64(i) + shift), 0.5, float64(i%5) * 0.1})
		p.cDst = append(p.cDst, make([]float64, 3))
	}
	for i := range k {
		p.idx[i] = int64(i*7) % m
		p.obs = append(p.obs, []float64{math.Sin(float64(i)), shift})
	}
	return p
}

// run calls every Into variant and returns the results' bits.
func (p *problem) run() ([]uint64, error) {
	var bits []uint64
	s, err := Rosen(p.x)
	if err != nil {
		return nil, err
	}
	bits = append(bits, math.Float64bits(s))
	if err := RosenGradInto(p.xDst, p.x); err != nil {
		return nil, err
	}
	for _, v := range p.xDst {
		bits = append(bits, math.Float64bits(v))
	}
	if s, err = RowsSum(p.cams, p.idx, p.obs); err != nil {
		return nil, err
	}
	bits = append(bits, math.Float64bits(s))
	if err := RowsGradInto(p.cDst, p.cams, p.idx, p.obs); err != nil {
		return nil, err
	}
	for _, r := range p.cDst {
		for _, v := range r {
			bits = append(bits, math.Float64bits(v))
		}
	}
	return bits, nil
}

// TestIntoNoAllocations: a warm call of an Into variant whose loops run
// in parallel allocates nothing, with 1 or 4 threads, and gives the
// same bits with either; so does a call after one that failed in a
// parallel chunk, which fails with the same error with either.
func TestIntoNoAllocations(t *testing.T) {
	p := newProblem(0.25)
	var want []uint64
	for _, procs := range []int{1, 4} {
		old := runtime.GOMAXPROCS(procs)
		got, err := p.run()
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = got
		} else if !slices.Equal(got, want) {
			t.Errorf("GOMAXPROCS=%d: other bits than with 1", procs)
		}
		for name, f := range map[string]func(){
			"RosenGradInto": func() { RosenGradInto(p.xDst, p.x) },
			"RowsGradInto":  func() { RowsGradInto(p.cDst, p.cams, p.idx, p.obs) },
			"Rosen":         func() { Rosen(p.x) },
			"RowsSum":       func() { RowsSum(p.cams, p.idx, p.obs) },
		} {
			if a := testing.AllocsPerRun(20, f); a != 0 {
				t.Errorf("GOMAXPROCS=%d: %s allocates %v times per call", procs, name, a)
			}
		}
		// Elements 2500 and 2900 are out of range: the error is the
		// first's, as in a sequential loop.
		a, b := p.idx[2500], p.idx[2900]
		p.idx[2500], p.idx[2900] = m, m+1
		_, err = RowsSum(p.cams, p.idx, p.obs)
		p.idx[2500], p.idx[2900] = a, b
		if err == nil || err.Error() != "x.nab:4:74: index 40 out of range [0, 40)\n\tin rows (x.nab:4:5), called at x.nab:5:73\n\tin rows_sum (x.nab:5:12)" {
			t.Errorf("GOMAXPROCS=%d: error %v", procs, err)
		}
		if a := testing.AllocsPerRun(20, func() { RowsGradInto(p.cDst, p.cams, p.idx, p.obs) }); a != 0 {
			t.Errorf("GOMAXPROCS=%d: after a failure RowsGradInto allocates %v times per call", procs, a)
		}
		runtime.GOMAXPROCS(old)
	}
}

// TestConcurrentCallers calls the defs from several goroutines at once,
// each on inputs of its own, and checks each result against the same
// call made alone. Run with -race, it checks that concurrent calls of a
// loop use records of their own.
func TestConcurrentCallers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	const callers = 4
	var probs [callers]*problem
	var want [callers][]uint64
	for g := range callers {
		probs[g] = newProblem(float64(g))
		var err error
		if want[g], err = probs[g].run(); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for g := range callers {
		wg.Go(func() {
			for range 5 {
				got, err := probs[g].run()
				if err != nil || !slices.Equal(got, want[g]) {
					t.Errorf("caller %d: other results than alone (%v)", g, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
`

// TestParallelIntoPackage generates a package whose loops go parallel
// from 64 elements on and runs intoTest on it, the concurrent callers
// under the race detector too.
func TestParallelIntoPackage(t *testing.T) {
	runPackage(t, intoSrc, codegen.Options{Package: "gen", ParallelMin: 64}, intoTest,
		[]string{"vet", "."}, []string{"test", "."}, []string{"test", "-race", "-run", "Concurrent", "."})
}
