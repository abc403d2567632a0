package gradbench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"time"

	"github.com/nabla-lang/nabla/codegen"
	"github.com/nabla-lang/nabla/internal/jsonv"
	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// goModule is a module compiled to Go for --backend go: the generated
// program (built once into codegen's cache, keyed by its source) runs as
// a server process for the whole session, in the harness's -serve mode.
// An evaluation sends it the arguments once, and the program calls the
// def as often as the input asks, timing each call itself: the timings
// are computation only, as on the interpreter, with neither process
// start nor JSON in them.
type goModule struct {
	prog *ir.Program
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
}

// startGo compiles module, generates and builds its Go program and starts
// it.
func startGo(module string, log io.Writer) (*goModule, error) {
	src, err := Source(module)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	res, err := pipeline.Compile(ctx, module+".nab", src, pipeline.Options{ReadFile: modules.ReadFile})
	if err != nil {
		return nil, err
	}
	gosrc, err := codegen.Generate(res.Opt, codegen.Options{Main: true})
	if err != nil {
		return nil, err
	}
	bin, err := codegen.Build(ctx, gosrc)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-serve")
	cmd.Stderr = log
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &goModule{prog: res.Opt, cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<16)}, nil
}

// signature is a def's parameter and result types.
func (g *goModule) signature(def string) ([]ir.Type, ir.Type, error) {
	return codegen.Signature(g.prog, def)
}

// call runs def on args as often as rep asks and returns the last result
// and each call's time.
func (g *goModule) call(def string, args []runtime.Value, rep reps) (runtime.Value, []time.Duration, error) {
	params, result, err := g.signature(def)
	if err != nil {
		return runtime.Value{}, nil, err
	}
	if len(params) != len(args) {
		return runtime.Value{}, nil, fmt.Errorf("%s takes %d arguments, got %d", def, len(params), len(args))
	}
	req := []byte(`{"def":`)
	req = strconv.AppendQuote(req, def)
	req = append(req, `,"args":[`...)
	for i, a := range args {
		if i > 0 {
			req = append(req, ',')
		}
		b, err := jsonv.Encode(params[i], a)
		if err != nil {
			return runtime.Value{}, nil, err
		}
		req = append(req, b...)
	}
	req = append(req, `],"runs":`...)
	req = strconv.AppendInt(req, int64(rep.runs), 10)
	req = append(req, `,"seconds":`...)
	req = strconv.AppendFloat(req, rep.seconds, 'g', -1, 64)
	req = append(req, "}\n"...)
	if _, err := g.in.Write(req); err != nil {
		return runtime.Value{}, nil, fmt.Errorf("the generated program: %v", err)
	}
	line, err := g.out.ReadBytes('\n')
	if err != nil {
		return runtime.Value{}, nil, fmt.Errorf("the generated program stopped: %v", err)
	}
	var resp struct {
		Times  []int64
		Output json.RawMessage
		Error  *string
	}
	if err := json.Unmarshal(line, &resp); err != nil {
		return runtime.Value{}, nil, fmt.Errorf("the generated program answered %q: %v", clip(line), err)
	}
	if resp.Error != nil {
		return runtime.Value{}, nil, errors.New(*resp.Error)
	}
	v, err := jsonv.Decode(result, bytes.TrimSpace(resp.Output))
	if err != nil {
		return runtime.Value{}, nil, err
	}
	times := make([]time.Duration, len(resp.Times))
	for i, t := range resp.Times {
		times[i] = time.Duration(t)
	}
	return v, times, nil
}

// close ends the program.
func (g *goModule) close() {
	g.in.Close()
	g.cmd.Wait()
}
