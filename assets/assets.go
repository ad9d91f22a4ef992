// Package assets holds the lab's embedded data: the seed's kind cluster
// configurations and the demo application manifests for each cluster.
package assets

import (
	"embed"
	"fmt"
)

//go:embed kind-us.yaml kind-eu.yaml demo-us.yaml demo-eu.yaml
var files embed.FS

// KindConfig returns the seed's kind cluster configuration for cluster "us" or "eu".
func KindConfig(cluster string) ([]byte, error) {
	return read("kind-" + cluster + ".yaml")
}

// DemoManifests returns the hello-world and busybox manifests for cluster "us" or "eu".
func DemoManifests(cluster string) ([]byte, error) {
	return read("demo-" + cluster + ".yaml")
}

func read(name string) ([]byte, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("embedded asset %s: %w", name, err)
	}
	return b, nil
}
