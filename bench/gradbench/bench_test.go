package gradbench

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkSmall times every function of every eval on the kit's smallest
// recorded input (data/NAME/small.jsonl, or the eval's only file), for
// profiling:
//
//	go test -run '^$' -bench 'Small/kmeans/dir' -cpuprofile cpu.out ./bench/gradbench
func BenchmarkSmall(b *testing.B) {
	data := "../../../shared/gradbench/data"
	if _, err := os.Stat(data); err != nil {
		b.Skip("no GradBench kit at", data)
	}
	for _, name := range order {
		path := filepath.Join(data, name, "small.jsonl")
		if _, err := os.Stat(path); err != nil {
			matches, _ := filepath.Glob(filepath.Join(data, name, "*.jsonl"))
			if len(matches) == 0 {
				continue
			}
			path = matches[0]
		}
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		prog, err := compileModule(name)
		if err != nil {
			b.Fatal(err)
		}
		ev := evals[name]
		inputs := map[string]json.RawMessage{}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<28)
		done := map[string]bool{}
		for sc.Scan() {
			var r struct {
				Message message          `json:"message"`
				InputOf *json.RawMessage `json:"input_of"`
			}
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				b.Fatal(err)
			}
			m := r.Message
			if m.Kind != "evaluate" {
				continue
			}
			if r.InputOf != nil {
				m.Input = inputs[string(*r.InputOf)]
			}
			inputs[string(m.ID)] = m.Input
			if done[m.Function] {
				continue
			}
			done[m.Function] = true
			in, err := ev.decode(m.Input)
			if err != nil {
				b.Fatal(err)
			}
			fn := ev.funcs[m.Function]
			def := fn.defs[0]
			if fn.pick != nil {
				def = fn.pick(in)
			}
			call, err := prog.Func(def)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(name+"/"+m.Function, func(b *testing.B) {
				for b.Loop() {
					if _, err := call.CallValues(context.Background(), in.args); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		f.Close()
	}
}
