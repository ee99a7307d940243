package doctor

import (
	"encoding/json"
	"os"
	"testing"

	"embedlab/backend/emulator/dashboard"
	"embedlab/shared/wire"
)

func TestScanExternalValue(t *testing.T) {
	for _, tc := range []struct {
		sql            string
		uses, mentions int
	}{
		{"SELECT * FROM sales WHERE region = __aibi_external_value", 1, 1},
		{"SELECT * FROM sales WHERE region = __AIBI_EXTERNAL_VALUE", 1, 1},
		{"SELECT * FROM sales", 0, 0},
		{"SELECT * FROM sales -- WHERE region = __aibi_external_value", 0, 1},
		{"SELECT * FROM sales /* WHERE region = __aibi_external_value */", 0, 1},
		{"SELECT '__aibi_external_value' AS x FROM sales", 0, 1},
		{`SELECT "__aibi_external_value" FROM sales`, 0, 1},
		{"SELECT `__aibi_external_value` FROM sales", 0, 1},
		{`SELECT 'it''s __aibi_external_value' FROM t WHERE a = __aibi_external_value`, 1, 2},
		{`SELECT 'a\' __aibi_external_value' FROM t`, 0, 1},
		{"SELECT * FROM t WHERE a = :__aibi_external_value", 0, 1},
		{"SELECT * FROM t WHERE my__aibi_external_value = 1 AND __aibi_external_value_x = 2", 0, 2},
		{"SELECT * FROM t WHERE a = :region AND b = __aibi_external_value", 1, 1},
		{"SELECT * FROM t WHERE a = lower(__aibi_external_value) OR b = __aibi_external_value", 2, 2},
		{"SELECT * FROM t WHERE a = '__aibi_external_value", 0, 1}, // unterminated: all literal
	} {
		uses, mentions := scanExternalValue(tc.sql)
		if uses != tc.uses || mentions != tc.mentions {
			t.Errorf("scanExternalValue(%q) = %d uses, %d mentions; want %d, %d", tc.sql, uses, mentions, tc.uses, tc.mentions)
		}
	}
}

// TestScanAgreesWithTheEmulator: on every dataset the emulator can run, the
// doctor's scan and the emulator's binder agree on whether it is filtered.
func TestScanAgreesWithTheEmulator(t *testing.T) {
	files := map[string][]byte{dashboard.SampleFileName: dashboard.SampleFile()}
	for _, f := range []string{"testdata/clean.lvdash.json", "testdata/leaky.lvdash.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		files[f] = b
	}
	for name, b := range files {
		def, err := dashboard.Parse(name, b)
		if err != nil {
			t.Fatal(err)
		}
		var ser wire.SerializedDashboard
		if err := json.Unmarshal(b, &ser); err != nil {
			t.Fatal(err)
		}
		for i, ds := range def.Datasets {
			uses, _ := scanExternalValue(ser.Datasets[i].SQL())
			if (uses > 0) != ds.UsesExternalValue() {
				t.Errorf("%s: %s: doctor says %d uses, emulator says %v", name, ds.Name, uses, ds.UsesExternalValue())
			}
		}
	}
}

func TestFrameAncestors(t *testing.T) {
	const instance = "https://adb-1.2.azuredatabricks.net"
	for _, tc := range []struct {
		csp, origin string
		ok          bool
	}{
		{"default-src 'none'; frame-ancestors http://localhost:3000 http://127.0.0.1:3000", "http://localhost:3000", true},
		{"frame-ancestors http://localhost:3000", "http://localhost:3001", false},
		{"frame-ancestors http://localhost:3000", "https://localhost:3000", true}, // CSP 3: http sources match https
		{"frame-ancestors https://localhost:3000", "http://localhost:3000", false},
		{"frame-ancestors 'none'", "http://localhost:3000", false},
		{"frame-ancestors *", "https://portal.example.com", true},
		{"frame-ancestors https:", "https://portal.example.com", true},
		{"frame-ancestors https:", "http://portal.example.com", false},
		{"frame-ancestors https://*.example.com", "https://portal.example.com", true},
		{"frame-ancestors https://*.example.com", "https://example.com", false},
		{"frame-ancestors portal.example.com", "https://portal.example.com", true},
		{"frame-ancestors https://portal.example.com:*", "https://portal.example.com:8443", true},
		{"frame-ancestors https://portal.example.com", "https://portal.example.com:8443", false},
		{"frame-ancestors 'self'", instance, true},
		{"frame-ancestors 'self'", "https://portal.example.com", false},
	} {
		src, found := frameAncestors([]string{tc.csp})
		if !found {
			t.Fatalf("%q: no frame-ancestors found", tc.csp)
		}
		if got := allowed(tc.origin, src, instance); got != tc.ok {
			t.Errorf("%q allows %s = %v, want %v", tc.csp, tc.origin, got, tc.ok)
		}
	}
	if _, found := frameAncestors([]string{"default-src 'self'"}); found {
		t.Error("found frame-ancestors where there is none")
	}
}
