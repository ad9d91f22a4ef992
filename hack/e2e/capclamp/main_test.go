package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestClampConfigAndProcess(t *testing.T) {
	bnd := ^uint64(0) &^ (1 << 24) // all but CAP_SYS_RESOURCE
	cfg := `{"ociVersion":"1.2.0","process":{"args":["/sbin/init"],"capabilities":{"bounding":["CAP_CHOWN","CAP_SYS_RESOURCE","CAP_BPF"],"effective":["CAP_SYS_RESOURCE"]}},"root":{"path":"rootfs"}}`
	out, changed, err := clamp([]byte(cfg), bnd)
	if err != nil || !changed {
		t.Fatalf("clamp config: changed %v, err %v", changed, err)
	}
	var got struct {
		Process struct {
			Args []string
			Caps map[string][]string `json:"capabilities"`
		}
		Root map[string]any
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"bounding": {"CAP_CHOWN", "CAP_BPF"}, "effective": {}}
	if !reflect.DeepEqual(got.Process.Caps, want) || got.Process.Args[0] != "/sbin/init" || got.Root["path"] != "rootfs" {
		t.Errorf("clamped config = %s", out)
	}

	proc := `{"args":["sh"],"capabilities":{"permitted":["CAP_SYS_RESOURCE","CAP_NET_ADMIN"]}}`
	out, changed, err = clamp([]byte(proc), bnd)
	if err != nil || !changed || string(out) != `{"args":["sh"],"capabilities":{"permitted":["CAP_NET_ADMIN"]}}` {
		t.Errorf("clamp process = %s, %v, %v", out, changed, err)
	}
	if _, changed, _ := clamp([]byte(proc), ^uint64(0)); changed {
		t.Error("a full bounding set changed the process")
	}
}

func TestSpecFile(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--root", "/run/runc", "--log", "l.json", "--log-format", "json", "create", "--bundle", "/b", "--pid-file", "p", "id"}, "/b/config.json"},
		{[]string{"run", "-b=/x", "id"}, "."}, // -b=/x is not a form runc takes
		{[]string{"--root", "/r", "exec", "--process", "/tmp/p.json", "--detach", "id"}, "/tmp/p.json"},
		{[]string{"--root", "/r", "start", "id"}, ""},
		{[]string{"--version"}, ""},
	} {
		want := tc.want
		if want == "." {
			want = filepath.Join(".", "config.json")
		}
		if got := specFile(tc.args); got != want {
			t.Errorf("specFile(%q) = %q, want %q", tc.args, got, want)
		}
	}
}

func TestDockerConfigKeepsSettings(t *testing.T) {
	f := filepath.Join(t.TempDir(), "daemon.json")
	os.WriteFile(f, []byte(`{"storage-driver":"fuse-overlayfs","mtu":1400}`), 0o644)
	if err := dockerConfig(f, "/usr/local/bin/capclamp"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(f)
	var m map[string]any
	json.Unmarshal(b, &m)
	if m["default-runtime"] != "capclamp" || m["storage-driver"] != "fuse-overlayfs" || m["mtu"] != 1400.0 ||
		m["runtimes"].(map[string]any)["capclamp"].(map[string]any)["path"] != "/usr/local/bin/capclamp" {
		t.Errorf("daemon.json = %s", b)
	}
}
