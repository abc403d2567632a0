package interp

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

var (
	F = ir.TF64
	I = ir.TI64
	B = ir.TBool
)

type evalCase struct {
	name string
	args []runtime.Value
	want runtime.Value
}

// program is the shared test program: one def per feature, each called by
// one or more cases in TestEval.
func program(b *ir.Builder) []*ir.Def {
	at(b, 1)
	p := b.Prim
	f := func(x float64) ir.Expr { return b.F64(x) }
	var defs []*ir.Def
	add := func(d *ir.Def) *ir.Def { defs = append(defs, d); return d }

	add(b.Def("arith", []string{"x", "y"}, []ir.Type{F, F}, func(v []*ir.Var) ir.Expr {
		// (x*y + 1 - x/y) ^ 2
		return p(ir.PrimPow, p(ir.PrimSub, p(ir.PrimAdd, p(ir.PrimMul, v[0], v[1]), f(1)), p(ir.PrimDiv, v[0], v[1])), f(2))
	}))
	add(b.Def("math", []string{"x", "y"}, []ir.Type{F, F}, func(v []*ir.Var) ir.Expr {
		return p(ir.PrimAdd, p(ir.PrimNeg, p(ir.PrimExp, v[0])), p(ir.PrimSqrt, v[1]))
	}))
	add(b.Def("int", []string{"a", "b"}, []ir.Type{I, I}, func(v []*ir.Var) ir.Expr {
		// (a/b)*10 + a%b - (-a)
		return p(ir.PrimSub, p(ir.PrimAdd, p(ir.PrimMul, p(ir.PrimDiv, v[0], v[1]), b.I64(10)), p(ir.PrimMod, v[0], v[1])), p(ir.PrimNeg, v[0]))
	}))
	add(b.Def("logic", []string{"a", "x"}, []ir.Type{I, F}, func(v []*ir.Var) ir.Expr {
		// (a < 3 && x >= 1) || !(a == 5)
		return p(ir.PrimOr, p(ir.PrimAnd, p(ir.PrimLt, v[0], b.I64(3)), p(ir.PrimGe, v[1], f(1))), p(ir.PrimNot, p(ir.PrimEq, v[0], b.I64(5))))
	}))
	add(b.Def("convert", []string{"i", "x"}, []ir.Type{I, F}, func(v []*ir.Var) ir.Expr {
		// f64(i) * 0.5 + f64(i64(x)), with i64(x) through the primitive's Impl
		return p(ir.PrimAdd, p(ir.PrimMul, p(ir.PrimToF64, v[0]), f(0.5)), p(ir.PrimToF64, p(ir.PrimToI64, v[1])))
	}))
	add(b.Def("letif", []string{"x"}, []ir.Type{F}, func(v []*ir.Var) ir.Expr {
		return b.Let("y", p(ir.PrimMul, v[0], f(2)), func(y *ir.Var) ir.Expr {
			return b.If(p(ir.PrimGt, y, f(3)), y, p(ir.PrimNeg, y))
		})
	}))
	add(b.Def("tuples", []string{"x", "i"}, []ir.Type{F, I}, func(v []*ir.Var) ir.Expr {
		t := b.Tuple(v[0], b.Tuple(v[1], p(ir.PrimMul, v[0], f(2))))
		return b.Let("t", t, func(t *ir.Var) ir.Expr {
			return p(ir.PrimAdd, b.Proj(b.Proj(t, 1), 1), p(ir.PrimToF64, b.Proj(b.Proj(t, 1), 0)))
		})
	}))
	add(b.Def("maketuple", []string{"x"}, []ir.Type{F}, func(v []*ir.Var) ir.Expr {
		return b.Tuple(v[0], b.Tuple(), b.Bool(true))
	}))
	add(b.Def("geom", []string{"n"}, []ir.Type{I}, func(v []*ir.Var) ir.Expr {
		return b.For("s", f(0), "i", v[0], func(s, i *ir.Var) ir.Expr {
			return p(ir.PrimAdd, s, p(ir.PrimPow, f(0.5), p(ir.PrimToF64, i)))
		})
	}))
	add(b.Def("newton_sqrt", []string{"a"}, []ir.Type{F}, func(v []*ir.Var) ir.Expr {
		a := v[0]
		loop := b.While("xk", b.Tuple(a, b.I64(0)),
			func(s *ir.Var) ir.Expr {
				x, k := b.Proj(s, 0), b.Proj(s, 1)
				return p(ir.PrimAnd, p(ir.PrimLt, k, b.I64(50)),
					p(ir.PrimGt, p(ir.PrimAbs, p(ir.PrimSub, p(ir.PrimMul, x, x), a)), p(ir.PrimMul, f(1e-15), a)))
			},
			func(s *ir.Var) ir.Expr {
				x, k := b.Proj(s, 0), b.Proj(s, 1)
				return b.Tuple(p(ir.PrimDiv, p(ir.PrimAdd, x, p(ir.PrimDiv, a, x)), f(2)), p(ir.PrimAdd, k, b.I64(1)))
			})
		return b.Proj(loop, 0)
	}))
	add(b.Def("fib", []string{"n"}, []ir.Type{I}, func(v []*ir.Var) ir.Expr {
		return b.Proj(b.For("ab", b.Tuple(b.I64(0), b.I64(1)), "i", v[0], func(s, i *ir.Var) ir.Expr {
			return b.Tuple(b.Proj(s, 1), p(ir.PrimAdd, b.Proj(s, 0), b.Proj(s, 1)))
		}), 0)
	}))
	add(b.Def("compose", []string{"x"}, []ir.Type{F}, func(v []*ir.Var) ir.Expr {
		fl := b.Lambda([]string{"a"}, []ir.Type{F}, func(a []*ir.Var) ir.Expr { return p(ir.PrimAdd, a[0], f(1)) })
		return b.Let("f", fl, func(fv *ir.Var) ir.Expr {
			gl := b.Lambda([]string{"a"}, []ir.Type{F}, func(a []*ir.Var) ir.Expr { return p(ir.PrimMul, b.Call(fv, a[0]), f(2)) })
			return b.Let("g", gl, func(gv *ir.Var) ir.Expr { return b.Call(gv, b.Call(fv, v[0])) })
		})
	}))
	add(b.Def("curry", []string{"x", "y"}, []ir.Type{F, F}, func(v []*ir.Var) ir.Expr {
		// let k = fn(a) => fn(c) => a*x + c*y in k(2)(3): the inner lambda
		// captures a from the outer lambda and x, y from the def, through it.
		k := b.Lambda([]string{"a"}, []ir.Type{F}, func(a []*ir.Var) ir.Expr {
			return b.Lambda([]string{"c"}, []ir.Type{F}, func(c []*ir.Var) ir.Expr {
				return p(ir.PrimAdd, p(ir.PrimMul, a[0], v[0]), p(ir.PrimMul, c[0], v[1]))
			})
		})
		return b.Let("k", k, func(kv *ir.Var) ir.Expr { return b.Call(b.Call(kv, f(2)), f(3)) })
	}))
	add(b.Def("loop_closures", []string{"n"}, []ir.Type{I}, func(v []*ir.Var) ir.Expr {
		// loop s = 0.0 for i < n do (fn(a) => a + f64(i))(s): a new closure
		// per iteration, each capturing that iteration's i.
		return b.For("s", f(0), "i", v[0], func(s, i *ir.Var) ir.Expr {
			l := b.Lambda([]string{"a"}, []ir.Type{F}, func(a []*ir.Var) ir.Expr { return p(ir.PrimAdd, a[0], p(ir.PrimToF64, i)) })
			return b.Call(l, s)
		})
	}))
	fnFF := &ir.Func{Params: []ir.Type{F}, Result: F}
	twice := add(b.Def("twice", []string{"f", "x"}, []ir.Type{fnFF, F}, func(v []*ir.Var) ir.Expr {
		return b.Call(v[0], b.Call(v[0], v[1]))
	}))
	add(b.Def("use_twice", []string{"x"}, []ir.Type{F}, func(v []*ir.Var) ir.Expr {
		l := b.Lambda([]string{"y"}, []ir.Type{F}, func(y []*ir.Var) ir.Expr { return p(ir.PrimAdd, p(ir.PrimMul, y[0], f(3)), f(1)) })
		return b.Call(b.Global(twice), l, v[0])
	}))
	sq := add(b.Def("sq", []string{"v"}, []ir.Type{F}, func(v []*ir.Var) ir.Expr { return p(ir.PrimMul, v[0], v[0]) }))
	add(b.Def("twice_sq", []string{"x"}, []ir.Type{F}, func(v []*ir.Var) ir.Expr {
		return b.Call(b.Global(twice), b.Global(sq), v[0])
	}))
	c := add(valueDef(b, "c", p(ir.PrimMul, f(2), f(3))))
	add(b.Def("times_c", []string{"x"}, []ir.Type{F}, func(v []*ir.Var) ir.Expr { return p(ir.PrimMul, v[0], b.Global(c)) }))
	add(valueDef(b, "g", b.Lambda([]string{"x"}, []ir.Type{F}, func(v []*ir.Var) ir.Expr { return p(ir.PrimMul, v[0], b.Global(c)) })))
	add(valueDef(b, "h", b.Global(sq)))
	add(valueDef(b, "arr", p(ir.PrimArray, f(1), f(2))))
	add(b.SizedDef("scale", []string{"x", "s"}, []ir.Type{symVec("n", F), F}, func(v, _ []*ir.Var) ir.Expr {
		l := b.Lambda([]string{"e"}, []ir.Type{F}, func(e []*ir.Var) ir.Expr { return p(ir.PrimAdd, p(ir.PrimMul, e[0], v[1]), f(1)) })
		return p(ir.PrimMap, l, v[0])
	}))
	add(b.SizedDef("relu_map", []string{"x"}, []ir.Type{symVec("n", F)}, func(v, _ []*ir.Var) ir.Expr {
		l := b.Lambda([]string{"e"}, []ir.Type{F}, func(e []*ir.Var) ir.Expr { return b.If(p(ir.PrimGt, e[0], f(0)), e[0], f(0)) })
		return p(ir.PrimMap, l, v[0])
	}))
	add(b.SizedDef("map_def", []string{"x"}, []ir.Type{symVec("n", F)}, func(v, _ []*ir.Var) ir.Expr {
		return p(ir.PrimMap, b.Global(sq), v[0])
	}))
	add(b.SizedDef("dotn", []string{"x", "y"}, []ir.Type{symVec("n", F), symVec("n", F)}, func(v, n []*ir.Var) ir.Expr {
		return p(ir.PrimAdd, p(ir.PrimToF64, n[0]), p(ir.PrimSum, p(ir.PrimMul, v[0], v[1])))
	}))
	// def first(n: i64, x: [n]f64) = x[n - 1]: n is a parameter used as a
	// dimension.
	first := b.Def("lastn", []string{"n", "x"}, []ir.Type{I, symVec("n", F)}, func(v []*ir.Var) ir.Expr {
		return p(ir.PrimIndex, v[1], p(ir.PrimSub, v[0], b.I64(1)))
	})
	first.SizeVars = []ir.SizeVar{{Var: first.Params[0], Param: -1, Checks: []ir.DimRef{{Param: 1, Axis: 0, P: pos(40)}}}}
	add(first)
	return defs
}

