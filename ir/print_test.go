package ir

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestPrintExpr(t *testing.T) {
	var b Builder
	f := func(name string) *Var { return b.Var(name, TF64) }
	i := func(name string) *Var { return b.Var(name, TI64) }
	bo := func(name string) *Var { return b.Var(name, TBool) }
	vec := ArrayOf(SymDim("n"), TF64)
	mat := ArrayOf(SymDim("m"), vec)
	a, bb, c, x := f("a"), f("b"), f("c"), f("x")
	k, n := i("k"), i("n")
	p, q, r := bo("p"), bo("q"), bo("r")
	xs, ys, A := b.Var("xs", vec), b.Var("ys", vec), b.Var("A", mat)
	two := b.F64(2)
	P := b.Prim
	tenth, fifth := 0.1, 0.2
	tup := b.Var("t", TupleOf(TupleOf(TF64, TI64), TF64))

	tests := []struct {
		name string
		e    Expr
		want string
	}{
		// Precedence and associativity.
		{"add-in-mul", P(PrimMul, P(PrimAdd, a, bb), c), "(a + b) * c"},
		{"mul-in-add", P(PrimAdd, P(PrimMul, a, bb), c), "a * b + c"},
		{"mul-right-of-add", P(PrimAdd, a, P(PrimMul, bb, c)), "a + b * c"},
		{"sub-left", P(PrimSub, P(PrimSub, a, bb), c), "a - b - c"},
		{"sub-right", P(PrimSub, a, P(PrimSub, bb, c)), "a - (b - c)"},
		{"add-right", P(PrimAdd, a, P(PrimAdd, bb, c)), "a + (b + c)"},
		{"div-right", P(PrimDiv, a, P(PrimMul, bb, c)), "a / (b * c)"},
		{"mod", P(PrimMod, P(PrimMul, k, k), P(PrimAdd, n, b.I64(1))), "k * k % (n + 1)"},
		{"neg-pow", P(PrimNeg, P(PrimPow, x, two)), "-x ^ 2.0"},
		{"pow-neg", P(PrimPow, P(PrimNeg, x), two), "(-x) ^ 2.0"},
		{"pow-right-assoc", P(PrimPow, two, P(PrimPow, b.F64(3), two)), "2.0 ^ 3.0 ^ 2.0"},
		{"pow-left-nested", P(PrimPow, P(PrimPow, two, b.F64(3)), two), "(2.0 ^ 3.0) ^ 2.0"},
		{"pow-neg-exponent", P(PrimPow, x, b.F64(-1)), "x ^ (-1.0)"},
		{"pow-neg-base-const", P(PrimPow, b.F64(-2), two), "(-2.0) ^ 2.0"},
		{"pow-call-base", P(PrimPow, P(PrimExp, x), two), "exp(x) ^ 2.0"},
		{"neg-neg", P(PrimNeg, P(PrimNeg, x)), "-(-x)"},
		{"neg-const", P(PrimNeg, b.F64(-1)), "-(-1.0)"},
		{"neg-sum", P(PrimNeg, P(PrimAdd, a, bb)), "-(a + b)"},
		{"neg-mul", P(PrimMul, P(PrimNeg, a), bb), "-a * b"},
		{"sub-neg", P(PrimSub, a, P(PrimNeg, bb)), "a - -b"},
		{"add-neg-const", P(PrimAdd, a, b.F64(-0.5)), "a + -0.5"},
		{"neg-pow-add", P(PrimAdd, P(PrimNeg, P(PrimPow, x, two)), P(PrimPow, two, b.F64(3))), "-x ^ 2.0 + 2.0 ^ 3.0"},
		{"cmp", P(PrimLt, P(PrimAdd, a, bb), P(PrimMul, c, x)), "a + b < c * x"},
		{"cmp-nonassoc", P(PrimEq, P(PrimLt, a, bb), P(PrimLt, c, x)), "(a < b) == (c < x)"},
		{"and-or", P(PrimOr, P(PrimAnd, p, q), r), "p && q || r"},
		{"or-and", P(PrimAnd, P(PrimOr, p, q), r), "(p || q) && r"},
		{"or-right", P(PrimOr, p, P(PrimOr, q, r)), "p || (q || r)"},
		{"not-and", P(PrimNot, P(PrimAnd, p, q)), "!(p && q)"},
		{"not-left", P(PrimAnd, P(PrimNot, p), P(PrimLe, a, bb)), "!p && a <= b"},
		{"not-not", P(PrimNot, P(PrimNot, p)), "!!p"},
		{"matmul", P(PrimAdd, P(PrimMatmul, A, xs), ys), "A @ xs + ys"},
		{"matmul-elementwise", P(PrimMatmul, A, P(PrimMul, xs, ys)), "A @ (xs * ys)"},
		{"lifted", P(PrimMul, two, xs), "2.0 * xs"},

		// Calls, indexing, tuples, projections.
		{"exp", P(PrimExp, P(PrimAdd, x, two)), "exp(x + 2.0)"},
		{"index", P(PrimIndex, xs, P(PrimAdd, k, b.I64(1))), "xs[k + 1]"},
		{"index2", P(PrimIndex, P(PrimIndex, A, k), n), "A[k][n]"},
		{"index-of-sum", P(PrimIndex, P(PrimAdd, xs, ys), k), "(xs + ys)[k]"},
		{"neg-index", P(PrimNeg, P(PrimIndex, xs, k)), "-xs[k]"},
		{"tuple", b.Tuple(a, P(PrimAdd, k, n)), "(a, k + n)"},
		{"tuple1", b.Tuple(a), "(a,)"},
		{"unit", b.Tuple(), "()"},
		{"proj", b.Proj(b.Tuple(a, bb), 1), "(a, b).1"},
		{"proj-proj", b.Proj(b.Proj(tup, 0), 1), "t.0.1"},
		{"proj-arith", P(PrimMul, b.Proj(tup, 1), b.Proj(b.Proj(tup, 0), 0)), "t.1 * t.0.0"},
		{"array-literal", P(PrimIndex, P(PrimArray, a, P(PrimNeg, bb)), k), "[a, -b][k]"},
		{"array-literal-2d", P(PrimArray, P(PrimArray, a), P(PrimArray, bb)), "[[a], [b]]"},
		{"conversion", P(PrimDiv, P(PrimSum, xs), P(PrimToF64, n)), "sum(xs) / f64(n)"},

		// Aux.
		{"aux-dim", b.PrimAux(PrimDim, 1, A), "dim[1](A)"},
		{"aux-zeros", b.PrimAux(PrimZeros, SymDim("n"), n), "zeros[n](n)"},
		{"aux-unknown", b.PrimAux(PrimZeros, Unknown, n), "zeros[?](n)"},
		{"aux-reshape", b.PrimAux(PrimReshape, [2]Dim{SymDim("m"), ConstDim(3)}, xs, b.I64(2), b.I64(3)), "reshape[m, 3](xs, 2, 3)"},

		// Lambdas.
		{"map", P(PrimMap, b.Lambda([]string{"v"}, []Type{TF64}, func(v []*Var) Expr {
			return P(PrimMul, v[0], two)
		}), xs), "map(fn(v: f64) => v * 2.0, xs)"},
		{"map2", P(PrimMap, b.Lambda([]string{"u", "v"}, []Type{TF64, TF64}, func(v []*Var) Expr {
			return P(PrimMax, v[0], v[1])
		}), xs, ys), "map(fn(u: f64, v: f64) => max(u, v), xs, ys)"},
		{"call-lambda", b.Call(b.Lambda([]string{"v"}, []Type{TF64}, func(v []*Var) Expr { return v[0] }), a), "(fn(v: f64) => v)(a)"},
		{"grad-call", b.Call(P(PrimGrad, b.Lambda([]string{"v"}, []Type{vec}, func(v []*Var) Expr {
			return P(PrimDot, v[0], v[0])
		})), xs), "grad(fn(v: [n]f64) => dot(v, v))(xs)"},
		{"taylor", b.PrimAux(PrimTaylor, int64(6), b.Lambda([]string{"v"}, []Type{TF64}, func(v []*Var) Expr {
			return P(PrimTan, v[0])
		}), x, b.F64(1), b.I64(6)), "taylor[6](fn(v: f64) => tan(v), x, 1.0, 6)"},
		{"fn-type-param", b.Lambda([]string{"g"}, []Type{&Func{Params: []Type{TF64}, Result: TF64}}, func(v []*Var) Expr {
			return b.Call(v[0], x)
		}), "fn(g: f64 -> f64) => g(x)"},

		// If.
		{"if", b.If(P(PrimLt, a, bb), a, bb), "if a < b then a else b"},
		{"if-operand", P(PrimAdd, x, b.If(p, a, bb)), "x + (if p then a else b)"},
		{"if-else-if", b.If(p, a, b.If(q, bb, c)), "if p then a else if q then b else c"},

		// Constants.
		{"floats", b.Tuple(b.F64(1), b.F64(0.5), b.F64(1e-300), b.F64(1e21), b.F64(123456), b.F64(tenth+fifth), b.F64(1e-7), b.F64(2.5e-6)),
			"(1.0, 0.5, 1e-300, 1e21, 123456.0, 0.30000000000000004, 1e-7, 0.0000025)"},
		{"specials", b.Tuple(b.F64(math.NaN()), b.F64(math.Inf(1)), b.F64(math.Inf(-1)), b.F64(math.Copysign(0, -1)), b.F64(math.MaxFloat64), b.F64(5e-324)),
			"(nan, inf, -inf, -0.0, 1.7976931348623157e308, 5e-324)"},
		{"ints-bools", b.Tuple(b.I64(0), b.I64(42), b.I64(-3), b.I64(math.MinInt64), b.Bool(true), b.Bool(false)),
			"(0, 42, -3, -9223372036854775808, true, false)"},
		{"sub-neg-int", P(PrimSub, k, b.I64(-3)), "k - -3"},

		// Lets, flattened, with types.
		{"lets", b.Let("y", P(PrimMul, x, x), func(y *Var) Expr {
			return b.Let("z", P(PrimAdd, y, b.F64(1)), func(z *Var) Expr {
				return P(PrimMul, y, z)
			})
		}), "let y: f64 = x * x in\nlet z: f64 = y + 1.0 in\ny * z"},
		{"let-in-value", b.Let("y", b.Let("z", two, func(z *Var) Expr { return P(PrimMul, z, z) }), func(y *Var) Expr {
			return y
		}), "let y: f64 =\n  let z: f64 = 2.0 in\n  z * z\nin\ny"},
		{"let-operand", P(PrimAdd, b.Let("y", x, func(y *Var) Expr { return y }), two),
			"(\n  let y: f64 = x in\n  y\n) + 2.0"},
		{"let-in-lambda", P(PrimMap, b.Lambda([]string{"v"}, []Type{TF64}, func(v []*Var) Expr {
			return b.Let("w", P(PrimMul, v[0], two), func(w *Var) Expr { return P(PrimAdd, w, v[0]) })
		}), xs), "map(\n  fn(v: f64) =>\n    let w: f64 = v * 2.0 in\n    w + v,\n  xs\n)"},
		{"let-in-tuple1", b.Tuple(b.Let("y", x, func(y *Var) Expr { return y })), "(\n  let y: f64 = x in\n  y,\n)"},
		{"let-in-if", b.If(p, b.Let("y", x, func(y *Var) Expr { return y }), b.If(q, a, bb)),
			"if p then\n  let y: f64 = x in\n  y\nelse if q then\n  a\nelse\n  b"},
		{"let-in-cond", b.If(b.Let("y", p, func(y *Var) Expr { return y }), a, bb),
			"if (\n  let y: bool = p in\n  y\n) then\n  a\nelse\n  b"},

		// Names.
		{"shadow", b.Let("x", a, func(x1 *Var) Expr {
			return b.Let("x", P(PrimAdd, x1, two), func(x2 *Var) Expr {
				return b.Let("x", P(PrimMul, x2, x1), func(x3 *Var) Expr { return x3 })
			})
		}), "let x: f64 = a in\nlet x_1: f64 = x + 2.0 in\nlet x_2: f64 = x_1 * x in\nx_2"},
		{"shadow-clash", b.Let("x", a, func(x1 *Var) Expr {
			return b.Let("x_1", x1, func(y *Var) Expr {
				return b.Let("x", P(PrimAdd, x1, y), func(x2 *Var) Expr { return x2 })
			})
		}), "let x: f64 = a in\nlet x_1: f64 = x in\nlet x_2: f64 = x + x_1 in\nx_2"},
		{"shadow-lambda", P(PrimMap, b.Lambda([]string{"x"}, []Type{TF64}, func(v []*Var) Expr {
			return P(PrimAdd, v[0], x)
		}), xs), "map(fn(x_1: f64) => x_1 + x, xs)"},
		{"empty-name", b.Let("", a, func(v *Var) Expr { return v }), "let v: f64 = a in\nv"},
		{"global-clash", b.Let("f", a, func(v *Var) Expr {
			return b.Call(&Global{Name: "f", T: &Func{Params: []Type{TF64}, Result: TF64}}, v)
		}), "let f_1: f64 = a in\nf(f_1)"},

		// Loops.
		{"for", b.For("acc", b.F64(0), "i", n, func(s, i *Var) Expr {
			return P(PrimAdd, s, P(PrimIndex, xs, i))
		}), "loop acc: f64 = 0.0 for i < n do\n  acc + xs[i]"},
		{"for-count-expr", b.For("acc", b.F64(0), "i", P(PrimSub, n, b.I64(1)), func(s, i *Var) Expr { return s }),
			"loop acc: f64 = 0.0 for i < n - 1 do\n  acc"},
		{"while", b.While("s", b.Tuple(x, b.I64(0)), func(s *Var) Expr {
			return P(PrimAnd, P(PrimLt, b.Proj(s, 1), b.I64(50)), P(PrimGt, P(PrimAbs, b.Proj(s, 0)), b.F64(1e-9)))
		}, func(s *Var) Expr {
			return b.Tuple(P(PrimDiv, b.Proj(s, 0), two), P(PrimAdd, b.Proj(s, 1), b.I64(1)))
		}), "loop s: (f64, i64) = (x, 0) while s.1 < 50 && abs(s.0) > 1e-9 do\n  (s.0 / 2.0, s.1 + 1)"},
		{"let-loop", b.Let("total", b.For("acc", b.F64(0), "i", n, func(s, i *Var) Expr {
			return b.Let("v", P(PrimIndex, xs, i), func(v *Var) Expr { return P(PrimAdd, s, P(PrimMul, v, v)) })
		}), func(t *Var) Expr { return P(PrimSqrt, t) }),
			"let total: f64 =\n  loop acc: f64 = 0.0 for i < n do\n    let v: f64 = xs[i] in\n    acc + v * v\nin\nsqrt(total)"},
		{"loop-in-loop-init", b.For("s", b.For("t", x, "j", n, func(s, i *Var) Expr { return s }), "i", n, func(s, i *Var) Expr { return s }),
			"loop s: f64 = (\n  loop t: f64 = x for j < n do\n    t\n) for i < n do\n  s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := PrintExpr(tc.e)
			if got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
			if again := PrintExpr(tc.e); again != got {
				t.Errorf("not deterministic:\n%s\nthen:\n%s", got, again)
			}
		})
	}
}

