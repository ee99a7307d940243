package dashboard

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed sales.lvdash.json
var sampleFile []byte

// SampleFileName names the bundled definition in messages.
const SampleFileName = "sales.lvdash.json"

// Sample returns the bundled sales dashboard, freshly parsed so callers may
// change their copy.
func Sample() *Definition {
	d, err := Parse(SampleFileName, sampleFile)
	if err != nil {
		// The bundled file is parsed by the tests; reaching this is a build mistake.
		panic(err)
	}
	return d
}

// SampleFile returns the bundled definition's JSON, e.g. to serve as the
// dashboard's serialized_dashboard.
func SampleFile() []byte { return slices.Clone(sampleFile) }

// sampleRegion describes one region's share of the sample data. The regions
// differ in countries, order counts, price level and seasonality, so every
// widget shows a visibly different picture per viewer.
type sampleRegion struct {
	name      string
	countries []string
	orders    int     // rows per country, month and product
	price     float64 // price level relative to list price
	season    func(month int) float64
}

var sampleRegions = []sampleRegion{
	{"AMER", []string{"United States", "Canada", "Brazil"}, 7, 1.10,
		func(m int) float64 { return 0.85 + 0.03*float64(m) + when(m >= 9, 0.35) }}, // Q4 peak
	{"APAC", []string{"Japan", "Australia", "India", "Singapore"}, 4, 0.90,
		func(m int) float64 { return 0.70 + 0.06*float64(m) }}, // steady growth
	{"EMEA", []string{"Germany", "France", "United Kingdom", "Spain"}, 5, 1.00,
		func(m int) float64 { return 1.05 - when(m == 6 || m == 7, 0.3) }}, // summer dip
}

func when(cond bool, v float64) float64 {
	if cond {
		return v
	}
	return 0
}

// sampleProducts, their list prices and the most units of one order
// (cheap accessories sell in larger numbers).
var sampleProducts = []struct {
	name     string
	price    float64
	maxUnits int
}{{"Laptop", 1150, 4}, {"Monitor", 290, 6}, {"Dock", 210, 8}, {"Headset", 120, 14}, {"Keyboard", 75, 20}}

// SampleExternalValues returns the regions of the sample data, which are the
// external_value of the demo viewers, sorted.
func SampleExternalValues() []string {
	out := make([]string, len(sampleRegions))
	for i, r := range sampleRegions {
		out[i] = r.name
	}
	return out
}

var sampleDBSeq atomic.Uint64

// OpenSampleDB opens a new in-memory SQLite database holding the sample
// table sales(region, country, month, product, amount, units), filled
// deterministically (fixed-seed PRNG) with a few thousand rows of 2025.
//
// The database is a named shared-cache memory database, unique per call, so
// every connection of the pool sees the same data and concurrent queries
// are safe. An in-memory database lives as long as one connection to it is
// open, so idle connections are never closed: the pool keeps as many idle
// connections as it may open. Close the DB to free it.
func OpenSampleDB(ctx context.Context) (*sql.DB, error) {
	dsn := fmt.Sprintf("file:embedlab-sales-%d?mode=memory&cache=shared", sampleDBSeq.Add(1))
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sample database: %w", err)
	}
	const conns = 4
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	if err := fillSample(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("fill sample database: %w", err)
	}
	return db, nil
}

func fillSample(ctx context.Context, db *sql.DB) error {
	const schema = `CREATE TABLE sales (
  region  TEXT    NOT NULL,
  country TEXT    NOT NULL,
  month   TEXT    NOT NULL, -- 'YYYY-MM'
  product TEXT    NOT NULL,
  amount  REAL    NOT NULL, -- revenue, rounded to cents
  units   INTEGER NOT NULL
);
CREATE INDEX sales_region ON sales (region)`
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, "INSERT INTO sales (region, country, month, product, amount, units) VALUES (?, ?, ?, ?, ?, ?)")
	if err != nil {
		return err
	}
	defer ins.Close()
	rng := rand.New(rand.NewPCG(2025, 42))
	for _, r := range sampleRegions {
		for _, country := range r.countries {
			for m := range 12 {
				month := fmt.Sprintf("2025-%02d", m+1)
				for _, p := range sampleProducts {
					for range r.orders {
						units := 1 + rng.IntN(p.maxUnits)
						discount := 0.85 + 0.2*rng.Float64()
						amount := math.Round(float64(units)*p.price*r.price*discount*r.season(m)*100) / 100
						if _, err := ins.ExecContext(ctx, r.name, country, month, p.name, amount, units); err != nil {
							return err
						}
					}
				}
			}
		}
	}
	return tx.Commit()
}