func TestEval(t *testing.T) {
	var b ir.Builder
	it := mustNew(t, program(&b)...)
	F64, I64, Bool := runtime.F64, runtime.I64, runtime.Bool
	cases := []evalCase{
		{"arith", []runtime.Value{F64(3), F64(2)}, F64(30.25)},
		{"math", []runtime.Value{F64(0), F64(4)}, F64(1)},
		{"int", []runtime.Value{I64(7), I64(2)}, I64(38)},
		{"int", []runtime.Value{I64(-7), I64(2)}, I64(-38)},
		{"logic", []runtime.Value{I64(5), F64(0.5)}, Bool(false)},
		{"logic", []runtime.Value{I64(2), F64(1)}, Bool(true)},
		{"logic", []runtime.Value{I64(4), F64(0)}, Bool(true)},
		{"convert", []runtime.Value{I64(3), F64(-2.7)}, F64(-0.5)},
		{"letif", []runtime.Value{F64(1)}, F64(-2)},
		{"letif", []runtime.Value{F64(2)}, F64(4)},
		{"tuples", []runtime.Value{F64(1.5), I64(2)}, F64(5)},
		{"maketuple", []runtime.Value{F64(1.5)}, runtime.Tup(F64(1.5), runtime.Tup(), Bool(true))},
		{"geom", []runtime.Value{I64(10)}, F64(1.998046875)},
		{"geom", []runtime.Value{I64(0)}, F64(0)},
		{"geom", []runtime.Value{I64(-3)}, F64(0)},
		{"newton_sqrt", []runtime.Value{F64(2)}, F64(1.414213562373095)},
		{"fib", []runtime.Value{I64(50)}, I64(12586269025)},
		{"fib", []runtime.Value{I64(0)}, I64(0)},
		{"compose", []runtime.Value{F64(1)}, F64(6)},
		{"curry", []runtime.Value{F64(1), F64(10)}, F64(32)},
		{"loop_closures", []runtime.Value{I64(5)}, F64(10)},
		{"use_twice", []runtime.Value{F64(2)}, F64(22)},
		{"twice_sq", []runtime.Value{F64(3)}, F64(81)},
		{"times_c", []runtime.Value{F64(2)}, F64(12)},
		{"c", nil, F64(6)},
		{"g", []runtime.Value{F64(2)}, F64(12)},
		{"h", []runtime.Value{F64(3)}, F64(9)},
		{"arr", nil, f64s(1, 2)},
		{"scale", []runtime.Value{f64s(1, -2, 3), F64(2)}, f64s(3, -3, 7)},
		{"scale", []runtime.Value{f64s(), F64(2)}, f64s()},
		{"relu_map", []runtime.Value{f64s(1, -2, 3)}, f64s(1, 0, 3)},
		{"map_def", []runtime.Value{f64s(1, -2, 3)}, f64s(1, 4, 9)},
		{"dotn", []runtime.Value{f64s(1, 2), f64s(3, 4)}, F64(13)},
		{"lastn", []runtime.Value{I64(3), f64s(1, 2, 5)}, F64(5)},
	}
	for _, c := range cases {
		v, err := it.Call(context.Background(), c.name, c.args, runtime.Limits{})
		if err != nil {
			t.Errorf("%s%s: %v", c.name, show(runtime.Tup(c.args...)), err)
			continue
		}
		if !same(v, c.want) {
			t.Errorf("%s%s = %s, want %s", c.name, show(runtime.Tup(c.args...)), show(v), show(c.want))
		}
	}
}