func TestPrintFloatRoundTrip(t *testing.T) {
	vals := []float64{0, 1, -1, 0.1, 1.0 / 3, 2.0 / 3, 1e-6, 9.99999e-7, 1e20, 1e21, 1e22, 123456789012345678, 5e-324,
		math.MaxFloat64, math.SmallestNonzeroFloat64, math.Pi, -math.E, 1e100, 4.35e-15}
	for _, v := range vals {
		s := FormatFloat(v)
		if !strings.ContainsAny(s, ".e") {
			t.Errorf("%v prints as %q, with neither '.' nor exponent", v, s)
		}
		back, err := strconv.ParseFloat(s, 64)
		if err != nil || back != v {
			t.Errorf("%v prints as %q, which reads back as %v (%v)", v, s, back, err)
		}
	}
}

func TestPrintRobust(t *testing.T) {
	// Print must not panic on malformed IR: it is used in error messages.
	x := NewVar("x", TF64, Pos{})
	exprs := []Expr{
		&Let{Var: x},
		&Let{Var: nil, Value: x, Body: (*Let)(nil)},
		&PrimCall{Op: nil, Args: []Expr{nil, (*Const)(nil)}},
		&PrimCall{Op: PrimNeg, Args: []Expr{(*Const)(nil)}},
		&PrimCall{Op: PrimAdd, Args: []Expr{x}},
		&If{Else: (*If)(nil)},
		&Loop{},
		&Lambda{Params: []*Var{nil}},
		&Const{Val: "str"},
		&Proj{},
		&Call{},
		&MakeTuple{Elems: []Expr{nil}},
		(*Var)(nil),
		NewVar("y", &Tuple{Elems: []Type{nil}}, Pos{}),
	}
	for _, e := range exprs {
		_ = PrintExpr(e)
	}
	_ = PrintDef(&Def{Name: "f"})
	_ = PrintDef(&Def{Name: "f", HasParams: true, Params: []*Var{nil}})
}

