// Command compress writes the precompressed forms of a file, FILE.gz
// (gzip -9) and FILE.br (brotli, quality 11 by default), for the backend to
// serve with Content-Encoding. `make wasm` runs it on web/app.wasm; it needs
// no system tool.
//
//	go run ./backend/bench/compress [-brotli-quality 11] FILE...
//
// An encoded file that already decodes to FILE is kept (and touched, so the
// server, which skips encoded files older than FILE, still serves it):
// brotli at quality 11 takes about 20 s for the Wasm, and `go build`
// rewrites app.wasm even when nothing changed. Files are replaced
// atomically, so a running server never serves half of one.
package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
)

func main() {
	quality := flag.Int("brotli-quality", brotli.BestCompression, "brotli quality, 0 to 11")
	force := flag.Bool("force", false, "encode even when the encoded files are up to date")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: compress [-brotli-quality 11] [-force] FILE...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 || *quality < brotli.BestSpeed || *quality > brotli.BestCompression {
		flag.Usage()
		os.Exit(2)
	}
	for _, name := range flag.Args() {
		if err := compressFile(name, *quality, *force); err != nil {
			fmt.Fprintln(os.Stderr, "compress:", err)
			os.Exit(1)
		}
	}
}

// encoding is one precompressed form.
type encoding struct {
	suffix string
	encode func(w io.Writer, data []byte) error
	decode func(r io.Reader) (io.Reader, error)
}

func encodings(quality int) []encoding {
	return []encoding{
		{".gz",
			func(w io.Writer, data []byte) error {
				zw, _ := gzip.NewWriterLevel(w, gzip.BestCompression) // the level is valid
				if _, err := zw.Write(data); err != nil {
					return err
				}
				return zw.Close()
			},
			func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }},
		{".br",
			func(w io.Writer, data []byte) error {
				bw := brotli.NewWriterLevel(w, quality)
				if _, err := bw.Write(data); err != nil {
					return err
				}
				return bw.Close()
			},
			func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil }},
	}
}

func compressFile(name string, quality int, force bool) error {
	start := time.Now()
	data, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	encs := encodings(quality)
	sizes := make([]int64, len(encs))
	reused := make([]bool, len(encs))
	errs := make([]error, len(encs))
	var wg sync.WaitGroup
	for i, enc := range encs {
		wg.Go(func() {
			sizes[i], reused[i], errs[i] = writeEncoded(name+enc.suffix, data, enc, force)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	how := "encoded"
	if reused[0] && reused[1] {
		how = "up to date"
	}
	fmt.Printf("%s: %s raw, %s gzip, %s brotli (%s in %s)\n", name,
		mb(int64(len(data))), mb(sizes[0]), mb(sizes[1]), how, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// writeEncoded writes out, unless it already decodes to data; it returns
// the encoded size and whether the file was kept.
func writeEncoded(out string, data []byte, enc encoding, force bool) (int64, bool, error) {
	if !force && decodesTo(out, data, enc) {
		now := time.Now()
		if err := os.Chtimes(out, now, now); err != nil {
			return 0, false, err
		}
		fi, err := os.Stat(out)
		if err != nil {
			return 0, false, err
		}
		return fi.Size(), true, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return 0, false, err
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	var buf bytes.Buffer
	if err := enc.encode(&buf, data); err != nil {
		tmp.Close()
		return 0, false, fmt.Errorf("%s: %w", out, err)
	}
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return 0, false, err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return 0, false, err
	}
	if err := tmp.Close(); err != nil {
		return 0, false, err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return 0, false, err
	}
	return int64(buf.Len()), false, nil
}

// decodesTo reports whether the file out exists and decodes to data.
func decodesTo(out string, data []byte, enc encoding) bool {
	f, err := os.Open(out)
	if err != nil {
		return false
	}
	defer f.Close()
	r, err := enc.decode(f)
	if err != nil {
		return false
	}
	got, err := io.ReadAll(io.LimitReader(r, int64(len(data))+1))
	return err == nil && bytes.Equal(got, data)
}

func mb(n int64) string { return fmt.Sprintf("%.2f MB", float64(n)/1e6) }
