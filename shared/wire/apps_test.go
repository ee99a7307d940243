package wire

import (
	"encoding/json"
	"testing"
)

func TestParseAppHost(t *testing.T) {
	for host, want := range map[string][2]string{
		"sales-api-1234567890123456.localhost":             {"sales-api", "1234567890123456"},
		"app-2-99.us-east-1.databricksapps.com":            {"app-2", "99"},
		"Sales-API-1.localhost":                            {"sales-api", "1"},
		AppHostLabel("x", "7") + ".aws.databricksapps.com": {"x", "7"},
	} {
		name, ws, ok := ParseAppHost(host)
		if !ok || name != want[0] || ws != want[1] {
			t.Errorf("%s: %q %q %v", host, name, ws, ok)
		}
	}
	for _, bad := range []string{"localhost", "127.0.0.1", "-123.localhost", "sales-.localhost", "sales-api-12a.localhost", "::1", ""} {
		if _, _, ok := ParseAppHost(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestAPIErrorReason(t *testing.T) {
	var e APIError
	in := `{"error_code":"PERMISSION_DENIED","message":"m","details":[{"@type":"other"},
	  {"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"NO_CAN_USE","metadata":{"app":"sales-api"}}]}`
	if err := json.Unmarshal([]byte(in), &e); err != nil {
		t.Fatal(err)
	}
	if info, ok := e.Info(); e.Reason() != AppsReasonNoCanUse || !ok || info.Metadata[AppsMetaApp] != "sales-api" {
		t.Fatalf("reason %q info %+v", e.Reason(), info)
	}
	if (&APIError{ErrorCode: "X"}).Reason() != "" {
		t.Fatal("a reason without details")
	}
}