func TestSignature(t *testing.T) {
	var b ir.Builder
	it := mustNew(t, program(&b)...)
	for _, c := range []struct{ name, params, result string }{
		{"arith", "f64 f64", "f64"},
		{"twice", "f64 -> f64 f64", "f64"},
		{"g", "f64", "f64"}, // a value def of function type: the function's signature
		{"c", "", "f64"},
		{"scale", "[n]f64 f64", "[n]f64"},
	} {
		ps, r, err := it.Signature(c.name)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var names []string
		for _, p := range ps {
			names = append(names, p.String())
		}
		if got := strings.Join(names, " "); got != c.params || r.String() != c.result {
			t.Errorf("Signature(%s) = (%s) %s, want (%s) %s", c.name, got, r, c.params, c.result)
		}
	}
	if _, _, err := it.Signature("nope"); err == nil {
		t.Error("Signature of an unknown def: no error")
	}
}

// TestRunTimeErrors checks message, position and frames of errors raised
// at different depths.
func TestRunTimeErrors(t *testing.T) {
	var b ir.Builder
	at(&b, 1)
	p := b.Prim
	// def sizes(x: [n]f64, y: [n]f64) = x + y      (line 1; y's dimension checked at line 2)
	sizes := b.SizedDef("sizes", []string{"x", "y"}, []ir.Type{symVec("n", F), symVec("n", F)}, func(v, _ []*ir.Var) ir.Expr {
		return p(ir.PrimAdd, v[0], v[1])
	})
	sizes.SizeVars[0].Checks[0].P = pos(2)
	// def get(x: [n]f64, i: i64) = x[i]           (def at line 10, index at line 11)
	at(&b, 11)
	index := func(x, i ir.Expr) ir.Expr { return p(ir.PrimIndex, x, i) }
	at(&b, 10)
	get := b.Def("get", []string{"x", "i"}, []ir.Type{vec(F), I}, func(v []*ir.Var) ir.Expr {
		at(&b, 11)
		e := index(v[0], v[1])
		at(&b, 10)
		return e
	})
	// def outer(x: [n]f64) = 1.0 + get(x, 5)       (def at line 20, call at line 21)
	at(&b, 20)
	outer := b.Def("outer", []string{"x"}, []ir.Type{vec(F)}, func(v []*ir.Var) ir.Expr {
		at(&b, 21)
		e := b.Call(b.Global(get), v[0], b.I64(5))
		at(&b, 20)
		return p(ir.PrimAdd, b.F64(1), e)
	})
	// def quot(a: i64, b: i64) = a / b             (division at line 31)
	at(&b, 30)
	quot := b.Def("quot", []string{"a", "b"}, []ir.Type{I, I}, func(v []*ir.Var) ir.Expr {
		at(&b, 31)
		e := p(ir.PrimDiv, v[0], v[1])
		at(&b, 30)
		return e
	})
	// def quots(a: [n]i64, b: [n]i64) = map(fn(u, v) => u / v, a, b)   (lambda body at line 36, map at 35)
	at(&b, 35)
	quots := b.Def("quots", []string{"a", "b"}, []ir.Type{vec(I), vec(I)}, func(v []*ir.Var) ir.Expr {
		l := b.Lambda([]string{"u", "w"}, []ir.Type{I, I}, func(u []*ir.Var) ir.Expr {
			at(&b, 36)
			e := b.If(p(ir.PrimLt, u[0], b.I64(0)), b.I64(0), p(ir.PrimDiv, u[0], u[1])) // not batchable: per element
			at(&b, 35)
			return e
		})
		return p(ir.PrimMap, l, v[0], v[1])
	})
	// def bad = 1 / 0 (line 45); def use_bad(x: i64) = x + bad (line 46, the reference at 47)
	at(&b, 45)
	bad := valueDef(&b, "bad", p(ir.PrimDiv, b.I64(1), b.I64(0)))
	at(&b, 46)
	useBad := b.Def("use_bad", []string{"x"}, []ir.Type{I}, func(v []*ir.Var) ir.Expr {
		at(&b, 47)
		g := b.Global(bad)
		at(&b, 46)
		return p(ir.PrimAdd, v[0], g)
	})
	// def fixed(x: [3]f64) = sum(x) (line 50)
	at(&b, 50)
	fixed := b.Def("fixed", []string{"x"}, []ir.Type{vecN(3, F)}, func(v []*ir.Var) ir.Expr { return p(ir.PrimSum, v[0]) })
	it := mustNew(t, sizes, get, outer, quot, quots, bad, useBad, fixed)

	cases := []struct {
		name   string
		args   []runtime.Value
		pos    ir.Pos
		msg    string // a substring of the message
		frames []ir.Frame
	}{
		{"sizes", []runtime.Value{f64s(1, 2), f64s(1, 2, 3)}, pos(2), "size mismatch: n is 2 (x) but y has size 3",
			[]ir.Frame{{Def: "sizes", DefPos: pos(1)}}},
		{"get", []runtime.Value{f64s(1, 2), runtime.I64(2)}, pos(11), "out of range",
			[]ir.Frame{{Def: "get", DefPos: pos(10)}}},
		{"outer", []runtime.Value{f64s(1, 2)}, pos(11), "out of range",
			[]ir.Frame{{Def: "get", DefPos: pos(10), Call: pos(21)}, {Def: "outer", DefPos: pos(20)}}},
		{"quot", []runtime.Value{runtime.I64(1), runtime.I64(0)}, pos(31), "integer division by zero",
			[]ir.Frame{{Def: "quot", DefPos: pos(30)}}},
		{"quots", []runtime.Value{i64s(4, 5), i64s(2, 0)}, pos(36), "integer division by zero",
			[]ir.Frame{{Def: "quots", DefPos: pos(35)}}},
		{"use_bad", []runtime.Value{runtime.I64(1)}, pos(45), "integer division by zero",
			[]ir.Frame{{Def: "bad", DefPos: pos(45), Call: pos(47)}, {Def: "use_bad", DefPos: pos(46)}}},
		{"bad", nil, pos(45), "integer division by zero",
			[]ir.Frame{{Def: "bad", DefPos: pos(45)}}},
		{"fixed", []runtime.Value{f64s(1, 2)}, pos(50), "argument 1 (x) of fixed: want [3]f64, got an array [2]f64", nil},
		{"fixed", []runtime.Value{i64s(1, 2, 3)}, pos(50), "want [3]f64, got an array [3]i64", nil},
		{"fixed", nil, pos(50), "fixed takes 1 argument, got 0", nil},
		{"get", []runtime.Value{runtime.F64(1), runtime.I64(0)}, pos(10), "want [?]f64, got a scalar", nil},
	}
	for _, c := range cases {
		// Twice: the second time a value def's error comes from its cache
		// and must read the same.
		for range 2 {
			e, _ := callErr(t, it, c.name, runtime.Limits{}, c.args...)
			if e.Pos != c.pos || !strings.Contains(e.Msg, c.msg) {
				t.Errorf("%s: error %q at %s, want %q at %s", c.name, e.Msg, e.Pos, c.msg, c.pos)
			}
			if c.frames == nil {
				c.frames = []ir.Frame{{Def: c.name, DefPos: e.Frames[len(e.Frames)-1].DefPos}}
			}
			wantFrames(t, e, c.frames...)
		}
	}
}

