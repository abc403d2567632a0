//go:build amd64 && !purego

package runtime

// Cache blocking of the AVX2 matrix product (GotoBLAS order): for each
// block of gemmNC columns and gemmKC steps of l, op(B) is packed into
// panels of gemmNR columns (about 1 MB, in L2 or L3); for each block of
// gemmMC rows, op(A) is packed into panels of gemmMR rows (192 KB, in L2);
// the micro-kernel then runs over every pair of panels, a panel of B
// (16 KB) staying in L1 while the panels of A stream past it.
const (
	gemmKC = 256
	gemmMC = 96 // a multiple of gemmMR
	gemmNC = 512
	// Tiles with fewer multiply-adds, thinner than a micro-tile or with
	// fewer than gemmPackMinK steps are not worth packing: they go
	// through gemmTileRows. (Measured: from 8×8×8 on, packing is faster,
	// 1.5× at 8³ and 2× from 16³.)
	gemmPackMin  = 1 << 8
	gemmPackMinK = 4
)

// gemmTileAVX2 is gemmTile with packed panels and gemm6x8AVX2.
func gemmTileAVX2(ks *kernelSet, p gemmArgs, i0, i1, j0, j1 int, w []float64, ldw int) {
	mt, nt, k := i1-i0, j1-j0, p.k
	if mt < gemmMR || nt < gemmNR || k < gemmPackMinK || mt*nt*k < gemmPackMin {
		gemmTileRows(ks, p, i0, i1, j0, j1, w, ldw)
		return
	}
	abuf := getBuf(gemmMC * gemmKC)
	bbuf := getBuf(gemmKC * roundUp(min(gemmNC, nt), gemmNR))
	ap, bp := *abuf, *bbuf
	var edge [gemmMR * gemmNR]float64
	for jc := 0; jc < nt; jc += gemmNC {
		nc := min(gemmNC, nt-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			load := pc > 0 // continue the chains of the earlier blocks of l
			packB(&p, pc, kc, j0+jc, nc, bp)
			for ic := 0; ic < mt; ic += gemmMC {
				mc := min(gemmMC, mt-ic)
				packA(&p, i0+ic, mc, pc, kc, ap)
				for jr := 0; jr < nc; jr += gemmNR {
					bpan := bp[jr*kc : (jr+gemmNR)*kc]
					cols := min(gemmNR, nc-jr)
					for ir := 0; ir < mc; ir += gemmMR {
						apan := ap[ir*kc : (ir+gemmMR)*kc]
						rows := min(gemmMR, mc-ir)
						off := (ic+ir)*ldw + jc + jr
						if rows == gemmMR && cols == gemmNR {
							gemm6x8AVX2(kc, apan, bpan, w[off:off+(gemmMR-1)*ldw+gemmNR], ldw, load)
							continue
						}
						// An edge tile: run the kernel on a full tile in
						// edge and keep the part inside C.
						if load {
							for r := range rows {
								copy(edge[r*gemmNR:r*gemmNR+cols], w[off+r*ldw:off+r*ldw+cols])
							}
						}
						gemm6x8AVX2(kc, apan, bpan, edge[:], gemmNR, load)
						for r := range rows {
							copy(w[off+r*ldw:off+r*ldw+cols], edge[r*gemmNR:r*gemmNR+cols])
						}
					}
				}
			}
		}
	}
	putBuf(abuf)
	putBuf(bbuf)
}

// packA copies rows [i, i+mc) and steps [pc, pc+kc) of op(A) into ap as
// panels of gemmMR rows: panel q holds element (i+q·gemmMR+r, pc+l) at
// ap[q·gemmMR·kc + l·gemmMR + r]. Rows past mc are zero.
func packA(p *gemmArgs, i, mc, pc, kc int, ap []float64) {
	for ir := 0; ir < mc; ir += gemmMR {
		dst := ap[ir*kc : (ir+gemmMR)*kc]
		rows := min(gemmMR, mc-ir)
		if p.transA {
			// op(A)[i][l] = a[l·m + i]: the panel's rows are contiguous.
			for l := range kc {
				o := (pc+l)*p.m + i + ir
				d := dst[l*gemmMR : (l+1)*gemmMR]
				copy(d, p.a[o:o+rows])
				clear(d[rows:])
			}
			continue
		}
		for r := range gemmMR {
			if r >= rows {
				for l := range kc {
					dst[l*gemmMR+r] = 0
				}
				continue
			}
			o := (i+ir+r)*p.k + pc
			for l, v := range p.a[o : o+kc] {
				dst[l*gemmMR+r] = v
			}
		}
	}
}

// packB copies steps [pc, pc+kc) and columns [j, j+nc) of op(B) into bp
// as panels of gemmNR columns: panel q holds element (pc+l, j+q·gemmNR+c)
// at bp[q·gemmNR·kc + l·gemmNR + c]. Columns past nc are zero.
func packB(p *gemmArgs, pc, kc, j, nc int, bp []float64) {
	for jr := 0; jr < nc; jr += gemmNR {
		dst := bp[jr*kc : (jr+gemmNR)*kc]
		cols := min(gemmNR, nc-jr)
		if !p.transB {
			for l := range kc {
				o := (pc+l)*p.n + j + jr
				d := dst[l*gemmNR : (l+1)*gemmNR]
				copy(d, p.b[o:o+cols])
				clear(d[cols:])
			}
			continue
		}
		// op(B)[l][j] = b[j·k + l].
		for c := range gemmNR {
			if c >= cols {
				for l := range kc {
					dst[l*gemmNR+c] = 0
				}
				continue
			}
			o := (j+jr+c)*p.k + pc
			for l, v := range p.b[o : o+kc] {
				dst[l*gemmNR+c] = v
			}
		}
	}
}
