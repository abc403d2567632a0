package fuzzing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nabla-lang/nabla/codegen"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/internal/progen"
	"github.com/nabla-lang/nabla/runtime"
)

// goPrograms is how many generated programs one FuzzGoBackend input
// joins into one source, so that one Go build serves them all.
const goPrograms = 8

// FuzzGoBackend checks that the Go backend gives the interpreter's
// results on generated programs and their derivatives. Each input makes
// goPrograms programs (from the input and a counter), built as one.
//
// A Go build takes longer than the 10 s that go test -fuzz allows one
// input, so this target is not run with -fuzz: its longer mode is
// NABLA_FUZZ_GO=N, which adds N generated inputs to its seeds (N Go
// builds, 8·N programs). An input that fails is written to
// testdata/fuzz/FuzzGoBackend, which every go test replays.
func FuzzGoBackend(f *testing.F) {
	f.Add([]byte("go backend seed"))
	n, _ := strconv.Atoi(os.Getenv("NABLA_FUZZ_GO"))
	for i := range n {
		f.Add([]byte(fmt.Sprintf("go backend %d", i)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		t.Cleanup(func() {
			if t.Failed() {
				saveFailure(t, "FuzzGoBackend", data)
			}
		})
		src, prefixes := progen.RandomJoined(data, goPrograms)
		goBackend(t, src, prefixes, data)
	})
}

func goBackend(t *testing.T, src string, prefixes []string, data []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res := compileGenerated(ctx, t, src)
	ip, err := pipeline.Interp.Load(ctx, res.Opt)
	if err != nil {
		t.Fatal(err)
	}
	gp, err := codegen.Backend.Load(ctx, res.Opt)
	if err != nil {
		t.Fatalf("go backend: %v\nprogram:\n%s", err, src)
	}
	p := newPoint(data)
	xv := []runtime.Value{runtime.F64(p.x), vec(p.v)}
	dir := append(append([]runtime.Value(nil), xv...), runtime.F64(p.dx), vec(p.dv))
	for _, prefix := range prefixes {
		for _, c := range []struct {
			def  string
			args []runtime.Value
		}{
			{"f", xv}, {"h", xv}, {"gr", xv}, {"jv", dir}, {"hj", dir},
			{"hv", append(append([]runtime.Value(nil), xv...), vec(p.yb))},
		} {
			def := prefix + c.def
			_, result, err := ip.Signature(def)
			if err != nil {
				t.Fatal(err)
			}
			iv, ierr := ip.Call(ctx, def, c.args, runLimits)
			gv, gerr := gp.Call(ctx, def, c.args, runtime.Limits{})
			switch {
			case ierr == nil && gerr != nil && strings.Contains(gerr.Error(), "cannot run with --backend go"):
				t.Logf("%s: not supported by the Go backend: %v", def, gerr)
			case ierr != nil || gerr != nil:
				if ierr == nil || gerr == nil || ierr.Error() != gerr.Error() {
					t.Fatalf("%s(%s): errors differ:\ninterp: %v\ngo:     %v\nprogram:\n%s", def, p, ierr, gerr, src)
				}
			default:
				a, b := flat(result, iv), flat(result, gv)
				if len(a) != len(b) {
					t.Fatalf("%s(%s): the interpreter gives %v, the Go backend %v\nprogram:\n%s", def, p, a, b, src)
				}
				for i := range a {
					// The generated code fuses loops and may sum in
					// another order: rounding differs, nothing else.
					if finite(a[i], b[i]) && !near(a[i], b[i], 1e-10, 1e-12) || finite(a[i]) != finite(b[i]) {
						t.Fatalf("%s(%s)[%d]: the interpreter gives %v, the Go backend %v\nprogram:\n%s", def, p, i, a[i], b[i], src)
					}
				}
			}
		}
	}
}

// saveFailure writes a failing input where go test replays it, in the
// format of go test -fuzz's own files.
func saveFailure(t *testing.T, target string, data []byte) {
	sum := sha256.Sum256(data)
	dir := filepath.Join("testdata", "fuzz", target)
	path := filepath.Join(dir, hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Log(err)
		return
	}
	if err := os.WriteFile(path, []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)), 0o644); err != nil {
		t.Log(err)
		return
	}
	t.Logf("the failing input is kept in %s", path)
}
