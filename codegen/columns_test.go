package codegen_test

import (
	"context"
	"os"
	"reflect"
	"testing"

	"github.com/nabla-lang/nabla/codegen"
	"github.com/nabla-lang/nabla/internal/pipeline"
)

// TestColumns runs testdata/columns.nab's RUN lines on the interpreter
// and on the Go backend with blocks of 2 columns, with the tails run as
// scalar code where they can be (scalarcols.go) and with every tail on
// blocks: both give the same values bit for bit and the same errors at
// the positions the ERROR lines give. It checks which tails are
// outlined (the columnwise ones, and none that sums, reverses, counts or
// shifts the columns) and which of those run as scalar code.
func TestColumns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go programs")
	}
	const file = "testdata/columns.nab"
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := pipeline.Compile(ctx, file, src, pipeline.Options{ReadFile: os.ReadFile})
	if err != nil {
		t.Fatal(err)
	}
	_, outlined := codegen.OutlineColumns(res.Opt, true)
	// Every columnwise body is outlined (with blocks for tests, however
	// small); summed, reversed, counted and shifted are not.
	want := map[string]string{"f$cols": "f", "jac$cols": "jac", "jac_t$cols": "jac_t", "mix$cols": "mix", "use_mix$cols": "use_mix",
		"g$cols": "g", "jac_g$cols": "jac_g", "use_mix1$cols": "use_mix1", "use_mix3$cols": "use_mix3"}
	if !reflect.DeepEqual(outlined, want) {
		t.Log(outlined)
		t.Errorf("outlined tails %v, want %v", outlined, want)
	}
	// With the default threshold these small tails are not worth it.
	if _, few := codegen.OutlineColumns(res.Opt, false); len(few) != 0 {
		t.Errorf("outlined at the default threshold: %v", few)
	}
	// Scalar code where every index, count and condition is a constant;
	// blocks where mix's row index k is an argument, or out of range.
	scalar, err := codegen.ScalarColumns(res.Opt, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"f$cols", "g$cols", "jac$cols", "jac_g$cols", "jac_t$cols", "use_mix1$cols"}; !reflect.DeepEqual(scalar, want) {
		t.Errorf("scalar tails %v, want %v", scalar, want)
	}
	ip, err := pipeline.Interp.Load(ctx, res.Opt)
	if err != nil {
		t.Fatal(err)
	}
	// Scalar code and blocks, each against the interpreter.
	for _, b := range []pipeline.Backend{codegen.ColumnBackend(2), codegen.BlockBackend(2)} {
		gp, err := b.Load(ctx, res.Opt)
		if err != nil {
			t.Fatal(err)
		}
		compareRuns(t, file, src, ip, gp, 13)
	}
}