// goldenDefs are representative hand-built defs printed to
// testdata/print/NAME.golden.
func goldenDefs() map[string]*Program {
	var b Builder
	P := b.Prim
	vec := ArrayOf(SymDim("n"), TF64)
	out := map[string]*Program{}
	one := func(d *Def) *Program { return NewProgram([]*Def{d}) }

	// def mean(x: [n]f64): f64 = sum(x) / f64(n)
	mean := b.SizedDef("mean", []string{"x"}, []Type{vec}, func(ps, sz []*Var) Expr {
		return P(PrimDiv, P(PrimSum, ps[0]), P(PrimToF64, sz[0]))
	})
	out["mean"] = one(mean)

	// Rosenbrock, written as the checker lowers it: a comprehension is
	// build, and the size of the comprehension is n - 1.
	rosen := b.SizedDef("rosen", []string{"x"}, []Type{vec}, func(ps, sz []*Var) Expr {
		x, n := ps[0], sz[0]
		m := P(PrimSub, n, b.I64(1))
		terms := b.PrimAux(PrimBuild, Unknown, m, b.Lambda([]string{"i"}, []Type{TI64}, func(v []*Var) Expr {
			i := v[0]
			xi := P(PrimIndex, x, i)
			xi1 := P(PrimIndex, x, P(PrimAdd, i, b.I64(1)))
			return P(PrimAdd,
				P(PrimMul, b.F64(100), P(PrimPow, P(PrimSub, xi1, P(PrimPow, xi, b.F64(2))), b.F64(2))),
				P(PrimPow, P(PrimSub, b.F64(1), xi), b.F64(2)))
		}))
		return P(PrimSum, terms)
	})
	rosen.Export = true
	out["rosen"] = one(rosen)

	// A Newton iteration with a tuple state, a while loop and a nested
	// let chain in the body.
	f := b.Def("f", []string{"x"}, []Type{TF64}, func(ps []*Var) Expr {
		return P(PrimSub, P(PrimPow, ps[0], b.F64(3)), b.F64(2))
	})
	newton := b.Def("newton", []string{"x0", "tol"}, []Type{TF64, TF64}, func(ps []*Var) Expr {
		x0, tol := ps[0], ps[1]
		fg := b.Global(f)
		st := b.While("s", b.Tuple(x0, b.I64(0)), func(s *Var) Expr {
			return P(PrimAnd, P(PrimGt, P(PrimAbs, b.Call(fg, b.Proj(s, 0))), tol), P(PrimLt, b.Proj(s, 1), b.I64(100)))
		}, func(s *Var) Expr {
			return b.Let("x", b.Proj(s, 0), func(x *Var) Expr {
				return b.Let("g", b.Call(P(PrimGrad, fg), x), func(g *Var) Expr {
					return b.Let("x", P(PrimSub, x, P(PrimDiv, b.Call(fg, x), g)), func(x2 *Var) Expr {
						return b.Tuple(x2, P(PrimAdd, b.Proj(s, 1), b.I64(1)))
					})
				})
			})
		})
		return b.Let("r", st, func(r *Var) Expr { return b.Proj(r, 0) })
	})
	newton.Attrs = []Attr{{Name: "noinline"}}
	out["newton"] = NewProgram([]*Def{f, newton})

	// Size variables, a for loop, nested lambdas and shadowing.
	mat := ArrayOf(SymDim("m"), vec)
	rows := b.SizedDef("rownorms", []string{"a", "k"}, []Type{mat, TI64}, func(ps, sz []*Var) Expr {
		a, k := ps[0], ps[1]
		return P(PrimMap, b.Lambda([]string{"x"}, []Type{vec}, func(v []*Var) Expr {
			x := v[0]
			return b.For("acc", b.F64(0), "i", P(PrimMin, k, sz[1]), func(acc, i *Var) Expr {
				return b.Let("x", P(PrimIndex, x, i), func(xi *Var) Expr {
					return P(PrimAdd, acc, P(PrimMul, xi, xi))
				})
			})
		}), a)
	})
	rows.Attrs = []Attr{{Name: "jvp", Fn: "rownorms_jvp"}, {Name: "inline"}}
	out["rownorms"] = one(rows)

	// AD operators with Aux, value defs, tuples.
	tan := b.Def("tan_series", []string{"x"}, []Type{TF64}, func(ps []*Var) Expr {
		return b.PrimAux(PrimTaylor, int64(4), b.Lambda([]string{"v"}, []Type{TF64}, func(v []*Var) Expr {
			return P(PrimTan, v[0])
		}), ps[0], b.F64(1), b.I64(4))
	})
	g := &Def{Name: "g", Body: P(PrimGrad, b.Global(f))}
	g.Result = g.Body.Type()
	out["ad"] = NewProgram([]*Def{f, tan, g})
	return out
}

