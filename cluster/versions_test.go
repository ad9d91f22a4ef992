package cluster

import "testing"

func TestKubernetesVersionFromTheImageTag(t *testing.T) {
	tests := []struct {
		image, want string
		ok          bool
	}{
		{DefaultNodeImage, "v1.35.8", true},
		{"kindest/node:v1.33.1", "v1.33.1", true},
		{"registry.example:5000/mirror/kindest/node:v1.36.0-rc.1@sha256:abcd", "v1.36.0-rc.1", true},
		{"localhost:5000/node@sha256:abcd", "", false},
		{"kindest/node", "", false},
		{"kindest/node:latest", "", false},
		{"kindest/node:1.35", "", false},
	}
	for _, tc := range tests {
		got, ok := KubernetesVersion(tc.image)
		if got != tc.want || ok != tc.ok {
			t.Errorf("KubernetesVersion(%q) = %q %v, want %q %v", tc.image, got, ok, tc.want, tc.ok)
		}
	}
}

func TestTestedKubernetes(t *testing.T) {
	r, ok := TestedKubernetes(DefaultCiliumVersion)
	if !ok || r.String() != "1.32-1.35" {
		t.Fatalf("range of %s = %v %v", DefaultCiliumVersion, r, ok)
	}
	v, _ := KubernetesVersion(DefaultNodeImage)
	if !r.Contains(v) {
		t.Errorf("the pinned node image (%s) is outside Cilium %s's tested range %s", v, DefaultCiliumVersion, r)
	}
	if r.Contains("v1.37.0") || r.Contains("v1.31.9") || r.Contains("v2.33.0") || r.Contains("junk") {
		t.Error("range 1.32-1.35 contains a version outside it")
	}
	if r, ok := TestedKubernetes("v1.20.0"); !ok || r != (KubeRange{33, 36}) {
		t.Errorf("1.20: %v %v", r, ok)
	}
	if _, ok := TestedKubernetes("1.18.11"); ok {
		t.Error("the lab claims a range for 1.18, which it does not know")
	}
	if _, _, err := ParseMinor("latest"); err == nil {
		t.Error("ParseMinor accepted latest")
	}
}
