package progen

import (
	"fmt"
	"testing"

	"github.com/nabla-lang/nabla/lang"
)

// TestRandomIsWellTyped checks that generated programs type-check (the
// generator's promise, on which the differential fuzzer relies), that
// the same data gives the same program, and that a few hundred programs
// use every production.
func TestRandomIsWellTyped(t *testing.T) {
	used := map[string]int{}
	for seed := range 300 {
		data := []byte(fmt.Sprint(seed))
		p := Random(data)
		if q := Random(data); q.Src != p.Src {
			t.Fatalf("seed %d: two programs from the same data", seed)
		}
		if _, err := lang.Load("gen.nab", []byte(p.Src), lang.Options{}); err != nil {
			t.Fatalf("seed %d: generated program does not type-check: %v\n%s", seed, err, p.Src)
		}
		for k, n := range p.Constructs {
			used[k] += n
		}
	}
	for _, k := range productions {
		if used[k] == 0 {
			t.Errorf("no program used %s", k)
		}
	}
}

// productions names every construct Random notes, for coverage checks.
var productions = []string{"argmax", "arith", "call", "comprehension", "divide", "exp_log", "fill", "fold",
	"function_param", "gather", "if", "index", "int_literal", "int_to_f64", "kinked", "lambda", "let", "let_vec",
	"loop_for", "loop_while", "map", "matvec", "negate", "nested_grad", "power", "reduce", "reduction", "reverse",
	"scan", "smooth", "softmax", "sum_comprehension", "tuple", "update", "vec_arith", "vec_call", "vec_if",
	"vec_let", "vec_lifted", "vec_loop", "vec_scan", "vec_while"}
