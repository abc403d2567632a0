package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"go/token"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/codegen"
	"github.com/nabla-lang/nabla/internal/convplot"
	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/lang"
	"github.com/nabla-lang/nabla/rewrite"
	"github.com/nabla-lang/nabla/rewrite/rulecheck"
	rt "github.com/nabla-lang/nabla/runtime"
)

var runCmd = &command{
	name:  "run",
	args:  "[-f NAME] [--backend interp|go] FILE [ARG ...]",
	short: "call a def with JSON arguments and print its result as JSON",
	long: `
Run calls the def NAME (default main) of the program in FILE with the
arguments that follow FILE, one JSON value per parameter, and prints the
result as JSON and a newline on stdout.

JSON values are read according to the parameter's type: f64 and i64 as
numbers (an i64 must be integral), bool as true or false, arrays and
tuples as JSON arrays (nested arrays must be rectangular). Floats print in
the shortest form that reads back exactly; NaN and the infinities print as
the strings "NaN", "+Inf" and "-Inf", which are also accepted as input.

Quote each argument for the shell:

	nabla run examples/rosenbrock.nab
	nabla run -f rosen examples/rosenbrock.nab '[1, 2, 3]'
	nabla run -f scale model.nab '[0.5, -1.25]' -2

An argument @PATH is read from the file PATH, for data too large for the
command line: a numeric vector or matrix when PATH ends in .csv (fields
separated by commas, one row per line; a first line of names is
skipped; a vector parameter takes one column or one row), JSON
otherwise. An argument - is one JSON value read from standard input:

	nabla run -f fit model.nab @data.csv 0.1
	generate-data | nabla run -f fit model.nab - 0.1

An error in an argument names its position and parameter, and quotes at
most a short piece of the value (an error inside a file gives the file's
line and column).

--backend go generates Go code for the whole program, builds it with the
Go toolchain (go must be on PATH) and runs the binary: the same results
and errors as the interpreter. Builds are cached by content in
$NABLA_GOCACHE (default: the user cache directory's nabla/go), so a
program is built once and later runs of any of its defs reuse the
binary.

The standard library's iterative methods report each iteration (SPEC
§11). On a terminal, a run that lasts more than a moment shows the
latest report on a status line on stderr (never when stderr is not a
terminal). --plot FILE.png or FILE.svg draws the objective and the
gradient norm per iteration, on log scales, one line per method that ran
(with either backend).
` + fmt.Sprintf(limitsHelp, fmt.Sprint(rt.DefaultMemoryLimit())) + `

The Go backend honours all three: its binary is stopped at the deadline;
it checks each array's size before allocating it and watches its live
heap; under --max-steps it runs a second build of the program (cached
too) that counts loop iterations and the elements of the arrays it
builds, fewer kinds of step than the interpreter counts, so a limit
stops the two backends at different points of a run.`,
	setFlags: func(fs *flag.FlagSet) {
		fs.String("f", "main", "the def to call")
		fs.String("backend", "interp", "how to run: interp (the interpreter) or go (generated Go code, built and cached)")
		fs.String("plot", "", "write a convergence plot of the standard library's iterative methods to `FILE` (.png or .svg)")
		addLimitFlags(fs)
	},
	run: func(c *cli, cmd *command, args []string) int {
		fs, rest, status, done := c.parseFlags(cmd, args)
		if done {
			return status
		}
		name := fs.Lookup("f").Value.String()
		backend := fs.Lookup("backend").Value.String()
		switch backend {
		case "interp", "go":
		default:
			return c.usage(cmd, "unknown backend %q: want interp or go", backend)
		}
		lim, status, ok := c.readLimits(cmd, fs)
		if !ok {
			return status
		}
		plotFile, plotFormat := fs.Lookup("plot").Value.String(), ""
		if plotFile != "" {
			var err error
			if plotFormat, err = convplot.Format(plotFile); err != nil {
				return c.usage(cmd, "--plot: %v", err)
			}
		}
		if len(rest) == 0 {
			return c.usage(cmd, "missing FILE")
		}
		file, jsonArgs := rest[0], rest[1:]
		src, status, ok := c.readSource(cmd, file)
		if !ok {
			return status
		}
		prog, err := nabla.Compile(file, src, append(lim.options(), nabla.WithReadFile(importReader(file)))...)
		if err != nil {
			return c.programError(err)
		}
		f, err := prog.Func(name)
		if err != nil {
			return c.usage(cmd, "%s: %v%s", file, err, defList(prog, name))
		}
		params := f.Params()
		if len(jsonArgs) != len(params) {
			hint := ""
			if slices.ContainsFunc(jsonArgs, isFlag) {
				hint = " (flags go before FILE)"
			}
			return c.usage(cmd, "%s takes %d argument%s (%s), one per parameter: JSON, @FILE or -; got %d%s",
				name, len(params), plural(len(params)), paramList(f), len(jsonArgs), hint)
		}
		if jsonv.FuncIn(f.Result()) != nil {
			return c.usage(cmd, "%s returns %s, which has no JSON form", name, f.Result())
		}
		vals, status, ok := c.readArgs(cmd, f, jsonArgs)
		if !ok {
			return status
		}
		ctx, cancel := lim.context()
		defer cancel()
		// Progress: a status line on a terminal, records for the plot.
		var recs []nabla.Progress
		var line *statusLine
		if isTerminal(c.stderr) {
			line = newStatusLine(c.stderr)
		}
		if line != nil || plotFile != "" {
			ctx = nabla.WithProgress(ctx, func(p nabla.Progress) {
				if plotFile != "" {
					recs = append(recs, p)
				}
				if line != nil {
					line.update(p)
				}
			})
		}
		var v rt.Value
		if backend == "go" {
			v, err = runGo(ctx, file, src, name, vals, lim.runtime())
		} else {
			v, err = f.CallValues(ctx, vals)
		}
		if line != nil {
			line.clear()
		}
		if err == nil && plotFile != "" {
			if perr := writePlot(plotFile, plotFormat, recs); perr != nil {
				return c.fail(cmd, "--plot: %v", perr)
			}
		}
		if err != nil {
			return c.programError(lim.explain(err))
		}
		out, err := jsonv.Encode(f.Result(), v)
		if err != nil {
			return c.fail(cmd, "%v", err)
		}
		fmt.Fprintf(c.stdout, "%s\n", out)
		return exitOK
	},
}

