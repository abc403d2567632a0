package convplot

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/nabla-lang/nabla/runtime"
)

// Format returns the image format a file name asks for, "png" or "svg",
// or an error naming the extensions that work.
func Format(path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png", ".svg":
		return ext[1:], nil
	default:
		return "", fmt.Errorf("cannot tell the plot's format from %q: want a .png or .svg file", path)
	}
}

// Method is the records of one method, in the order they were reported.
type Method struct {
	Name    string
	Records []runtime.Progress
}

// Group splits records by method, in the order methods first reported. A
// method that ran several times (an inner solver of auglag, say) is one
// line whose iterations continue from run to run.
func Group(recs []runtime.Progress) []Method {
	var out []Method
	at := map[string]int{}
	for _, r := range recs {
		i, ok := at[r.Method]
		if !ok {
			i = len(out)
			at[r.Method] = i
			out = append(out, Method{Name: r.Method})
		}
		out[i].Records = append(out[i].Records, r)
	}
	return out
}

// Size is the size of the drawing.
var Size = struct{ W, H vg.Length }{24 * vg.Centimeter, 10 * vg.Centimeter}

// Write draws the plot of recs to w in format ("png" or "svg"): the
// objective on the left, the gradient (or residual) norm on the right,
// both against the iteration on a log scale. Values that a log scale
// cannot show (zero, negative, NaN, infinite) are left out; a panel with
// none left says so in its title.
func Write(w io.Writer, format string, recs []runtime.Progress) error {
	if format != "png" && format != "svg" {
		return fmt.Errorf("convplot: unknown format %q: want png or svg", format)
	}
	methods := Group(recs)
	value := panel("objective", methods, func(r runtime.Progress) float64 { return r.Value })
	norm := panel("gradient norm", methods, func(r runtime.Progress) float64 { return r.GradNorm })
	c, err := draw.NewFormattedCanvas(Size.W, Size.H, format)
	if err != nil {
		return err
	}
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Centimeter, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	plots := [][]*plot.Plot{{value, norm}}
	for j, cv := range plot.Align(plots, tiles, dc)[0] {
		plots[0][j].Draw(cv)
	}
	_, err = c.WriteTo(w)
	return err
}

// panel is one side of the drawing: y(record) per iteration, one line per
// method, on a log scale when some value is positive and finite.
func panel(what string, methods []Method, y func(runtime.Progress) float64) *plot.Plot {
	p := plot.New()
	p.Title.Text = what
	p.X.Label.Text = "iteration"
	p.Legend.Top = true
	shown := 0
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, m := range methods {
		var xys plotter.XYs
		for k, r := range m.Records {
			if v := y(r); v > 0 && !math.IsInf(v, 0) {
				xys = append(xys, plotter.XY{X: float64(k + 1), Y: v})
				lo, hi = min(lo, v), max(hi, v)
			}
		}
		if len(xys) == 0 {
			continue
		}
		line, err := plotter.NewLine(xys)
		if err != nil { // only for NaN or infinite points, which are filtered out
			continue
		}
		line.Color = plotutil.Color(i)
		line.Dashes = plotutil.Dashes(i)
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(m.Name, line)
		shown++
	}
	if shown == 0 {
		p.Title.Text = what + " (no positive values to show)"
		return p
	}
	// The range is set here: gonum pads a one-value range linearly, which
	// can reach 0 and breaks the log scale.
	if lo == hi {
		lo, hi = lo/10, hi*10
	}
	p.Y.Min, p.Y.Max = lo, hi
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = sparseTicks{plot.LogTicks{Prec: 1}}
	return p
}

// sparseTicks labels at most about 8 of the decades LogTicks labels, so
// that a run over 30 orders of magnitude stays legible.
type sparseTicks struct{ plot.Ticker }

func (s sparseTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := s.Ticker.Ticks(lo, hi)
	labeled := 0
	for _, t := range ts {
		if t.Label != "" {
			labeled++
		}
	}
	every := (labeled + 7) / 8
	k := 0
	for i := range ts {
		if ts[i].Label == "" {
			continue
		}
		if k%every != 0 {
			ts[i].Label = ""
		}
		k++
	}
	return ts
}