// TestFixedSizeInternal checks a constant dimension on an internal call,
// where only the run time knows the argument's size.
func TestFixedSizeInternal(t *testing.T) {
	var b ir.Builder
	at(&b, 1)
	fixed := b.Def("fixed", []string{"x"}, []ir.Type{vecN(3, F)}, func(v []*ir.Var) ir.Expr { return b.Prim(ir.PrimSum, v[0]) })
	at(&b, 5)
	caller := b.Def("caller", []string{"x"}, []ir.Type{vec(F)}, func(v []*ir.Var) ir.Expr { return b.Call(b.Global(fixed), v[0]) })
	it := mustNew(t, fixed, caller)
	e, _ := callErr(t, it, "caller", runtime.Limits{}, f64s(1, 2))
	if want := "size mismatch: x has size 2 but its type [3]f64 says 3"; e.Msg != want || e.Pos != pos(1) {
		t.Errorf("got %q at %s, want %q at %s", e.Msg, e.Pos, want, pos(1))
	}
	wantFrames(t, e, ir.Frame{Def: "fixed", DefPos: pos(1), Call: pos(5)}, ir.Frame{Def: "caller", DefPos: pos(5)})
	if v := call(t, it, "caller", f64s(1, 2, 3)); v.F != 6 {
		t.Errorf("caller = %v, want 6", v.F)
	}
}

