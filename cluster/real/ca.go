package real

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// parseCert decodes the first PEM certificate of data.
func parseCert(data []byte) (*x509.Certificate, error) {
	for len(data) > 0 {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			break
		}
		if blk.Type == "CERTIFICATE" {
			return x509.ParseCertificate(blk.Bytes)
		}
	}
	return nil, errors.New("no PEM certificate")
}

// parseCA decodes ca.crt of a cilium-ca Secret.
func parseCA(s *corev1.Secret) (*x509.Certificate, error) {
	crt, ok := s.Data["ca.crt"]
	if !ok || len(crt) == 0 {
		return nil, fmt.Errorf("secret %s/%s has no ca.crt", s.Namespace, s.Name)
	}
	cert, err := parseCert(crt)
	if err != nil {
		return nil, fmt.Errorf("secret %s/%s: ca.crt: %w", s.Namespace, s.Name, err)
	}
	return cert, nil
}

// caID identifies a CA as cilium-cli compares them: by SubjectKeyId, in hex
// (shared/CILIUM.md, "CA"). A CA without one (Helm's genCA sets it) is
// identified by the SHA-1 of its public key, which is how the extension is
// usually derived (RFC 5280 4.2.1.2).
func caID(cert *x509.Certificate) string {
	if len(cert.SubjectKeyId) > 0 {
		return hex.EncodeToString(cert.SubjectKeyId)
	}
	sum := sha1.Sum(cert.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:])
}

// signedBy checks that the client certificate in certPEM chains to ca, as
// the peer's clustermesh-apiserver will check it.
func signedBy(certPEM []byte, ca *x509.Certificate) error {
	cert, err := parseCert(certPEM)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	_, err = cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err
}
