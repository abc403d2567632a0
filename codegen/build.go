package codegen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
	"github.com/nabla-lang/nabla/runtime"
)

// CacheEnv names the environment variable that overrides the directory
// where nabla run --backend go keeps its builds (default:
// os.UserCacheDir()/nabla/go).
const CacheEnv = "NABLA_GOCACHE"

// Backend is the Go backend: Load generates a Go program for all defs,
// builds it with the Go toolchain (once per distinct source, cached on
// disk) and returns a Runner that runs the binary per call. A call under
// a step limit runs a second build whose code counts steps
// (Options.Steps), made at the first such call.
var Backend pipeline.Backend = goBackend{}

// StepBackend is Backend building the step-counting program from the
// start: for callers that know every call has a step limit (nabla run
// --max-steps), so that only one program is built.
var StepBackend pipeline.Backend = goBackend{steps: true}

type goBackend struct {
	steps    bool
	colBlock int  // Options.ColumnBlock (tests)
	noScalar bool // Options.noScalarCols (tests)
}

func (goBackend) Name() string { return "go" }

func (b goBackend) Load(ctx context.Context, p *ir.Program) (pipeline.Runner, error) {
	bin, err := buildProgramOpts(ctx, p, Options{Main: true, Steps: b.steps, ColumnBlock: b.colBlock, noScalarCols: b.noScalar})
	if err != nil {
		return nil, err
	}
	r := &runner{prog: p}
	if b.steps {
		r.stepBin = bin
		r.stepOnce.Do(func() {})
	} else {
		r.bin = bin
	}
	return r, nil
}

// buildProgram generates the run harness's program for p, counting steps
// or not, and builds it.
func buildProgram(ctx context.Context, p *ir.Program, steps bool) (string, error) {
	return buildProgramOpts(ctx, p, Options{Main: true, Steps: steps})
}

// buildProgramOpts is buildProgram with options of its own (tests: blocks
// of columns, no scalar columns).
func buildProgramOpts(ctx context.Context, p *ir.Program, opts Options) (string, error) {
	src, err := Generate(p, opts)
	if err != nil {
		return "", err
	}
	return Build(ctx, src)
}

type runner struct {
	prog *ir.Program
	bin  string // the program without step counting ("" under StepBackend)
	// stepBin is the step-counting program, built once when first needed.
	stepOnce sync.Once
	stepBin  string
	stepErr  error
}

func (r *runner) Signature(name string) ([]ir.Type, ir.Type, error) {
	return Signature(r.prog, name)
}

// Signature is the parameter and result types of def name as the run
// harness calls it: a function value def takes its lambda's parameters.
func Signature(p *ir.Program, name string) ([]ir.Type, ir.Type, error) {
	d := p.Def(name)
	if d == nil {
		return nil, nil, &ir.Error{Msg: fmt.Sprintf("no def named %s", name)}
	}
	if d.HasParams {
		ps := make([]ir.Type, len(d.Params))
		for i, p := range d.Params {
			ps[i] = p.T
		}
		return ps, d.Result, nil
	}
	if f, ok := d.Body.Type().(*ir.Func); ok {
		return append([]ir.Type(nil), f.Params...), f.Result, nil
	}
	return nil, d.Body.Type(), nil
}

// RunError is a failed run of a generated program: its message is what
// the program printed, the interpreter's text for the same error.
type RunError struct{ Msg string }

func (e *RunError) Error() string { return e.Msg }

// Is makes a run stopped by a limit match runtime.ErrStepLimit or
// runtime.ErrMemoryLimit, as the interpreter's errors do.
func (e *RunError) Is(target error) bool {
	first, _, _ := strings.Cut(e.Msg, "\n")
	return target == runtime.ErrStepLimit && strings.Contains(first, runtime.ErrStepLimit.Error()+" (") ||
		target == runtime.ErrMemoryLimit && strings.Contains(first, runtime.ErrMemoryLimit.Error()+": ")
}

