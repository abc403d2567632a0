// Package gradbench makes Nabla a GradBench tool: it answers the
// benchmark's line-based JSON protocol (start, define, evaluate, analysis)
// by running the twelve evals' modules, written in Nabla and embedded in
// the binary (hello.nab, lse.nab, ..., saddle.nab beside this file).
//
// Each module is plain Nabla written from the evals' descriptions, with
// every derivative taken by Nabla's AD operators. This package only moves
// data: at define it compiles the module (the "prepare" timing), at
// evaluate it converts the JSON input to interpreter values once, calls the
// def as often as min_runs and min_seconds ask, timing each call alone
// ("evaluate" timings), and converts the last result to the JSON shape the
// eval expects. Shapes that are not arrays of the result (bundle
// adjustment's compressed sparse rows, GMM's object of gradients, the flat
// LSTM gradient) are assembled here from what the module computed; no
// arithmetic on derivatives happens in Go.
//
// Tool.Serve is the protocol loop; the nabla command's "gradbench"
// subcommand runs it on standard input and output. Table times the kit's
// recorded cases in process and writes the comparison table of
// docs/performance.md; the command in ./table prints it.
package gradbench
