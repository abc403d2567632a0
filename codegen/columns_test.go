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
// and on the Go backend with blocks of 2 columns: the blocked tails give
// the same values bit for bit and the same errors at the positions the
// ERROR lines give. It checks which tails are outlined: the columnwise
// ones, and none that sums, reverses, counts or shifts the columns.
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
	want := map[string]string{"f$cols": "f", "jac$cols": "jac", "jac_t$cols": "jac_t", "mix$cols": "mix", "use_mix$cols": "use_mix"}
	if !reflect.DeepEqual(outlined, want) {
		t.Log(outlined)
		t.Errorf("outlined tails %v, want %v", outlined, want)
	}
	// With the default threshold these small tails are not worth it.
	if _, few := codegen.OutlineColumns(res.Opt, false); len(few) != 0 {
		t.Errorf("outlined at the default threshold: %v", few)
	}
	ip, err := pipeline.Interp.Load(ctx, res.Opt)
	if err != nil {
		t.Fatal(err)
	}
	gp, err := codegen.ColumnBackend(2).Load(ctx, res.Opt)
	if err != nil {
		t.Fatal(err)
	}
	compareRuns(t, file, src, ip, gp, 8)
}
