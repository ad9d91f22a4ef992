package real

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster/doctor"
)

// TestCLIEngineOnDocker drives the engine this machine has, when one
// answers: an image made here with `import` (no registry needed) is
// inspected, tagged, saved, removed, loaded back from the archive and
// found again under both names; a pull that cannot succeed fails with the
// engine's own words; a missing image is reported as missing, not as an
// error. The images are removed afterwards.
func TestCLIEngineOnDocker(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	eng, err := doctor.DetectEngine(ctx, doctor.SystemEnv())
	if err != nil {
		t.Skipf("no container engine answers: %v", err)
	}
	e := CLIEngine{Name: eng.Name}
	name := fmt.Sprintf("localhost/clustermesh-lab-test/engine:%d", time.Now().UnixNano())
	other := name + "-tagged"
	t.Cleanup(func() {
		exec.Command(eng.Name, "rmi", "-f", name, other).Run()
	})
	var rootfs bytes.Buffer
	tw := tar.NewWriter(&rootfs)
	tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: 5})
	tw.Write([]byte("hello"))
	tw.Close()
	cmd := exec.CommandContext(ctx, eng.Name, "import", "-", name)
	cmd.Stdin = &rootfs
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("%s import cannot make a test image here: %v: %s", eng.Name, err, out)
	}

	info, ok, err := e.Inspect(ctx, name)
	if err != nil || !ok || !strings.HasPrefix(info.ID, "sha256:") {
		t.Fatalf("inspect %s: %+v %v %v", name, info, ok, err)
	}
	if _, ok, err := e.Inspect(ctx, "localhost/clustermesh-lab-test/none:0"); ok || err != nil {
		t.Errorf("inspect of a missing image: ok=%v err=%v", ok, err)
	}
	if err := e.Tag(ctx, name, other); err != nil {
		t.Fatal(err)
	}
	var archive bytes.Buffer
	if err := e.Save(ctx, &archive, []string{name, other}); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(ctx, eng.Name, "rmi", name, other).CombinedOutput(); err != nil {
		t.Fatalf("rmi: %v: %s", err, out)
	}
	if _, ok, _ := e.Inspect(ctx, name); ok {
		t.Fatal("the image is still there after rmi")
	}
	if err := e.Load(ctx, bytes.NewReader(archive.Bytes())); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{name, other} {
		got, ok, err := e.Inspect(ctx, n)
		if err != nil || !ok || got.ID != info.ID {
			t.Errorf("after load, %s: %+v ok=%v err=%v, want ID %s", n, got, ok, err, info.ID)
		}
	}
	err = e.Pull(ctx, "localhost:1/clustermesh-lab-test/none:0")
	if err == nil || !strings.HasPrefix(err.Error(), eng.Name+" pull: ") {
		t.Errorf("pull from nowhere: %v", err)
	}
}
