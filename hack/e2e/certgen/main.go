// Command cilium-certgen is a STAND-IN for Cilium's certgen
// (github.com/cilium/certgen), which the Go module proxy does not serve. It
// is our own code, built into the image the Cilium chart names
// (quay.io/cilium/certgen:<tag>) only for hack/e2e's end-to-end run, and it
// does the job the chart's clustermesh-apiserver-generate-certs Job asks of
// certgen (templates/clustermesh-apiserver/tls-cronjob/_job-spec.tpl):
//
//   - flags --ca-generate, --ca-reuse-secret, --ca-secret-namespace,
//     --ca-secret-name, --ca-common-name (and --debug);
//   - env CILIUM_CERTGEN_CONFIG: YAML "certs:" with name, namespace,
//     commonName, hosts, usage, validity (such as 26280h);
//   - reuse the CA Secret (ca.crt, ca.key) when it exists, else generate one
//     if --ca-generate and store it;
//   - for each cert, a kubernetes.io/tls Secret with ca.crt, tls.crt and
//     tls.key, signed by the CA: created, or replaced when it exists (the
//     chart's Role grants create, and update on these names only).
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// certSpec is one entry of CILIUM_CERTGEN_CONFIG.
type certSpec struct {
	Name       string   `json:"name"`
	Namespace  string   `json:"namespace"`
	CommonName string   `json:"commonName"`
	Hosts      []string `json:"hosts"`
	Usage      []string `json:"usage"`
	Validity   string   `json:"validity"`
}

type config struct {
	Certs []certSpec `json:"certs"`
}

type ca struct {
	cert    *x509.Certificate
	key     any
	certPEM []byte
}

func main() {
	caGenerate := flag.Bool("ca-generate", false, "generate the CA when its Secret does not exist")
	caReuse := flag.Bool("ca-reuse-secret", false, "use the CA Secret when it exists")
	caNS := flag.String("ca-secret-namespace", "kube-system", "namespace of the CA Secret")
	caName := flag.String("ca-secret-name", "cilium-ca", "name of the CA Secret")
	caCN := flag.String("ca-common-name", "Cilium CA", "common name of a generated CA")
	flag.Bool("debug", false, "ignored")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("cilium-certgen (e2e stand-in): ")

	var cfg config
	if err := yaml.Unmarshal([]byte(os.Getenv("CILIUM_CERTGEN_CONFIG")), &cfg); err != nil {
		log.Fatalf("CILIUM_CERTGEN_CONFIG: %v", err)
	}
	rc, err := rest.InClusterConfig()
	if err != nil {
		log.Fatal(err)
	}
	kc, err := kubernetes.NewForConfig(rc)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	authority, err := loadOrCreateCA(ctx, kc, *caNS, *caName, *caCN, *caReuse, *caGenerate)
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range cfg.Certs {
		if err := issue(ctx, kc, authority, c); err != nil {
			log.Fatalf("%s/%s: %v", c.Namespace, c.Name, err)
		}
		log.Printf("wrote Secret %s/%s (CN %q, %d hosts, valid %s)", c.Namespace, c.Name, c.CommonName, len(c.Hosts), c.Validity)
	}
}

func loadOrCreateCA(ctx context.Context, kc kubernetes.Interface, ns, name, cn string, reuse, generate bool) (*ca, error) {
	if reuse {
		s, err := kc.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		switch {
		case err == nil:
			c, err := parseCA(s.Data["ca.crt"], s.Data["ca.key"])
			if err != nil {
				return nil, fmt.Errorf("secret %s/%s: %w", ns, name, err)
			}
			log.Printf("reusing CA %q from Secret %s/%s", c.cert.Subject.CommonName, ns, name)
			return c, nil
		case !apierrors.IsNotFound(err):
			return nil, err
		}
	}
	if !generate {
		return nil, fmt.Errorf("no CA Secret %s/%s and --ca-generate is false", ns, name)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(3 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Data:       map[string][]byte{"ca.crt": certPEM, "ca.key": keyPEM},
	}
	if _, err := kc.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("store the generated CA: %w", err)
	}
	log.Printf("generated CA %q into Secret %s/%s", cn, ns, name)
	return parseCA(certPEM, keyPEM)
}

func parseCA(certPEM, keyPEM []byte) (*ca, error) {
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, errors.New("ca.crt or ca.key is not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, err
	}
	var key any
	switch kb.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(kb.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(kb.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(kb.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("ca.key: %w", err)
	}
	return &ca{cert: cert, key: key, certPEM: certPEM}, nil
}

func issue(ctx context.Context, kc kubernetes.Interface, authority *ca, c certSpec) error {
	validity, err := time.ParseDuration(c.Validity)
	if err != nil || validity <= 0 {
		validity = 3 * 365 * 24 * time.Hour
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: c.CommonName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(validity),
	}
	for _, h := range c.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	for _, u := range c.Usage {
		switch u {
		case "signing", "digital signature":
			tmpl.KeyUsage |= x509.KeyUsageDigitalSignature
		case "key encipherment":
			tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
		case "server auth":
			tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		case "client auth":
			tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, authority.cert, &key.PublicKey, authority.key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: c.Name, Namespace: c.Namespace},
		Type:       corev1.SecretTypeTLS,
		Data: map[string][]byte{
			"ca.crt":  authority.certPEM,
			"tls.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			"tls.key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		},
	}
	_, err = kc.CoreV1().Secrets(c.Namespace).Create(ctx, s, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		// No resourceVersion: an unconditional update, all the Role allows.
		_, err = kc.CoreV1().Secrets(c.Namespace).Update(ctx, s, metav1.UpdateOptions{})
	}
	return err
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err)
	}
	return n
}