func TestPrintGolden(t *testing.T) {
	for name, prog := range goldenDefs() {
		t.Run(name, func(t *testing.T) {
			got := Print(prog)
			path := filepath.Join("testdata", "print", name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run PrintGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from the golden file:\ngot:\n%s\nwant:\n%s", path, got, want)
			}
		})
	}
}

func TestPrintGoldenValid(t *testing.T) {
	// The golden defs are well formed: they double as validator cases.
	for name, prog := range goldenDefs() {
		for _, d := range prog.Defs {
			if err := ValidateDef(d); err != nil {
				t.Errorf("%s: %s: %v", name, d.Name, err)
			}
		}
	}
}

func ExamplePrintDef() {
	var b Builder
	P := b.Prim
	vec := ArrayOf(SymDim("n"), TF64)
	d := b.SizedDef("f", []string{"x", "k"}, []Type{vec, TI64}, func(ps, _ []*Var) Expr {
		x, k := ps[0], ps[1]
		double := b.Lambda([]string{"v"}, []Type{TF64}, func(v []*Var) Expr { return P(PrimMul, v[0], b.F64(2)) })
		return b.Let("a", P(PrimMap, double, x), func(a *Var) Expr {
			sum := b.For("acc", b.F64(0), "i", k, func(acc, i *Var) Expr {
				return P(PrimAdd, acc, P(PrimPow, P(PrimIndex, a, i), b.F64(2)))
			})
			return b.Let("s", sum, func(s *Var) Expr {
				return P(PrimAdd, P(PrimNeg, P(PrimPow, s, b.F64(2))), P(PrimToF64, b.PrimAux(PrimDim, 0, x)))
			})
		})
	})
	d.Export = true
	d.Attrs = []Attr{{Name: "jvp", Fn: "f_jvp"}}
	fmt.Print(PrintDef(d))
	// Output:
	// @jvp(f_jvp)
	// export def f(x: [n]f64, k: i64): f64 =
	//   let a: [n]f64 = map(fn(v: f64) => v * 2.0, x) in
	//   let s: f64 =
	//     loop acc: f64 = 0.0 for i < k do
	//       acc + a[i] ^ 2.0
	//   in
	//   -s ^ 2.0 + f64(dim[0](x))
}
