//go:build unix

package real

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// A kubeconfig that names a device, a FIFO or a directory (as itself, its
// CA, client certificate, key or token file) is refused before anything
// reads it: reading /dev/zero never ends, a FIFO blocks. Found by review
// while writing FuzzKubeconfig, which cannot create such files.
func TestKubeconfigFilesAreRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	big := filepath.Join(dir, "big.crt")
	if err := os.WriteFile(big, make([]byte, maxCredentialFile+1), 0o600); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct{ name, path, want string }{
		{"the kubeconfig is /dev/zero", "/dev/zero", "/dev/zero is not a regular file"},
		{"the kubeconfig is a FIFO", fifo, "is not a regular file"},
		{"the kubeconfig is a directory", dir, "is not a regular file"},
		{"its CA is /dev/zero", write("ca.yaml", strings.Replace(minimalKubeconfig, "insecure-skip-tls-verify: true", "certificate-authority: /dev/zero", 1)), "/dev/zero is not a regular file"},
		{"its token file is a FIFO", write("token.yaml", strings.Replace(minimalKubeconfig, "token: abc", "tokenFile: "+fifo, 1)), "fifo is not a regular file"},
		{"its client key is a directory", write("key.yaml", strings.Replace(minimalKubeconfig, "token: abc", "client-key: "+dir, 1)), "is not a regular file"},
		{"its client certificate is huge", write("cert.yaml", strings.Replace(minimalKubeconfig, "token: abc", "client-certificate: "+big, 1)), "too big"},
	} {
		b, err := New(Options{Dir: t.TempDir(), External: map[cluster.Name]Kubeconfig{cluster.EU: {Path: tc.path}}})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			check := b.externalCheck(cluster.EU, b.opts.External[cluster.EU])
			if check.Status != cluster.Fail || !strings.Contains(check.Detail, tc.want) || !strings.Contains(check.Detail, "kubeconfig of eu") {
				t.Errorf("%s: %+v, want a failure: %q", tc.name, check, tc.want)
			}
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: the preflight hangs", tc.name)
		}
	}
}
