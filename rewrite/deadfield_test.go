package rewrite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
	"github.com/nabla-lang/nabla/runtime"
)

// deadfieldCases are programs whose def f(x: [n]f64) builds tuples; drops
// is how many tuples deadfield prunes (0: it must leave f alone).
var deadfieldCases = []struct {
	name, src string
	drops     int
}{
	{"unused_field", "def f(x: [n]f64) = let t = [let v = x[i] in (v * 2.0, sin(v), v + 1.0) for i < n] in sum([t[i].0 + t[i].2 for i < n])", 1},
	{"through_let", "def f(x: [n]f64) = let t = [let v = x[i] in (v * 2.0, sin(v), v + 1.0) for i < n] in sum([let e = t[i] in e.1 * e.1 for i < n])", 1},
	{"failing_field_kept", "def f(x: [n]f64) = let t = [(x[i], x[i + 1], 3.0) for i < n] in sum([t[i].0 for i < n])", 1},
	{"only_failing", "def f(x: [n]f64) = let t = [(x[i], x[(i + 1) % 2]) for i < n] in sum([t[i].0 for i < n])", 0},
	{"whole_returned", "def f(x: [n]f64) = let t = [let v = x[i] in (v, sin(v)) for i < n] in (t, t[0].0)", 0},
	{"whole_to_call", "def g(t: [m](f64, f64)): f64 = t[0].1\ndef f(x: [n]f64) = let t = [let v = x[i] in (v, sin(v)) for i < n] in g(t) + t[1].0", 0},
	{"whole_zipped", "def f(x: [n]f64) = let t = [let v = x[i] in (v, sin(v)) for i < n] in sum(map(fn(p) => p.1.0, zip(x, t)))", 0},
	{"nested", "def f(x: [n]f64) = let t = [let v = x[i] in (v, [let w = v * x[j] in (w, w * w, cos(w)) for j < n], exp(v)) for i < n] in sum([let e = t[i] in e.0 + e.1[0].2 for i < n])", 2},
	// One field left, itself a tuple: t[i].1.0 becomes t[i].0.
	{"one_left_tuple", "def f(x: [n]f64) = let t = [let v = x[i] in (v * 2.0, (sin(v), cos(v))) for i < n] in sum([t[i].1.0 + t[i].1.1 for i < n])", 1},
	{"plain_tuple", "def f(x: [n]f64) = let v = x[0] in let p = (sin(v), cos(v), v * v) in p.0 + p.2", 1},
	{"loop_state", "def f(x: [n]f64) = let t = [let v = x[i] in (v, sin(v)) for i < n] in (loop s = t for k < 2 do s)[0].0", 1},
	{"if_branch", "def f(x: [n]f64) = let t = [let v = x[i] in (v, sin(v)) for i < n] in (if x[0] > 0.0 then t else t)[0].0", 1},
	// A loop's state: the body reads fields 0 and 1, nothing reads 2.
	{"loop_fields", "def f(x: [n]f64) = (loop s = (x[0], 0.0, 1.0) for k < n do (s.0 + s.1, s.1 * 2.0 + x[k], s.2 + 1.0)).0", 2},
	{"while_fields", "def f(x: [n]f64) = (loop s = (1.5, 0, 1.0) while s.1 < n do (s.0 * x[s.1], s.1 + 1, s.2 * s.0)).0", 2},
	// The body's field 1 can fail and stays, the initial one could go:
	// the state keeps its shape (no drop).
	{"loop_clash", "def f(x: [n]f64) = (loop s = (2.0, sin(2.0)) for k < 2 do (s.0 * 2.0, x[k + 1])).0", 0},
	{"if_clash", "def f(x: [n]f64) = (if n > 2 then [(x[i], sin(x[i])) for i < n] else [(x[i], x[i + 1]) for i < n])[0].0", 0},
	// The outer state is read whole from its second round on (h(s)); the
	// inner loop, read in part in the first round, must then stay whole.
	{"loop_grows_whole", "def h(p: (f64, (f64, f64))): f64 = p.0\ndef f(x: [n]f64) = let r = loop s = (x[0], (1.0, 2.0)) for k < n do (s.0 + h(s), (loop u = (s.1.0, 3.0) for j < 2 do (u.0 * 2.0, cos(u.1)))) in r.0 + r.1.0", 0},
	{"if_grows_whole", "def h(p: (f64, (f64, f64))): f64 = p.0\ndef f(x: [n]f64) = let r = loop s = (x[0], (1.0, 2.0)) for k < n do (s.0 + h(s), if s.0 > 0.0 then (s.1.0, 3.0) else (1.0, cos(s.0))) in r.0 + r.1.0", 0},
	// A loop inside the loop, its state carried in the outer state.
	{"loop_nested", "def f(x: [n]f64) = (loop s = (0.5, (1.0, 2.0)) for k < n do (s.0 + (loop u = (x[k], s.1.0, cos(s.0)) for j < 2 do (u.0 * u.1, u.1, u.2)).0, (s.1.0 * 0.5, s.1.1))).0", 4},
	{"grad", "def g(x: [n]f64): f64 = sum([let y = x * x[i] in logsumexp(y) + sum(y * y) for i < n])\ndef f(x: [n]f64) = grad(g)(x)", -1},
	// Reverse mode through loops: the tapes go through loop_save's state.
	{"grad_loop", "def g(x: [n]f64): f64 = (loop s = (x, 0.0) for k < 3 do let y = tanh(s.0 * x) in (y, s.1 + sum(exp(y)))).1\ndef f(x: [n]f64) = grad(g)(x)", -1},
}

