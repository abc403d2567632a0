package main

import (
	"flag"
	"io"
	"os"

	"github.com/nabla-lang/nabla/bench/gradbench"
)

// gradbenchStdin is where the gradbench command reads its messages; tests
// replace it.
var gradbenchStdin io.Reader = os.Stdin

var gradbenchCmd = &command{
	name:  "gradbench",
	args:  "[--backend interp|go]",
	short: "answer the GradBench protocol on standard input and output",
	long: `
Gradbench makes nabla a tool of GradBench, the benchmark AD tools are
compared on: it reads the protocol's messages (start, define, evaluate,
analysis), one JSON object per line on standard input, and writes one
response line for each on standard output, until the end of input.

It implements the twelve evals (hello, lse, llsq, det, ode, gmm, lstm,
kmeans, ba, ht, particle, saddle) with modules written in Nabla and built
into the binary. A define compiles the module and reports that as a
"prepare" timing; an evaluate converts its input once, runs the function
as many times as the input's min_runs and min_seconds ask, and reports one
"evaluate" timing per run. Anything it cannot do is answered with
"success": false and the reason; diagnostics go to standard error only.

	python3 ../shared/gradbench/check.py --tool 'nabla gradbench'

With --backend go (the default is the interpreter, interp) a define
generates the module's Go code with nabla's code generator, builds it once
into the build cache of nabla run --backend go (the "prepare" timing of
the first define of a module includes the go build) and starts it; each
evaluate hands it the converted input, and the program times every call
itself, so the timings are computation only on both backends.`,
	setFlags: func(fs *flag.FlagSet) {
		fs.String("backend", "interp", "how to run the modules: interp (the interpreter) or go (generated Go code)")
	},
	run: func(c *cli, cmd *command, args []string) int {
		fs, rest, status, done := c.parseFlags(cmd, args)
		if done {
			return status
		}
		if len(rest) > 0 {
			return c.usage(cmd, "unexpected argument %q: the messages come on standard input", rest[0])
		}
		backend := fs.Lookup("backend").Value.String()
		tool, err := gradbench.New(gradbench.Options{Backend: backend, Log: c.stderr})
		if err != nil {
			return c.usage(cmd, "%v", err)
		}
		if err := tool.Serve(gradbenchStdin, c.stdout); err != nil {
			return c.fail(cmd, "%v", err)
		}
		return exitOK
	},
}
