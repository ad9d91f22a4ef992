package cluster

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSettingsFromAnnotations(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]string
		want Settings
	}{
		{"no annotations: local, shared once global", nil, Settings{Global: false, Shared: true, Affinity: AffinityNone}},
		{"global", map[string]string{AnnotationGlobal: "true"}, Settings{Global: true, Shared: true, Affinity: AffinityNone}},
		{"global is case-insensitive", map[string]string{AnnotationGlobal: "True"}, Settings{Global: true, Shared: true, Affinity: AffinityNone}},
		{"anything but true is not global", map[string]string{AnnotationGlobal: "yes"}, Settings{Shared: true, Affinity: AffinityNone}},
		{"shared false", map[string]string{AnnotationGlobal: "true", AnnotationShared: "false"}, Settings{Global: true, Shared: false, Affinity: AffinityNone}},
		{"shared set to anything but true is not shared", map[string]string{AnnotationShared: "no"}, Settings{Shared: false, Affinity: AffinityNone}},
		{"affinity local", map[string]string{AnnotationAffinity: "local"}, Settings{Shared: true, Affinity: AffinityLocal}},
		{"unknown affinity reads as none", map[string]string{AnnotationAffinity: "closest"}, Settings{Shared: true, Affinity: AffinityNone}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SettingsFromAnnotations(tc.in); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestServiceChange(t *testing.T) {
	c := ServiceChange{Global: Bool(true), Affinity: AffinityPtr(AffinityLocal)}
	got := c.Apply(DefaultSettings())
	if want := (Settings{Global: true, Shared: true, Affinity: AffinityLocal}); got != want {
		t.Errorf("Apply = %+v, want %+v", got, want)
	}
	a := c.Annotations()
	if len(a) != 2 || *a[AnnotationGlobal] != "true" || *a[AnnotationAffinity] != "local" {
		t.Errorf("Annotations = %v", a)
	}
	if s := c.String(); s != `service.cilium.io/global="true" service.cilium.io/affinity="local"` {
		t.Errorf("String = %s", s)
	}
	if back := SettingsFromAnnotations(map[string]string{AnnotationGlobal: *a[AnnotationGlobal], AnnotationAffinity: *a[AnnotationAffinity]}); back != got {
		t.Errorf("annotations read back as %+v, want %+v", back, got)
	}
}

func TestClassifyAnswer(t *testing.T) {
	tests := []struct {
		line     string
		from     Name
		ok, skip bool
	}{
		{`{"message": "Hello world from US!"}`, US, true, false},
		{`{"message": "Hello world from Europe!"}`, EU, true, false},
		{"  ", "", false, true},
		{"wget: can't connect to remote host (172.20.1.10): Connection refused", "", false, false},
	}
	for _, tc := range tests {
		from, ok, skip := ClassifyAnswer(tc.line)
		if from != tc.from || ok != tc.ok || skip != tc.skip {
			t.Errorf("ClassifyAnswer(%q) = %q %v %v, want %q %v %v", tc.line, from, ok, skip, tc.from, tc.ok, tc.skip)
		}
	}
}

func TestNamesAndPeers(t *testing.T) {
	for _, c := range Names() {
		if c.Peer().Peer() != c || c.Peer() == c {
			t.Errorf("Peer of %s is wrong", c)
		}
	}
	if US.ID() != 1 || EU.ID() != 2 {
		t.Error("cluster ids must be 1 and 2")
	}
	if _, err := ParseName("asia"); err == nil {
		t.Error("ParseName accepted an unknown cluster")
	}
	if a, err := ParseAffinity(""); err != nil || a != AffinityNone {
		t.Errorf("empty affinity = %q, %v", a, err)
	}
	if AffinityNone.Next() != AffinityLocal || AffinityLocal.Next() != AffinityRemote || AffinityRemote.Next() != AffinityNone {
		t.Error("affinity cycle is broken")
	}
}

func TestHints(t *testing.T) {
	base := errors.New("boom")
	err := WithHint(base, "do this")
	if !errors.Is(err, base) || HintOf(err) != "do this" || err.Error() != "boom" {
		t.Errorf("hint error: %v / %q", err, HintOf(err))
	}
	if WithHint(nil, "x") != nil || HintOf(base) != "" {
		t.Error("nil and hint-less errors")
	}
}

func TestProbeResultShares(t *testing.T) {
	p := ProbeResult{From: US, Requests: 10, Answers: Answers{US: 3, EU: 5}, Errors: 2}
	if p.Done() != 10 || p.Share(p.Answers.EU) != 0.5 {
		t.Errorf("Done %d Share %v", p.Done(), p.Share(p.Answers.EU))
	}
	if (ProbeResult{}).Share(0) != 0 {
		t.Error("share of an empty probe")
	}
}

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), 0); err != nil {
		t.Errorf("Sleep(0) = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep on a cancelled context = %v", err)
	}
}