// deadfieldInputs are arguments of f: ordinary, short (x[1] fails) and
// empty.
var deadfieldInputs = []string{"[0.5, -1.25, 2.0]", "[0.75]", "[]"}

// TestDeadfield applies deadfield; dce to each case, checks the IR and
// the trace against goldens and that the result is bit-identical, or the
// same error at the same position, on every input.
func TestDeadfield(t *testing.T) {
	st, err := lang.ParseStrategy("--strategy", "deadfield; try(dce)")
	if err != nil {
		t.Fatal(err)
	}
	def, err := lang.ParseStrategy("--strategy", "default")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range deadfieldCases {
		t.Run(tc.name, func(t *testing.T) {
			before := loadSrc(t, tc.src+"\n")
			strat := st
			if tc.drops < 0 {
				// A derivative: the whole pipeline, whose VJP def has the
				// tapes (the default strategy names deadfield).
				strat = def
			}
			var defs []*ir.Def
			var b strings.Builder
			drops := 0
			for _, d := range before.Defs {
				nd, trace, err := testRewriter(t).ApplyDef(before, d.Name, strat, Options{Trace: true})
				if err != nil {
					if tc.drops >= 0 && d.Name == "f" {
						// deadfield fails where it drops nothing.
						if tc.drops != 0 {
							t.Fatalf("%s: %v", d.Name, err)
						}
					}
					nd = d
				} else if err := ir.ValidateDef(nd); err != nil {
					t.Fatalf("invalid %s: %v\n%s", d.Name, err, ir.PrintDef(nd))
				}
				defs = append(defs, nd)
				if trace == nil {
					continue
				}
				for _, s := range trace.Steps {
					if s.Name == "deadfield" {
						drops++
						b.WriteString(s.String() + "\n")
					}
				}
			}
			switch {
			case tc.drops >= 0 && drops != tc.drops:
				t.Errorf("deadfield pruned %d tuples, want %d", drops, tc.drops)
			case tc.drops < 0 && drops == 0:
				t.Errorf("deadfield pruned nothing in the gradient")
			}
			after := ir.NewProgram(defs)
			b.WriteString("\n")
			for _, d := range after.Defs {
				if strings.HasPrefix(d.Name, "f") || strings.Contains(d.Name, "$vjp") {
					b.WriteString(ir.PrintDef(d))
				}
			}
			golden(t, filepath.Join("testdata", "deadfield", tc.name+".golden"), b.String())
			sameRuns(t, before, after, "f", deadfieldInputs)
		})
	}
}

// sameRuns calls name in both programs with each argument (JSON) and
// wants the same bits or the same first line of error.
func sameRuns(t *testing.T, before, after *ir.Program, name string, inputs []string) {
	t.Helper()
	ib, ia := interpPair(t, before, after)
	params, result, err := ib.Signature(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range inputs {
		if b, a := runJSON(t, ib, name, params, result, in), runJSON(t, ia, name, params, result, in); a != b {
			t.Errorf("%s(%s): before %s, after %s", name, in, b, a)
		}
	}
}

// interpPair makes interpreters of a program before and after a pass.
func interpPair(t *testing.T, before, after *ir.Program) (ib, ia *interp.Interp) {
	t.Helper()
	ib, err := interp.New(before)
	if err != nil {
		t.Fatal(err)
	}
	ia, err = interp.New(after)
	if err != nil {
		t.Fatal(err)
	}
	return ib, ia
}

// runJSON calls name with args (JSON, one per parameter) and gives its
// result as JSON (floats in the shortest form that reads back as the
// same bits) or "error: " and the error's first line.
func runJSON(t *testing.T, it *interp.Interp, name string, params []ir.Type, result ir.Type, args ...string) string {
	t.Helper()
	var vs []runtime.Value
	for i, s := range args {
		v, err := jsonv.Decode(params[i], []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	v, err := it.Call(context.Background(), name, vs, runtime.Limits{})
	if err != nil {
		first, _, _ := strings.Cut(err.Error(), "\n")
		return "error: " + first
	}
	js, _ := jsonv.Encode(result, v)
	return string(js)
}
