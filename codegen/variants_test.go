package codegen

// The harness of the tests that run every RUN line of a testdata file
// with a lowering switched on and off (TestSmallTripsSameBits,
// TestSoftWeights, TestTriSameBits, TestPointFuseSameBits): one
// compilation, the interpreter as the reference for errors, one Go build
// per configuration.

import (
	"context"
	"os"
	"testing"

	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/runtime"
)

// variantBuilds is a testdata file compiled once, loaded in the
// interpreter and built as one Go program per configuration.
type variantBuilds struct {
	src     []byte
	ip      pipeline.Runner
	runners []*runner
}

// buildVariants compiles file and builds it once per configuration.
// check, when not nil, sees configuration i's generated code before it
// is built, to require that a lowering was taken or not.
func buildVariants(t *testing.T, file string, configs []Options, check func(i int, code string)) *variantBuilds {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := pipeline.Compile(ctx, file, src, pipeline.Options{ReadFile: os.ReadFile})
	if err != nil {
		t.Fatal(err)
	}
	ip, err := pipeline.Interp.Load(ctx, res.Opt)
	if err != nil {
		t.Fatal(err)
	}
	v := &variantBuilds{src: src, ip: ip, runners: make([]*runner, len(configs))}
	for i, opts := range configs {
		code, err := Generate(res.Opt, opts)
		if err != nil {
			t.Fatal(err)
		}
		if check != nil {
			check(i, string(code))
		}
		bin, err := Build(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		v.runners[i] = &runner{prog: res.Opt, bin: bin}
	}
	return v
}

// call runs c in the interpreter and in every build. Each build's error
// must be the interpreter's, text and position (a mismatch is reported
// under label(i)). It returns each build's result as JSON ("" where it
// failed) and the interpreter's error.
func (v *variantBuilds) call(t *testing.T, c topRun, label func(i int) string) ([]string, error) {
	t.Helper()
	ctx := context.Background()
	args, result := runArgs(t, v.ip, c)
	_, ierr := v.ip.Call(ctx, c.def, args, runtime.Limits{})
	outs := make([]string, len(v.runners))
	for i, r := range v.runners {
		val, err := r.Call(ctx, c.def, args, runtime.Limits{})
		switch {
		case (err == nil) != (ierr == nil) || err != nil && err.Error() != ierr.Error():
			t.Errorf("line %d: %s %s: error %v, the interpreter's %v", c.line, c.def, label(i), err, ierr)
		case err == nil:
			j, _ := jsonv.Encode(result, val)
			outs[i] = string(j)
		}
	}
	return outs, ierr
}