func TestLimitsAndCancellation(t *testing.T) {
	var b ir.Builder
	at(&b, 1)
	p := b.Prim
	// def spin(x: f64) = loop s = x while true do s + 1.0   (loop at line 2)
	spin := b.Def("spin", []string{"x"}, []ir.Type{F}, func(v []*ir.Var) ir.Expr {
		at(&b, 2)
		l := b.While("s", v[0], func(*ir.Var) ir.Expr { return b.Bool(true) }, func(s *ir.Var) ir.Expr { return p(ir.PrimAdd, s, b.F64(1)) })
		at(&b, 1)
		return l
	})
	// def big(n: i64) = zeros(n)
	big := b.Def("big", []string{"n"}, []ir.Type{I}, func(v []*ir.Var) ir.Expr { return p(ir.PrimZeros, v[0]) })
	// def slow = loop s = 0 for i < 1000 do s + i: a value def that needs steps
	slow := valueDef(&b, "slow", b.For("s", b.I64(0), "i", b.I64(1000), func(s, i *ir.Var) ir.Expr { return p(ir.PrimAdd, s, i) }))
	it := mustNew(t, spin, big, slow)

	t.Run("steps", func(t *testing.T) {
		e, err := callErr(t, it, "spin", runtime.Limits{Steps: 10000}, runtime.F64(0))
		if !errors.Is(err, runtime.ErrStepLimit) {
			t.Errorf("error %v does not wrap ErrStepLimit", err)
		}
		if e.Pos != pos(2) {
			t.Errorf("step limit reported at %s, want the loop at %s", e.Pos, pos(2))
		}
	})
	t.Run("memory", func(t *testing.T) {
		_, err := callErr(t, it, "big", runtime.Limits{Memory: 1000}, runtime.I64(1000))
		if !errors.Is(err, runtime.ErrMemoryLimit) {
			t.Errorf("error %v does not wrap ErrMemoryLimit", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(20 * time.Millisecond); cancel() }()
		_, err := it.Call(ctx, "spin", []runtime.Value{runtime.F64(0)}, runtime.Limits{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v does not wrap context.Canceled", err)
		}
		var ie *ir.Error
		if !errors.As(err, &ie) || ie.Pos != pos(2) {
			t.Errorf("cancellation %v not positioned at the loop", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := it.Call(ctx, "spin", []runtime.Value{runtime.F64(0)}, runtime.Limits{})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v does not wrap context.DeadlineExceeded", err)
		}
	})
	t.Run("value def retried after a limit", func(t *testing.T) {
		// The value def fails under a small step limit; that failure belongs
		// to the call, so a later call with room evaluates it.
		_, err := callErr(t, it, "slow", runtime.Limits{Steps: 10})
		if !errors.Is(err, runtime.ErrStepLimit) {
			t.Fatalf("error %v does not wrap ErrStepLimit", err)
		}
		if v := call(t, it, "slow"); v.I != 499500 {
			t.Errorf("slow = %d, want 499500", v.I)
		}
	})
}

// TestConcurrentCalls runs many calls at once (run with -race): value defs
// are evaluated once and shared, closures and frames are per call.
func TestConcurrentCalls(t *testing.T) {
	var b ir.Builder
	defs := program(&b)
	it := mustNew(t, defs...)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 50 {
				x := float64(g*100 + k)
				if v, err := it.Call(context.Background(), "g", []runtime.Value{runtime.F64(x)}, runtime.Limits{}); err != nil || v.F != 6*x {
					errs <- "g: wrong result or error " + show(v)
					return
				}
				if v, err := it.Call(context.Background(), "scale", []runtime.Value{f64s(x, 1), runtime.F64(2)}, runtime.Limits{}); err != nil || !same(v, f64s(2*x+1, 3)) {
					errs <- "scale: wrong result " + show(v)
					return
				}
				if v, err := it.Call(context.Background(), "curry", []runtime.Value{runtime.F64(x), runtime.F64(1)}, runtime.Limits{}); err != nil || v.F != 2*x+3 {
					errs <- "curry: wrong result " + show(v)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestValueDefOnce evaluates a value def from many goroutines at once: all
// get the same array (one evaluation), concurrently.
func TestValueDefOnce(t *testing.T) {
	var b ir.Builder
	at(&b, 1)
	arr := valueDef(&b, "arr", b.Prim(ir.PrimIota, b.I64(1000)))
	it := mustNew(t, arr)
	var wg sync.WaitGroup
	results := make([]*runtime.Array, 64)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := it.Call(context.Background(), "arr", nil, runtime.Limits{})
			if err == nil {
				results[i] = v.Array()
			}
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r == nil || r != results[0] {
			t.Fatalf("call %d got %p, want the one cached array %p", i, r, results[0])
		}
	}
	if r := results[0]; r.Len() != 1000 || r.I[999] != 999 {
		t.Errorf("arr = %v...", r.I[:3])
	}
}

// panicPrim is a primitive whose evaluator panics, standing in for a bug
// in a primitive.
var panicPrim = ir.Register(&ir.Prim{Name: "interp_test_panic", Arity: 1,
	Type: func(args []ir.Type, _ any) (ir.Type, error) { return args[0], nil },
	Eval: func(*ir.Site) (ir.Impl, error) {
		return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
			var a []int
			return runtime.I64(int64(a[args[0].I])), nil
		}, nil
	}})

func TestPanicInPrimitive(t *testing.T) {
	var b ir.Builder
	at(&b, 1)
	d := b.Def("boom", []string{"i"}, []ir.Type{I}, func(v []*ir.Var) ir.Expr {
		at(&b, 2)
		e := b.Prim(panicPrim, v[0])
		at(&b, 1)
		return e
	})
	it := mustNew(t, d)
	e, _ := callErr(t, it, "boom", runtime.Limits{}, runtime.I64(3))
	if e.Pos != pos(2) || !strings.HasPrefix(e.Msg, "internal error: ") || !strings.Contains(e.Msg, "index out of range") {
		t.Errorf("got %q at %s, want an internal error at %s", e.Msg, e.Pos, pos(2))
	}
	wantFrames(t, e, ir.Frame{Def: "boom", DefPos: pos(1)})
}

func TestADNotAvailable(t *testing.T) {
	var b ir.Builder
	at(&b, 1)
	// def dsq(x: f64) = grad(fn(y) => y * y)(x)   (grad at line 2)
	d := b.Def("dsq", []string{"x"}, []ir.Type{F}, func(v []*ir.Var) ir.Expr {
		l := b.Lambda([]string{"y"}, []ir.Type{F}, func(y []*ir.Var) ir.Expr { return b.Prim(ir.PrimMul, y[0], y[0]) })
		at(&b, 2)
		g := b.Prim(ir.PrimGrad, l)
		at(&b, 1)
		return b.Call(g, v[0])
	})
	// def df = grad(sq)   (line 5): a value def, evaluated on use
	at(&b, 4)
	sq := b.Def("sq", []string{"y"}, []ir.Type{F}, func(y []*ir.Var) ir.Expr { return b.Prim(ir.PrimMul, y[0], y[0]) })
	at(&b, 5)
	df := valueDef(&b, "df", b.Prim(ir.PrimGrad, b.Global(sq)))
	it := mustNew(t, d, sq, df) // New must not fail
	for _, c := range []struct {
		name string
		pos  ir.Pos
	}{{"dsq", pos(2)}, {"df", pos(5)}} {
		e, _ := callErr(t, it, c.name, runtime.Limits{}, runtime.F64(1))
		if want := "grad: automatic differentiation is not available yet in this build"; e.Msg != want || e.Pos != c.pos {
			t.Errorf("%s: got %q at %s, want %q at %s", c.name, e.Msg, e.Pos, want, c.pos)
		}
	}
	if v := call(t, it, "sq", runtime.F64(3)); v.F != 9 {
		t.Errorf("sq(3) = %v", v.F)
	}
}

func TestNewErrors(t *testing.T) {
	var b ir.Builder
	at(&b, 1)
	// Mutual recursion through Globals (the checker rejects it; New must too).
	fa := &ir.Def{Name: "fa", Params: []*ir.Var{b.Var("x", F)}, HasParams: true, Result: F, P: pos(1)}
	fb := &ir.Def{Name: "fb", Params: []*ir.Var{b.Var("x", F)}, HasParams: true, Result: F, P: pos(2)}
	fnT := &ir.Func{Params: []ir.Type{F}, Result: F}
	fa.Body = &ir.Call{Fn: &ir.Global{Name: "fb", T: fnT, P: pos(1)}, Args: []ir.Expr{fa.Params[0]}, T: F, P: pos(1)}
	fb.Body = &ir.Call{Fn: &ir.Global{Name: "fa", T: fnT, P: pos(2)}, Args: []ir.Expr{fb.Params[0]}, T: F, P: pos(2)}
	if _, err := New(ir.NewProgram([]*ir.Def{fa, fb})); err == nil || !strings.Contains(err.Error(), "recursion") {
		t.Errorf("recursion: got %v", err)
	}
	// A variable out of scope.
	stray := b.Var("stray", F)
	d := &ir.Def{Name: "d", Params: []*ir.Var{b.Var("x", F)}, HasParams: true, Result: F, Body: stray, P: pos(3)}
	if _, err := New(ir.NewProgram([]*ir.Def{d})); err == nil || !strings.Contains(err.Error(), "stray") {
		t.Errorf("unbound variable: got %v", err)
	}
	// An unknown def.
	u := &ir.Def{Name: "u", Params: []*ir.Var{b.Var("x", F)}, HasParams: true, Result: F, P: pos(4),
		Body: &ir.Call{Fn: &ir.Global{Name: "nowhere", T: fnT, P: pos(4)}, Args: []ir.Expr{b.F64(1)}, T: F, P: pos(4)}}
	if _, err := New(ir.NewProgram([]*ir.Def{u})); err == nil || !strings.Contains(err.Error(), "nowhere") {
		t.Errorf("unknown def: got %v", err)
	}
}

func TestCallUnknownAndArity(t *testing.T) {
	var b ir.Builder
	it := mustNew(t, program(&b)...)
	if _, err := it.Call(context.Background(), "nope", nil, runtime.Limits{}); err == nil {
		t.Error("unknown def: no error")
	}
	if _, err := it.Call(context.Background(), "c", []runtime.Value{runtime.F64(1)}, runtime.Limits{}); err == nil {
		t.Error("arguments to a value: no error")
	}
	if _, err := it.Call(context.Background(), "g", nil, runtime.Limits{}); err == nil {
		t.Error("function value def called without its argument: no error")
	}
}

// TestBatching checks which functions batch and that batched results equal
// per-element results.
func TestBatching(t *testing.T) {
	var b ir.Builder
	at(&b, 1)
	p := b.Prim
	f := b.F64
	sq := b.Def("sq", []string{"v"}, []ir.Type{F}, func(v []*ir.Var) ir.Expr { return p(ir.PrimMul, v[0], v[0]) })
	one := b.Def("one", []string{"v"}, []ir.Type{F}, func(v []*ir.Var) ir.Expr { return f(1) })
	k := valueDef(&b, "k", f(0.5))
	// lambdas(s: f64, r: [m]f64) = (...): function values to inspect.
	lambdas := b.Def("lambdas", []string{"s", "row"}, []ir.Type{F, vec(F)}, func(v []*ir.Var) ir.Expr {
		s, row := v[0], v[1]
		lam := func(names []string, ts []ir.Type, body func(x []*ir.Var) ir.Expr) ir.Expr {
			return b.Lambda(names, ts, body)
		}
		return b.Tuple(
			// 0: batchable: elementwise, scalar free variable, value def, let, def call
			lam([]string{"x"}, []ir.Type{F}, func(x []*ir.Var) ir.Expr {
				return b.Let("t", p(ir.PrimMul, x[0], s), func(t *ir.Var) ir.Expr {
					return p(ir.PrimAdd, p(ir.PrimAdd, t, b.Global(k)), b.Call(b.Global(sq), x[0]))
				})
			}),
			// 1: batchable: constant result, broadcast
			lam([]string{"x"}, []ir.Type{F}, func(x []*ir.Var) ir.Expr { return p(ir.PrimMul, s, f(2)) }),
			// 2: not batchable: if
			lam([]string{"x"}, []ir.Type{F}, func(x []*ir.Var) ir.Expr { return b.If(p(ir.PrimGt, x[0], f(0)), x[0], f(0)) }),
			// 3: not batchable: an array free variable
			lam([]string{"x"}, []ir.Type{vec(F)}, func(x []*ir.Var) ir.Expr { return p(ir.PrimMul, x[0], row) }),
			// 4: not batchable: a varying scalar meets a varying array
			lam([]string{"x", "y"}, []ir.Type{vec(F), F}, func(x []*ir.Var) ir.Expr { return p(ir.PrimMul, x[0], x[1]) }),
			// 5: batchable: an array parameter times a scalar free variable
			lam([]string{"x"}, []ir.Type{vec(F)}, func(x []*ir.Var) ir.Expr { return p(ir.PrimMul, x[0], s) }),
			// 6: batchable: a def with a constant result, called on a constant
			lam([]string{"x", "i"}, []ir.Type{F, I}, func(x []*ir.Var) ir.Expr {
				return p(ir.PrimAdd, p(ir.PrimMul, b.Call(b.Global(one), x[0]), p(ir.PrimToF64, x[1])), b.Call(b.Global(sq), f(3)))
			}),
		)
	})
	it := mustNew(t, sq, one, k, lambdas)
	fs := call(t, it, "lambdas", runtime.F64(2), f64s(1, 2)).Tuple()
	m := runtime.NewMachine(context.Background(), runtime.Limits{})
	mat := runtime.Arr(&runtime.Array{Shape: []int{2, 2}, Kind: runtime.ElemF64, F: []float64{1, 2, 3, 4}})
	for _, c := range []struct {
		fn   int
		args []runtime.Value
		ok   bool
		want runtime.Value
	}{
		{0, []runtime.Value{f64s(1, 2, 3)}, true, f64s(3.5, 8.5, 15.5)},
		{1, []runtime.Value{f64s(1, 2, 3)}, true, f64s(4, 4, 4)},
		{2, []runtime.Value{f64s(1, -2)}, false, runtime.Value{}},
		{3, []runtime.Value{mat}, false, runtime.Value{}},
		{4, []runtime.Value{mat, f64s(1, 2)}, false, runtime.Value{}},
		{5, []runtime.Value{mat}, true, runtime.Arr(&runtime.Array{Shape: []int{2, 2}, Kind: runtime.ElemF64, F: []float64{2, 4, 6, 8}})},
		{6, []runtime.Value{f64s(1, 2), i64s(3, 4)}, true, f64s(12, 13)},
	} {
		bf, isBatch := fs[c.fn].R.(runtime.BatchFunc)
		if !isBatch {
			t.Fatalf("function %d is not a BatchFunc", c.fn)
		}
		v, ok, err := bf.CallBatch(m, c.args[0].Array().Len(), c.args)
		if err != nil || ok != c.ok {
			t.Errorf("function %d: CallBatch ok=%v err=%v, want ok=%v", c.fn, ok, err, c.ok)
			continue
		}
		if ok && !same(v, c.want) {
			t.Errorf("function %d: CallBatch = %s, want %s", c.fn, show(v), show(c.want))
		}
	}
	// Defs used as values batch too.
	sqv := &defFunc{code: it.defs["sq"], pos: pos(1)}
	v, ok, err := sqv.CallBatch(m, 3, []runtime.Value{f64s(1, 2, 3)})
	if !ok || err != nil || !same(v, f64s(1, 4, 9)) {
		t.Errorf("sq batched: %s ok=%v err=%v", show(v), ok, err)
	}
}

// TestMapBatchedMatchesScalar compares a batched map with the same lambda
// applied element by element, on values where rounding would show any
// difference in evaluation order.
func TestMapBatchedMatchesScalar(t *testing.T) {
	var b ir.Builder
	at(&b, 1)
	p := b.Prim
	body := func(x, s ir.Expr) ir.Expr {
		return p(ir.PrimAdd, p(ir.PrimMul, p(ir.PrimSin, x), s), p(ir.PrimDiv, p(ir.PrimExp, p(ir.PrimNeg, x)), p(ir.PrimAdd, x, b.F64(3))))
	}
	d := b.Def("m", []string{"x", "s"}, []ir.Type{vec(F), F}, func(v []*ir.Var) ir.Expr {
		return p(ir.PrimMap, b.Lambda([]string{"e"}, []ir.Type{F}, func(e []*ir.Var) ir.Expr { return body(e[0], v[1]) }), v[0])
	})
	e := b.Def("e", []string{"x", "s"}, []ir.Type{F, F}, func(v []*ir.Var) ir.Expr { return body(v[0], v[1]) })
	it := mustNew(t, d, e)
	xs := make([]float64, 257)
	for i := range xs {
		xs[i] = math.Sin(float64(i)) * 2
	}
	got := call(t, it, "m", f64s(xs...), runtime.F64(1.7)).Array()
	for i, x := range xs {
		if w := call(t, it, "e", runtime.F64(x), runtime.F64(1.7)).F; got.F[i] != w {
			t.Fatalf("element %d: batched %v, scalar %v", i, got.F[i], w)
		}
	}
}

// TestFramesReused checks that recycled frames leave no trace: closures
// made by a def outlive its frame, and calls nested in the arguments of
// calls get frames of their own.
func TestFramesReused(t *testing.T) {
	var b ir.Builder
	at(&b, 1)
	p := b.Prim
	// def adder(a: f64) = fn(x: f64) => x + a
	adder := b.Def("adder", []string{"a"}, []ir.Type{F}, func(v []*ir.Var) ir.Expr {
		return b.Lambda([]string{"x"}, []ir.Type{F}, func(x []*ir.Var) ir.Expr { return p(ir.PrimAdd, x[0], v[0]) })
	})
	// def use(x: f64) = let f = adder(1.0) in let g = adder(2.0) in f(x) * g(x)
	use := b.Def("use", []string{"x"}, []ir.Type{F}, func(v []*ir.Var) ir.Expr {
		return b.Let("f", b.Call(b.Global(adder), b.F64(1)), func(f *ir.Var) ir.Expr {
			return b.Let("g", b.Call(b.Global(adder), b.F64(2)), func(g *ir.Var) ir.Expr {
				return p(ir.PrimMul, b.Call(f, v[0]), b.Call(g, v[0]))
			})
		})
	})
	// def sub3(a: f64, b: f64, c: f64) = a - b - c
	sub3 := b.Def("sub3", []string{"a", "b", "c"}, []ir.Type{F, F, F}, func(v []*ir.Var) ir.Expr {
		return p(ir.PrimSub, p(ir.PrimSub, v[0], v[1]), v[2])
	})
	// def nest(x: f64) = sub3(sub3(x, 1, 2), sub3(10, x, 0), (adder(x))(5))
	nest := b.Def("nest", []string{"x"}, []ir.Type{F}, func(v []*ir.Var) ir.Expr {
		s := b.Global(sub3)
		return b.Call(s, b.Call(s, v[0], b.F64(1), b.F64(2)), b.Call(s, b.F64(10), v[0], b.F64(0)), b.Call(b.Call(b.Global(adder), v[0]), b.F64(5)))
	})
	// def mapadd(xs: [n]f64, a: f64) = map(adder(a), xs): a closure made by
	// a def, applied by a primitive.
	mapadd := b.Def("mapadd", []string{"xs", "a"}, []ir.Type{vec(F), F}, func(v []*ir.Var) ir.Expr {
		return p(ir.PrimMap, b.Call(b.Global(adder), v[1]), v[0])
	})
	it := mustNew(t, adder, use, sub3, nest, mapadd)
	if v := call(t, it, "use", runtime.F64(3)); v.F != 20 {
		t.Errorf("use(3) = %v, want 20", v.F)
	}
	// sub3(4-1-2, 10-4-0, 4+5) = 1 - 6 - 9
	if v := call(t, it, "nest", runtime.F64(4)); v.F != -14 {
		t.Errorf("nest(4) = %v, want -14", v.F)
	}
	if v := call(t, it, "mapadd", f64s(1, 2), runtime.F64(0.5)); !same(v, f64s(1.5, 2.5)) {
		t.Errorf("mapadd = %s", show(v))
	}
}

// TestErrorsThroughFunctionValues checks positions and frames of errors
// raised inside functions applied as values: by a Call node, by a
// primitive, and inside a batched body.
func TestErrorsThroughFunctionValues(t *testing.T) {
	var b ir.Builder
	p := b.Prim
	// def get(x: [n]f64, i: i64) = x[i]                  (line 1, index at 2)
	at(&b, 1)
	get := b.Def("get", []string{"x", "i"}, []ir.Type{vec(F), I}, func(v []*ir.Var) ir.Expr {
		at(&b, 2)
		e := p(ir.PrimIndex, v[0], v[1])
		at(&b, 1)
		return e
	})
	// def apply(f: ([n]f64, i64) -> f64, x: [n]f64) = f(x, 9)   (line 5, call at 6)
	at(&b, 5)
	fT := &ir.Func{Params: []ir.Type{vec(F), I}, Result: F}
	apply := b.Def("apply", []string{"f", "x"}, []ir.Type{fT, vec(F)}, func(v []*ir.Var) ir.Expr {
		at(&b, 6)
		e := b.Call(v[0], v[1], b.I64(9))
		at(&b, 5)
		return e
	})
	// def top(x: [n]f64) = apply(get, x)                 (line 10, get referenced at 11, apply called at 12)
	at(&b, 10)
	top := b.Def("top", []string{"x"}, []ir.Type{vec(F)}, func(v []*ir.Var) ir.Expr {
		at(&b, 11)
		g := b.Global(get)
		at(&b, 12)
		e := b.Call(b.Global(apply), g, v[0])
		at(&b, 10)
		return e
	})
	// def quot(u: i64, w: i64) = u / w                   (line 20, division at 21)
	at(&b, 20)
	quot := b.Def("quot", []string{"u", "w"}, []ir.Type{I, I}, func(v []*ir.Var) ir.Expr {
		at(&b, 21)
		e := p(ir.PrimDiv, v[0], v[1])
		at(&b, 20)
		return e
	})
	// def quots(a: [n]i64, c: [n]i64) = map(quot, a, c)    (line 25, quot referenced at 26)
	at(&b, 25)
	quots := b.Def("quots", []string{"a", "c"}, []ir.Type{vec(I), vec(I)}, func(v []*ir.Var) ir.Expr {
		at(&b, 26)
		g := b.Global(quot)
		at(&b, 25)
		return p(ir.PrimMap, g, v[0], v[1])
	})
	// def lquots(a: [n]i64, c: [n]i64) = map(fn(u, w) => u / w, a, c)   (line 30, division at 31): batched
	at(&b, 30)
	lquots := b.Def("lquots", []string{"a", "c"}, []ir.Type{vec(I), vec(I)}, func(v []*ir.Var) ir.Expr {
		l := b.Lambda([]string{"u", "w"}, []ir.Type{I, I}, func(u []*ir.Var) ir.Expr {
			at(&b, 31)
			e := p(ir.PrimDiv, u[0], u[1])
			at(&b, 30)
			return e
		})
		return p(ir.PrimMap, l, v[0], v[1])
	})
	it := mustNew(t, get, apply, top, quot, quots, lquots)
	for _, c := range []struct {
		name   string
		args   []runtime.Value
		pos    ir.Pos
		msg    string
		frames []ir.Frame
	}{
		{"top", []runtime.Value{f64s(1, 2)}, pos(2), "out of range", []ir.Frame{
			{Def: "get", DefPos: pos(1), Call: pos(6)},
			{Def: "apply", DefPos: pos(5), Call: pos(12)},
			{Def: "top", DefPos: pos(10)},
		}},
		{"quots", []runtime.Value{i64s(1, 2), i64s(1, 0)}, pos(21), "integer division by zero", []ir.Frame{
			{Def: "quot", DefPos: pos(20), Call: pos(26)},
			{Def: "quots", DefPos: pos(25)},
		}},
		{"lquots", []runtime.Value{i64s(1, 2), i64s(1, 0)}, pos(31), "integer division by zero", []ir.Frame{
			{Def: "lquots", DefPos: pos(30)},
		}},
	} {
		e, _ := callErr(t, it, c.name, runtime.Limits{}, c.args...)
		if e.Pos != c.pos || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("%s: error %q at %s, want %q at %s", c.name, e.Msg, e.Pos, c.msg, c.pos)
		}
		wantFrames(t, e, c.frames...)
	}
	if v := call(t, it, "lquots", i64s(7, -7), i64s(2, 2)); !same(v, i64s(3, -3)) {
		t.Errorf("lquots = %s", show(v))
	}
}

// goFunc is a function value implemented in Go, as an embedder might pass
// one.
type goFunc func(args []runtime.Value) (runtime.Value, error)

func (f goFunc) Call(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) { return f(args) }

func TestForeignFunctionArgument(t *testing.T) {
	var b ir.Builder
	at(&b, 1)
	fnFF := &ir.Func{Params: []ir.Type{F}, Result: F}
	// def twice(f: f64 -> f64, x: f64) = f(f(x))   (inner call at line 2)
	twice := b.Def("twice", []string{"f", "x"}, []ir.Type{fnFF, F}, func(v []*ir.Var) ir.Expr {
		at(&b, 2)
		inner := b.Call(v[0], v[1])
		at(&b, 1)
		return b.Call(v[0], inner)
	})
	it := mustNew(t, twice)
	double := goFunc(func(args []runtime.Value) (runtime.Value, error) { return runtime.F64(2 * args[0].F), nil })
	if v := call(t, it, "twice", runtime.Value{R: double}, runtime.F64(3)); v.F != 12 {
		t.Errorf("twice(double, 3) = %v", v.F)
	}
	failing := goFunc(func(args []runtime.Value) (runtime.Value, error) { return runtime.Value{}, errors.New("no") })
	e, _ := callErr(t, it, "twice", runtime.Limits{}, runtime.Value{R: failing}, runtime.F64(3))
	if e.Msg != "no" || e.Pos != pos(2) {
		t.Errorf("got %q at %s, want %q at the inner call %s", e.Msg, e.Pos, "no", pos(2))
	}
	panicking := goFunc(func(args []runtime.Value) (runtime.Value, error) { panic("boom") })
	e, _ = callErr(t, it, "twice", runtime.Limits{}, runtime.Value{R: panicking}, runtime.F64(3))
	if e.Msg != "internal error: boom" {
		t.Errorf("got %q, want an internal error", e.Msg)
	}
}

// TestArgumentChecks checks the entry validation of argument values.
func TestArgumentChecks(t *testing.T) {
	var b ir.Builder
	at(&b, 1)
	tupT := ir.TupleOf(F, ir.TupleOf(I, B))
	fnT := &ir.Func{Params: []ir.Type{F}, Result: F}
	d := b.Def("f", []string{"t", "b", "g", "xs"}, []ir.Type{tupT, B, fnT, vec(ir.TupleOf(F, F))}, func(v []*ir.Var) ir.Expr {
		return b.Proj(v[0], 0)
	})
	it := mustNew(t, d)
	fn := runtime.Value{R: goFunc(func([]runtime.Value) (runtime.Value, error) { return runtime.Value{}, nil })}
	pairs := &runtime.Array{Shape: []int{1}, Kind: runtime.ElemBox, Box: []runtime.Value{runtime.Tup(runtime.F64(1), runtime.F64(2))}}
	good := []runtime.Value{runtime.Tup(runtime.F64(1), runtime.Tup(runtime.I64(2), runtime.Bool(true))), runtime.Bool(true), fn, runtime.Arr(pairs)}
	if v := call(t, it, "f", good...); v.F != 1 {
		t.Errorf("f = %v", v.F)
	}
	with := func(i int, v runtime.Value) []runtime.Value {
		args := append([]runtime.Value(nil), good...)
		args[i] = v
		return args
	}
	for _, c := range []struct {
		args []runtime.Value
		msg  string
	}{
		{with(0, runtime.Tup(runtime.F64(1))), "argument 1 (t) of f: want (f64, (i64, bool)), got a tuple of 1"},
		{with(0, runtime.Tup(runtime.F64(1), runtime.Tup(runtime.I64(2), runtime.Value{I: 7}))), "field 1: field 1: want bool (0 or 1), got 7"},
		{with(1, f64s(1)), "argument 2 (b) of f: want bool, got an array [1]f64"},
		{with(2, runtime.F64(1)), "argument 3 (g) of f: want f64 -> f64, got a scalar"},
		{with(3, f64s(1, 2)), "want [?](f64, f64), got an array [2]f64"},
		{with(3, runtime.Arr(&runtime.Array{Shape: []int{2}, Kind: runtime.ElemBox, Box: pairs.Box})), "malformed array: shape [2] but 1 elements"},
		{with(3, runtime.Arr(&runtime.Array{Shape: []int{1}, Kind: runtime.ElemBox, Box: []runtime.Value{runtime.F64(1)}})), "element: want (f64, f64), got a scalar"},
	} {
		e, _ := callErr(t, it, "f", runtime.Limits{}, c.args...)
		if !strings.Contains(e.Msg, c.msg) {
			t.Errorf("got %q, want %q", e.Msg, c.msg)
		}
	}
}

// TestValueDefWaiterCancelled: a caller waiting for another goroutine's
// evaluation of a value def still honours its own context.
func TestValueDefWaiterCancelled(t *testing.T) {
	var b ir.Builder
	at(&b, 1)
	spin := valueDef(&b, "spin", b.While("s", b.I64(0), func(*ir.Var) ir.Expr { return b.Bool(true) },
		func(s *ir.Var) ir.Expr { return b.Prim(ir.PrimAdd, s, b.I64(1)) }))
	it := mustNew(t, spin)
	ctxA, cancelA := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := it.Call(ctxA, "spin", nil, runtime.Limits{})
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	ctxB, cancelB := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancelB()
	_, err := it.Call(ctxB, "spin", nil, runtime.Limits{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting caller: error %v, want its deadline", err)
	}
	cancelA()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("evaluating caller: error %v, want cancellation", err)
	}
	// Neither error was cached: a call under a step limit evaluates again.
	_, err = it.Call(context.Background(), "spin", nil, runtime.Limits{Steps: 1000})
	if !errors.Is(err, runtime.ErrStepLimit) {
		t.Errorf("third caller: error %v, want the step limit", err)
	}
	if !strings.Contains(err.Error(), "t.nab:1:1: step limit exceeded (1000 steps)") {
		t.Errorf("error text %q", err.Error())
	}
}
