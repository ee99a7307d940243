package dashboard

import (
	"context"
	"database/sql"
	"slices"
	"sync"
	"testing"
	"time"
)

func openSample(t testing.TB) *sql.DB {
	t.Helper()
	db, err := OpenSampleDB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

type regionStats struct {
	rows, countries, months, products int
	revenue                           float64
}

func statsByRegion(t *testing.T, db *sql.DB) map[string]regionStats {
	t.Helper()
	rows, err := db.Query(`SELECT region, COUNT(*), COUNT(DISTINCT country), COUNT(DISTINCT month), COUNT(DISTINCT product), SUM(amount)
		FROM sales GROUP BY region`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]regionStats{}
	for rows.Next() {
		var r string
		var s regionStats
		if err := rows.Scan(&r, &s.rows, &s.countries, &s.months, &s.products, &s.revenue); err != nil {
			t.Fatal(err)
		}
		out[r] = s
	}
	return out
}

func TestSampleDB(t *testing.T) {
	start := time.Now()
	db := openSample(t)
	// It takes about 10ms; the margin is for the race detector and busy machines.
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("OpenSampleDB took %v, want well under a second", d)
	}
	stats := statsByRegion(t, db)
	total := 0
	for _, region := range SampleExternalValues() {
		s, ok := stats[region]
		if !ok {
			t.Fatalf("no rows for %s", region)
		}
		total += s.rows
		if s.countries < 3 || s.countries > 4 || s.months != 12 || s.products != 5 {
			t.Errorf("%s: %+v, want 3-4 countries, 12 months, 5 products", region, s)
		}
	}
	if len(stats) != 3 || total < 2000 || total > 6000 {
		t.Errorf("%d regions, %d rows; want 3 regions and a few thousand rows", len(stats), total)
	}
	// Each region's total clearly differs from the others (by over 10%).
	for _, a := range SampleExternalValues() {
		for _, b := range SampleExternalValues() {
			if ra, rb := stats[a].revenue, stats[b].revenue; a < b && (max(ra, rb)/min(ra, rb) < 1.1) {
				t.Errorf("revenue of %s (%.0f) and %s (%.0f) are too close", a, ra, b, rb)
			}
		}
	}
	var month string
	if err := db.QueryRow("SELECT MIN(month) || '/' || MAX(month) FROM sales").Scan(&month); err != nil || month != "2025-01/2025-12" {
		t.Errorf("months %q, %v", month, err)
	}
	if !slices.IsSorted(SampleExternalValues()) {
		t.Error("SampleExternalValues is not sorted")
	}
}

func TestSampleDBDeterministicAndSeparate(t *testing.T) {
	a, b := openSample(t), openSample(t)
	sa, sb := statsByRegion(t, a), statsByRegion(t, b)
	for r := range sa {
		if sa[r] != sb[r] {
			t.Errorf("%s differs between two opens: %+v vs %+v", r, sa[r], sb[r])
		}
	}
	// Each call has its own database: a change to one is not seen in the other.
	if _, err := a.Exec("DELETE FROM sales WHERE region = 'EMEA'"); err != nil {
		t.Fatal(err)
	}
	if _, ok := statsByRegion(t, b)["EMEA"]; !ok {
		t.Error("deleting from one sample database changed another")
	}
}

// Every pooled connection must see the same data, including connections
// opened after the fill, while queries run at the same time.
func TestSampleDBConcurrentConnections(t *testing.T) {
	db := openSample(t)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n int
			// A held transaction forces the pool to open more connections.
			tx, err := db.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
			if err != nil {
				errs <- err
				return
			}
			defer tx.Rollback()
			region := SampleExternalValues()[i%3]
			if err := tx.QueryRow("SELECT COUNT(*) FROM sales WHERE region = ?", region).Scan(&n); err != nil {
				errs <- err
				return
			}
			if n == 0 {
				errs <- sql.ErrNoRows
			}
			time.Sleep(time.Millisecond)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s := db.Stats(); s.MaxOpenConnections < 2 || s.OpenConnections < 2 {
		t.Errorf("pool stats %+v: the test did not use several connections", s)
	}
}
