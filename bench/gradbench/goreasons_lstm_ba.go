package gradbench

// Why generated Go misses its goals on lstm and ba, from CPU profiles of
// the generated programs (their -serve mode, with pprof) at the recorded
// sizes. They sit in a file of their own so that the other evals'
// reasons are added without touching these.
func init() {
	goReasons["lstm"] = lstmGoReason
	goReasons["ba"] = baGoReason
}

const lstmGoReason = "in steady state (1 s of runs) the gradient costs about 3.3 primals: its forward pass " +
	"is the primal's (exp, tanh and the sigmoids are a third of the profile), the reverse pass costs as much again, " +
	"and saving each layer's states and gates for it copies them (runtime.memmove about 12%); where the recorded " +
	"repetitions time one or two runs (the default sizes, 0.1 s), the first run's first touch of its arena " +
	"(about 13 MB at l = 2, 40 MB at l = 6) is a large share, and with the machine's load the wall-clock figure more"

const baGoReason = "ba.nab works on whole vectors of observations, so the Jacobian's three reverse passes " +
	"write and read back a few hundred p-vectors (about 100 MB at ba1) where manual keeps one observation in " +
	"registers; GradBench's recorded repetitions time one run of each case (the first lasts longer than the seconds " +
	"asked), and a first run is mostly the first touch of that memory (page faults about 4 ms per MB of CPU on " +
	"this machine without huge pages): in steady state ba1's Jacobian takes about 21 ms of CPU, 7–9 primals"