// Call runs def name in the built binary. The binary honours lim.Memory
// and lim.Steps (see the harness; a step limit runs the step-counting
// build, built at the first such call, outside ctx). ctx bounds the run:
// at its deadline or cancellation the process is killed and the error,
// positioned at the def, matches ctx's error.
func (r *runner) Call(ctx context.Context, name string, args []runtime.Value, lim runtime.Limits) (runtime.Value, error) {
	if ctx == nil {
		return runtime.Value{}, fmt.Errorf("nil context.Context")
	}
	bin := r.bin
	if lim.Steps > 0 || bin == "" {
		r.stepOnce.Do(func() { r.stepBin, r.stepErr = buildProgram(context.Background(), r.prog, true) })
		if r.stepErr != nil {
			return runtime.Value{}, r.stepErr
		}
		bin = r.stepBin
	}
	params, result, err := r.Signature(name)
	if err != nil {
		return runtime.Value{}, err
	}
	if len(args) != len(params) {
		return runtime.Value{}, fmt.Errorf("%s takes %d arguments, got %d", name, len(params), len(args))
	}
	var in bytes.Buffer
	for i, a := range args {
		b, err := jsonv.Encode(params[i], a)
		if err != nil {
			return runtime.Value{}, err
		}
		in.Write(b)
		in.WriteByte('\n')
	}
	argv := []string{"-f", name}
	if lim.Memory > 0 {
		argv = append(argv, "-max-memory", fmt.Sprint(lim.Memory))
	}
	if lim.Steps > 0 {
		argv = append(argv, "-max-steps", fmt.Sprint(lim.Steps))
	}
	cmd := exec.CommandContext(ctx, bin)
	progArgv, closeW, waitProgress, err := progressPipe(ctx, cmd)
	if err != nil {
		return runtime.Value{}, err
	}
	cmd.Args = append(append(cmd.Args, argv...), progArgv...)
	cmd.Stdin = &in
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err = cmd.Start()
	closeW()
	if err == nil {
		err = cmd.Wait()
	}
	waitProgress()
	if cerr := ctx.Err(); cerr != nil && err != nil {
		// Killed at the deadline (or cancelled): the interpreter's error.
		e := &ir.Error{Pos: r.prog.Def(name).P, Msg: cerr.Error(), Frames: []ir.Frame{{Def: name, DefPos: r.prog.Def(name).P}}}
		return runtime.Value{}, &interp.CauseError{Err: e, Cause: cerr}
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 {
		return runtime.Value{}, &RunError{Msg: strings.TrimRight(stderr.String(), "\n")}
	}
	if err != nil {
		return runtime.Value{}, fmt.Errorf("running the generated program: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return jsonv.Decode(result, out.Bytes())
}

// Build compiles a generated package main into a binary in the build
// cache and returns its path. The cache key covers the source, the
// runtime package's sources and the Go toolchain's version, so a binary
// is built once and reused by every later run.
func Build(ctx context.Context, src []byte) (string, error) {
	env, err := buildEnv()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(src)
	h.Write([]byte(env.rtHash))
	h.Write([]byte(env.goVersion))
	key := hex.EncodeToString(h.Sum(nil))[:32]
	dir := filepath.Join(env.root, "prog", key)
	bin := filepath.Join(dir, "prog")
	if goruntime.GOOS == "windows" {
		bin += ".exe"
	}
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	gomod := fmt.Sprintf("module nablaprog\n\ngo %s\n\nrequire github.com/nabla-lang/nabla v0.0.0\n\nreplace github.com/nabla-lang/nabla => %s\n%s", env.goLine, env.rtDir, env.requires)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), src, 0o644); err != nil {
		return "", err
	}
	tmp := fmt.Sprintf("%s.tmp%d", bin, os.Getpid())
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", tmp, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOSUMDB=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("internal error: building the generated Go code in %s failed: %v\n%s", dir, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	return bin, nil
}

type env struct {
	root, rtDir, rtHash string
	goVersion, goLine   string
	requires            string
}

var (
	envOnce sync.Once
	envVal  *env
	envErr  error
)

// buildEnv finds the cache directory and the Go version, and writes the
// runtime package's embedded sources into the cache (once per content)
// as a copy of this module holding only runtime.
func buildEnv() (*env, error) {
	envOnce.Do(func() { envVal, envErr = makeEnv() })
	return envVal, envErr
}

// runtimeRequires are the modules package runtime imports, at the
// versions of the repository's go.mod (TestRuntimeRequires keeps them
// equal).
var runtimeRequires = [][2]string{
	{"gonum.org/v1/gonum", "v0.17.0"},
	{"golang.org/x/sys", "v0.49.0"},
}

func makeEnv() (*env, error) {
	root := os.Getenv(CacheEnv)
	if root == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("no cache directory for Go builds (set %s): %v", CacheEnv, err)
		}
		root = filepath.Join(c, "nabla", "go")
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		return nil, fmt.Errorf("--backend go needs the Go toolchain (go env GOVERSION failed: %v)", err)
	}
	e := &env{root: root, goVersion: strings.TrimSpace(string(out))}
	e.goLine = goLine(e.goVersion)
	// The module's requirements, from this binary's build information.
	var req strings.Builder
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/nabla-lang/nabla" || d.Version == "" || d.Version == "(devel)" {
				continue
			}
			if d.Replace != nil {
				continue
			}
			fmt.Fprintf(&req, "require %s %s\n", d.Path, d.Version)
		}
	}
	// A test binary's build information lists no dependencies: the
	// runtime's own are required at go.mod's versions (runtimeRequires),
	// so that a build needs neither the network nor a newer version.
	for _, r := range runtimeRequires {
		if !strings.Contains(req.String(), "require "+r[0]+" ") {
			fmt.Fprintf(&req, "require %s %s\n", r[0], r[1])
		}
	}
	e.requires = req.String()
	files := map[string][]byte{}
	h := sha256.New()
	err = fs.WalkDir(runtime.Sources, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, "_test.go") || strings.Contains(path, "testdata") {
			return err
		}
		b, err := runtime.Sources.ReadFile(path)
		if err != nil {
			return err
		}
		files[path] = b
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	h.Write([]byte(e.requires))
	e.rtHash = hex.EncodeToString(h.Sum(nil))[:32]
	e.rtDir = filepath.Join(root, "runtime", e.rtHash)
	if _, err := os.Stat(filepath.Join(e.rtDir, "go.mod")); err == nil {
		return e, nil
	}
	tmp := fmt.Sprintf("%s.tmp%d", e.rtDir, os.Getpid())
	for path, b := range files {
		p := filepath.Join(tmp, "runtime", filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, err
		}
	}
	mod := fmt.Sprintf("module github.com/nabla-lang/nabla\n\ngo %s\n\n%s", e.goLine, e.requires)
	if err := os.WriteFile(filepath.Join(tmp, "go.mod"), []byte(mod), 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, e.rtDir); err != nil {
		os.RemoveAll(tmp)
		if _, statErr := os.Stat(filepath.Join(e.rtDir, "go.mod")); statErr != nil {
			return nil, err
		}
	}
	return e, nil
}

// goLine turns go1.26.8 into 1.26 for a go.mod's go directive.
func goLine(v string) string {
	v = strings.TrimPrefix(v, "go")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) >= 2 {
		minor := parts[1]
		if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
			minor = minor[:i]
		}
		return parts[0] + "." + minor
	}
	return "1.26"
}

// GenerateFiles compiles the Nabla files at paths (imports read from
// disk) and generates one Go file for them: what nabla gen writes, and
// what tests of checked-in generated files compare against.
func GenerateFiles(ctx context.Context, paths []string, opts Options) ([]byte, error) {
	var progs []*ir.Program
	if opts.Sources == nil {
		opts.Sources = map[string][]byte{}
	}
	for _, path := range paths {
		// Regular files only, and imports under the file's directory, as
		// the other commands read them.
		src, err := lang.ReadSourceFile(path)
		if err != nil {
			return nil, err
		}
		res, err := pipeline.Compile(ctx, path, src, pipeline.Options{ReadFile: lang.RootReader(filepath.Dir(path))})
		if err != nil {
			return nil, err
		}
		progs = append(progs, res.Opt)
		opts.Sources[path] = src
	}
	return GenerateAll(progs, opts)
}