// runGo runs def name with the Go backend: the program is generated,
// built (or found in the build cache) and run. ctx and lim bound the run,
// not the build.
func runGo(ctx context.Context, file string, src []byte, name string, args []rt.Value, lim rt.Limits) (rt.Value, error) {
	res, err := pipeline.Compile(context.Background(), file, src, pipeline.Options{ReadFile: importReader(file)})
	if err != nil {
		return rt.Value{}, err
	}
	backend := codegen.Backend
	if lim.Steps > 0 {
		backend = codegen.StepBackend // one build, the one that counts
	}
	r, err := backend.Load(context.Background(), res.Opt)
	if err != nil {
		return rt.Value{}, err
	}
	return r.Call(ctx, name, args, lim)
}

// defList suggests what to pass to -f: the defs of the main file (not
// those of imported modules, which are qualified), or says there are none.
func defList(prog *nabla.Program, name string) string {
	var own []string
	for _, n := range prog.Funcs() {
		if !strings.Contains(n, ".") {
			own = append(own, n)
		}
	}
	if len(own) == 0 {
		return "; the file has no defs"
	}
	hint := ""
	if name == "main" {
		hint = "; choose one with -f NAME"
	}
	return hint + "; its defs are " + strings.Join(own, ", ")
}

// isFlag reports whether a JSON argument looks like a misplaced flag.
func isFlag(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return strings.HasPrefix(s, "-") && err != nil
}

