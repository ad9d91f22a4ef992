package labdir

import (
	"encoding/json"
	"slices"
	"testing"
)

// FuzzParseMeta feeds lab.json any bytes: it never panics, and what it
// accepts is a known format and backend that survives a round trip.
// Corpus: testdata/fuzz/FuzzParseMeta (real lab.json files and findings).
func FuzzParseMeta(f *testing.F) {
	f.Add([]byte(`{"version":1,"backend":"sim","seed":1,"created":"2026-01-02T03:04:05Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMeta(data)
		if err != nil {
			return
		}
		if m.Version < 1 || m.Version > metaVersion || !slices.Contains(Backends, m.Backend) {
			t.Fatalf("accepted %+v from %q", m, data)
		}
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", m, err)
		}
		back, err := ParseMeta(out)
		if err != nil {
			t.Fatalf("re-read %s: %v", out, err)
		}
		if back.Version != m.Version || back.Backend != m.Backend || back.Seed != m.Seed || !back.Created.Equal(m.Created) {
			t.Fatalf("round trip %+v became %+v", m, back)
		}
	})
}
