package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"
)

// The chart's certgen config for the clustermesh-apiserver (abridged from
// templates/clustermesh-apiserver/tls-cronjob/_job-spec.tpl).
const chartConfig = `certs:
- name: clustermesh-apiserver-server-cert
  namespace: kube-system
  commonName: "clustermesh-apiserver.cilium.io"
  hosts:
  - "clustermesh-apiserver.cilium.io"
  - "*.mesh.cilium.io"
  - "127.0.0.1"
  usage:
  - signing
  - key encipherment
  - server auth
  validity: 26280h
- name: clustermesh-apiserver-remote-cert
  namespace: kube-system
  commonName: "remote"
  usage:
  - signing
  - key encipherment
  - client auth
  validity: 26280h
`

func TestIssueWithSharedCA(t *testing.T) {
	ctx := context.Background()
	kc := fake.NewClientset()
	// The first run generates the CA; a second run reuses it and replaces
	// the existing certificate Secrets.
	first, err := loadOrCreateCA(ctx, kc, "kube-system", "cilium-ca", "Cilium CA", true, true)
	if err != nil {
		t.Fatal(err)
	}
	again, err := loadOrCreateCA(ctx, kc, "kube-system", "cilium-ca", "Cilium CA", true, false)
	if err != nil || !again.cert.Equal(first.cert) {
		t.Fatalf("CA not reused: %v", err)
	}
	var cfg config
	if err := yaml.Unmarshal([]byte(chartConfig), &cfg); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		for _, c := range cfg.Certs {
			if err := issue(ctx, kc, again, c); err != nil {
				t.Fatalf("round %d, %s: %v", round, c.Name, err)
			}
		}
	}
	s, err := kc.CoreV1().Secrets("kube-system").Get(ctx, "clustermesh-apiserver-server-cert", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Type != corev1.SecretTypeTLS || len(s.Data["ca.crt"]) == 0 || len(s.Data["tls.key"]) == 0 {
		t.Fatalf("secret %s: type %s, keys %v", s.Name, s.Type, s.Data)
	}
	b, _ := pem.Decode(s.Data["tls.crt"])
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(first.cert)
	if _, err := cert.Verify(x509.VerifyOptions{DNSName: "eu.mesh.cilium.io", Roots: roots}); err != nil {
		t.Errorf("server cert does not verify for a peer name under *.mesh.cilium.io: %v", err)
	}
	if len(cert.IPAddresses) != 1 || cert.IPAddresses[0].String() != "127.0.0.1" {
		t.Errorf("IP SANs = %v", cert.IPAddresses)
	}
}

func TestNoCAWithoutGenerate(t *testing.T) {
	if _, err := loadOrCreateCA(context.Background(), fake.NewClientset(), "kube-system", "cilium-ca", "x", true, false); err == nil {
		t.Error("no CA Secret and --ca-generate=false: want an error")
	}
}