// importReader reads the imports of the program in file: regular files
// under its directory only (lang.RootReader).
func importReader(file string) func(string) ([]byte, error) {
	return lang.RootReader(filepath.Dir(file))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

var checkCmd = &command{
	name:  "check",
	args:  "[--rules] FILE ...",
	short: "parse and type-check programs",
	long: `
Check parses and type-checks each FILE with its imports and prints every
error as FILE:LINE:COL: message (a file that cannot be read as FILE:
cannot read: ...). It prints nothing and exits 0 when all files are
correct, and exits 1 otherwise. After 10 errors in one file it says "too
many errors" and goes on with the next file.

	nabla check examples/*.nab

--rules also tests every rewrite rule the files declare by evaluating
both of its sides on random inputs: the rule's variables are tried as
f64 scalars, then as f64 vectors (functions, indices and conditions by
how they are used). A rule whose sides disagree is reported on stderr
with a counterexample, as FILE:LINE:COL: rule NAME is unsound: ..., and
check exits 1. Otherwise check prints, for each rule, that its sides
agreed, or why it could not be tested (its sides do not type-check with
f64 scalars or vectors, or they fail on every input). A rule with a where
condition is tested on inputs that a match satisfying the condition could
have (is_zero(z) makes z zero, is_one(z) one), and reported as not
tested when too few of the random inputs do.

	nabla check --rules model.nab`,
	setFlags: func(fs *flag.FlagSet) {
		fs.Bool("rules", false, "also test each rewrite rule on random inputs")
	},
	run: func(c *cli, cmd *command, args []string) int {
		fs, files, status, done := c.parseFlags(cmd, args)
		if done {
			return status
		}
		if len(files) == 0 {
			return c.usage(cmd, "missing FILE")
		}
		// Every file is checked and every error reported (SPEC §8): a
		// file that cannot be read is one more error, not a reason to
		// stop.
		status = exitOK
		rules := fs.Lookup("rules").Value.String() == "true"
		var notes []string // the rule reports, printed on stdout if all is well
		for _, file := range files {
			src, err := lang.ReadSourceFile(file)
			if err != nil {
				var pe *os.PathError
				if errors.As(err, &pe) {
					err = pe.Err
				}
				fmt.Fprintf(c.stderr, "%s: cannot read: %v\n", file, err)
				status = exitError
				continue
			}
			if _, err := nabla.Compile(file, src, nabla.WithReadFile(importReader(file))); err != nil {
				status = c.programError(err)
				continue
			}
			if rules && !c.checkRules(file, src, &notes) {
				status = exitError
			}
		}
		if status == exitOK {
			for _, n := range notes {
				fmt.Fprintln(c.stdout, n)
			}
		}
		return status
	},
}

// checkRules tests the rewrite rules of a program that compiles; it
// reports false when a rule's sides disagree (or testing failed). Rules
// whose sides disagree are reported on stderr at once; the others are
// appended to notes (and those not tested also go to stderr, so that they
// are seen when check fails).
func (c *cli) checkRules(file string, src []byte, notes *[]string) bool {
	res, err := pipeline.Compile(context.Background(), file, src, pipeline.Options{ReadFile: importReader(file), Last: pipeline.AD})
	if err != nil {
		c.programError(err)
		return false
	}
	ok := true
	for _, r := range rulecheck.CheckAll(res.AD, rulecheck.Options{}) {
		switch r.Status {
		case rulecheck.Agrees:
			note := fmt.Sprintf("%s: rule %s: ok, both sides agree on %d random inputs (%s)", r.Rule.P, r.Rule.Name, r.Inputs, strings.Join(r.Typings, "; "))
			if r.Detail != "" {
				note += "; " + r.Detail
			}
			*notes = append(*notes, note)
		case rulecheck.Untested:
			*notes = append(*notes, fmt.Sprintf("%s: rule %s: not tested: %s", r.Rule.P, r.Rule.Name, r.Detail))
		default:
			fmt.Fprintf(c.stderr, "%s: rule %s is unsound: %s\n", r.Rule.P, r.Rule.Name, r.Detail)
			ok = false
		}
	}
	return ok
}

var irCmd = &command{
	name:  "ir",
	args:  "[-f NAME] [--stage core|specialize|ad|opt] FILE",
	short: "print the core IR of a def",
	long: `
IR prints the core IR of the def NAME in FILE, or of every def when -f is
omitted, in the stable text form of package ir: the surface language with
its sugar removed (comprehensions become build, @ becomes matmul, tuple
patterns become projections) and every binder annotated with its type.

	nabla ir -f rosen examples/rosenbrock.nab

--stage selects the stage: core (after type checking, the default),
specialize (after each def with function parameters is copied once per
distinct function argument), ad (after AD operators are expanded) or opt
(after AD and each def's rewrite strategy: its @strategy, or the standard
pipeline default).`,
	setFlags: func(fs *flag.FlagSet) {
		fs.String("f", "", "the def to print (default: all defs)")
		fs.String("stage", "core", "the stage: "+strings.Join(pipeline.Stages(), ", "))
	},
	run: func(c *cli, cmd *command, args []string) int {
		fs, rest, status, done := c.parseFlags(cmd, args)
		if done {
			return status
		}
		stage, err := pipeline.ParseStage(fs.Lookup("stage").Value.String())
		if err != nil {
			return c.usage(cmd, "%v", err)
		}
		if len(rest) != 1 {
			return c.usage(cmd, "want one FILE, got %d arguments", len(rest))
		}
		res, status, ok := c.compile(cmd, rest[0], pipeline.Options{Last: stage})
		if !ok {
			return status
		}
		p := res.Final()
		name := fs.Lookup("f").Value.String()
		if name == "" {
			fmt.Fprint(c.stdout, ir.Print(p))
			return exitOK
		}
		d := p.Def(name)
		if d == nil {
			return c.usage(cmd, "%s has no def named %q", rest[0], name)
		}
		fmt.Fprint(c.stdout, ir.PrintDef(d))
		return exitOK
	},
}

// compile reads FILE and runs the pipeline on it, for the commands that
// show IR.
func (c *cli) compile(cmd *command, file string, opts pipeline.Options) (*pipeline.Result, int, bool) {
	src, status, ok := c.readSource(cmd, file)
	if !ok {
		return nil, status, false
	}
	opts.ReadFile = importReader(file)
	res, err := pipeline.Compile(context.Background(), file, src, opts)
	if err != nil {
		return nil, c.programError(err), false
	}
	return res, 0, true
}

var optCmd = &command{
	name:  "opt",
	args:  "-f NAME [--strategy S] [--trace] FILE",
	short: "apply a rewrite strategy to a def and print the result",
	long: `
Opt applies a rewrite strategy to the def NAME in FILE, after AD operators
are expanded, and prints the resulting IR. The strategy is S when given
(its names resolve among FILE's rules and strategies and the built-in
ones), else the def's own @strategy, else the standard pipeline default.

--trace first lists each successful rule or pass application, one per
line: the rule's or pass's name (built-in rules as pass.rule), where it
applied, and the term before and after, then a blank line and the IR.
The list begins with the vectorization of element-wise comprehensions
that the ad stage applies before reverse mode (vectorize.build_map,
vectorize.build_matvec), in the def or, for f$vjp, in f.

	nabla opt --trace -f f model.nab
	nabla opt -f f --strategy 'topdown(try(map_fuse)); default' model.nab

Built-in strategies: the combinators id, fail, s1; s2, s1 <+ s2, try,
repeat, all, one, some, topdown, bottomup, innermost, outermost and
normalize, and the passes beta, inline, constfold, simplify, cse, dce,
deadfield, shapezeros, licm, fuse, lower, remat, save_all, remat_all and default.

Checkpointing: in a VJP def (f$vjp) reverse mode leaves each top-level
comprehension's choice between saving its forward values and recomputing
them in the reverse loop to a checkpointing pass, which runs before the
rest of the strategy and lists each decision in --trace with the
comprehension's position. remat (in default) recomputes bodies of scalar
arithmetic on elements (remat.cheap_body) and saves the others
(remat.save); save_all saves every one, remat_all recomputes every one.
The def's policy is the checkpointing pass its strategy names; f$vjp
takes the one f's @strategy names, else remat:

	nabla opt --trace -f 'f$vjp' model.nab
	nabla opt --trace -f 'f$vjp' --strategy 'save_all; default' model.nab`,
	setFlags: func(fs *flag.FlagSet) {
		fs.String("f", "", "the def to optimize (required)")
		fs.String("strategy", "", "the strategy to apply (default: the def's own)")
		fs.Bool("trace", false, "list each successful rule or pass application")
	},
	run: func(c *cli, cmd *command, args []string) int {
		fs, rest, status, done := c.parseFlags(cmd, args)
		if done {
			return status
		}
		name := fs.Lookup("f").Value.String()
		if name == "" {
			return c.usage(cmd, "missing -f NAME")
		}
		if len(rest) != 1 {
			return c.usage(cmd, "want one FILE, got %d arguments", len(rest))
		}
		traced := fs.Lookup("trace").Value.String() == "true"
		res, status, ok := c.compile(cmd, rest[0], pipeline.Options{Last: pipeline.AD, Trace: traced})
		if !ok {
			return status
		}
		if res.Core.Def(name) == nil && !strings.Contains(name, "$") {
			return c.usage(cmd, "%s has no def named %q", rest[0], name)
		}
		ep := res.AD
		d := ep.Def(name)
		if d == nil {
			return c.usage(cmd, "%s has no def named %q (after AD: generated defs such as f$vjp exist only where a derivative of f is used)", rest[0], name)
		}
		rw, err := pipeline.Rewriter()
		if err != nil {
			return c.programError(err)
		}
		var st ir.Strat
		if strategy := fs.Lookup("strategy").Value.String(); strategy != "" {
			if st, err = lang.ParseStrategy("--strategy", strategy); err != nil {
				return c.usage(cmd, "bad --strategy: %v", err)
			}
			if _, err := rw.Compile(ep, st, d.P.File); err != nil {
				return c.usage(cmd, "bad --strategy: %v", err)
			}
		}
		od, trace, err := rw.ApplyDef(ep, name, st, rewrite.Options{Trace: traced})
		if err != nil {
			return c.programError(err)
		}
		if trace != nil && res.Trace != nil {
			// The ad stage's vectorization of the def, or of the primal
			// def that f$vjp... was made from, comes first.
			base, _, _ := strings.Cut(name, "$")
			var steps []rewrite.Step
			for _, s := range res.Trace.Steps {
				if s.Def == name || s.Def == base {
					steps = append(steps, s)
				}
			}
			trace.Steps = append(steps, trace.Steps...)
		}
		if trace != nil && len(trace.Steps) > 0 {
			fmt.Fprintf(c.stdout, "%s\n", trace)
		}
		fmt.Fprint(c.stdout, ir.PrintDef(od))
		return exitOK
	},
}

var genCmd = &command{
	name:  "gen",
	args:  "[-o OUT] [-pkg PKG] [-dense] [--asm] FILE ...",
	short: "emit Go code for the exported defs",
	long: `
Gen emits one gofmt-formatted Go file with a documented function per
exported def of the FILEs (and an ...Into variant writing array results
into caller buffers), for use with go generate:

	//go:generate go run github.com/nabla-lang/nabla/cmd/nabla gen -pkg model -o model_nabla.go model.nab

export def rosen(x: [n]f64): f64 becomes func Rosen(x []float64) float64
(with an error result where a run can fail). The file imports only the
standard library and github.com/nabla-lang/nabla/runtime, and holds the
program's code alone (its arenas, errors and conversions are runtime's);
the same input always gives the same bytes.

Matrices of f64 are [][]float64 in the exported signatures; with -dense
they are gonum's *mat.Dense instead (and the file imports
gonum.org/v1/gonum/mat and github.com/nabla-lang/nabla/runtime/dense): an argument whose rows are contiguous, as
mat.NewDense makes them, is then read without a copy.

--asm is accepted for compatibility: the vectorized assembly kernels live
in the runtime package (with a pure-Go fallback under the purego build
tag), so the generated file itself never contains assembly.`,
	setFlags: func(fs *flag.FlagSet) {
		fs.String("o", "", "the output file (default: stdout)")
		fs.String("pkg", "main", "the Go package name")
		fs.Bool("asm", false, "accepted; the assembly kernels are in the runtime package")
		fs.Bool("dense", false, "f64 matrices are *mat.Dense (gonum) in exported signatures, not [][]float64")
	},
	run: func(c *cli, cmd *command, args []string) int {
		fs, files, status, done := c.parseFlags(cmd, args)
		if done {
			return status
		}
		if len(files) == 0 {
			return c.usage(cmd, "missing FILE")
		}
		pkg := fs.Lookup("pkg").Value.String()
		if !token.IsIdentifier(pkg) {
			return c.usage(cmd, "bad -pkg %q: want a Go package name", pkg)
		}
		for _, file := range files {
			// Unreadable files are bad usage, as for the other commands.
			if _, status, ok := c.readSource(cmd, file); !ok {
				return status
			}
		}
		dense := fs.Lookup("dense").Value.String() == "true"
		src, err := codegen.GenerateFiles(context.Background(), files, codegen.Options{Package: pkg, Dense: dense})
		if err != nil {
			return c.programError(err)
		}
		out := fs.Lookup("o").Value.String()
		if out == "" {
			c.stdout.Write(src)
			return exitOK
		}
		if err := os.WriteFile(out, src, 0o644); err != nil {
			return c.fail(cmd, "%v", err)
		}
		return exitOK
	},
}

var versionCmd = &command{
	name:  "version",
	args:  "",
	short: "print the version",
	long: `
Version prints nabla's version and the Go version it was built with:

	nabla 0.1.0-dev (go1.26.0)`,
	run: func(c *cli, cmd *command, args []string) int {
		_, rest, status, done := c.parseFlags(cmd, args)
		if done {
			return status
		}
		if len(rest) != 0 {
			return c.usage(cmd, "unexpected arguments %s", strings.Join(rest, " "))
		}
		fmt.Fprintf(c.stdout, "nabla %s (%s)\n", version(), runtime.Version())
		return exitOK
	},
}

// version is the module version stamped by `go install module@version`,
// or nabla.Version for a build from a checkout.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
	}
	return nabla.Version
}

var helpCmd = &command{
	name:  "help",
	args:  "[COMMAND]",
	short: "show help for a command",
	long: `
Help lists the commands, or shows the flags and examples of one:

	nabla help run`,
	run: func(c *cli, cmd *command, args []string) int {
		switch {
		case len(args) == 0:
			c.printUsage(c.stdout)
			return exitOK
		case len(args) > 1:
			return c.usage(cmd, "want at most one COMMAND, got %d", len(args))
		}
		target := lookup(args[0])
		if target == nil {
			names := make([]string, len(commands))
			for i, cmd := range commands {
				names[i] = cmd.name
			}
			slices.Sort(names)
			return c.usage(cmd, "unknown command %q; the commands are %s", args[0], strings.Join(names, ", "))
		}
		c.printHelp(c.stdout, target)
		return exitOK
	},
}
