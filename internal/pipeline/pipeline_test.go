package pipeline_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/internal/progen"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

const src = `
def apply2(f: f64 -> f64, x: f64): f64 = f(f(x))
def sq(x: f64): f64 = x * x
def main(a: f64): f64 = apply2(fn(x) => a * x, 1.0) + grad(sq)(a)
`

func TestStages(t *testing.T) {
	for _, tc := range []struct {
		last pipeline.Stage
		// what the final program has: a def that only that stage and later
		// ones have, and one that it no longer has.
		has, hasNot string
	}{
		{pipeline.Core, "apply2", "apply2$1"},
		{pipeline.Specialize, "apply2$1", "sq$vjp"},
		{pipeline.AD, "sq$vjp", ""},
		{pipeline.Opt, "sq$vjp", ""},
	} {
		t.Run(tc.last.String(), func(t *testing.T) {
			res, err := pipeline.Compile(context.Background(), "t.nab", []byte(src), pipeline.Options{Last: tc.last})
			if err != nil {
				t.Fatal(err)
			}
			stages := []*ir.Program{res.Core, res.Specialized, res.AD, res.Opt}
			for i, p := range stages {
				ran := pipeline.Stage(i+1) <= tc.last
				if (p != nil) != ran {
					t.Errorf("stage %s: program present = %v, want %v", pipeline.Stage(i+1), p != nil, ran)
				}
			}
			p := res.Final()
			if p != stages[tc.last-1] {
				t.Errorf("Final is not the %s program", tc.last)
			}
			if p.Def(tc.has) == nil {
				t.Errorf("no def %s after %s", tc.has, tc.last)
			}
			if tc.hasNot != "" && p.Def(tc.hasNot) != nil {
				t.Errorf("def %s already there after %s", tc.hasNot, tc.last)
			}
		})
	}
}

func TestParseStage(t *testing.T) {
	for _, name := range pipeline.Stages() {
		s, err := pipeline.ParseStage(name)
		if err != nil || s.String() != name {
			t.Errorf("ParseStage(%q) = %v, %v", name, s, err)
		}
	}
	if _, err := pipeline.ParseStage("parse"); err == nil || !strings.Contains(err.Error(), "core, specialize, ad, opt") {
		t.Errorf("ParseStage(parse) error = %v, want the list of stages", err)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := pipeline.Compile(ctx, "t.nab", []byte(src), pipeline.Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	//lint:ignore SA1012 a nil context is what is tested
	if _, err := pipeline.Compile(nil, "t.nab", []byte(src), pipeline.Options{}); err == nil {
		t.Errorf("a nil context compiled")
	}
}

func TestInterpBackend(t *testing.T) {
	ctx := context.Background()
	res, err := pipeline.Compile(ctx, "t.nab", []byte(src), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	run, err := pipeline.Interp.Load(ctx, res.Opt)
	if err != nil {
		t.Fatal(err)
	}
	params, result, err := run.Signature("main")
	if err != nil || len(params) != 1 || result.String() != "f64" {
		t.Fatalf("Signature(main) = %v, %v, %v", params, result, err)
	}
	v, err := run.Call(ctx, "main", []runtime.Value{runtime.F64(3)}, runtime.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if v.F != 9+6 {
		t.Errorf("main(3) = %v, want 15", v.F)
	}
}

// TestCancelMidway: cancelling while a large program compiles stops the
// compilation with the context's error, whichever stage is running.
func TestCancelMidway(t *testing.T) {
	src := []byte(progen.StraightGrad(4000))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := pipeline.Compile(ctx, "big.nab", src, pipeline.Options{})
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
