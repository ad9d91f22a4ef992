package doctor

import (
	"context"
	"fmt"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// Check names of the checks about what the lab will run.
const (
	kubernetesName = "Kubernetes version"
	imagesName     = "Image pulls"
)

// kubernetesCheck names the Kubernetes version the nodes will run (read
// from the node image's tag) and compares it with the versions the Cilium
// release is tested with (shared/CILIUM.md, "Versions").
func kubernetesCheck(lab Lab) cluster.Check {
	c := cluster.Check{ID: IDKubernetes, Name: kubernetesName}
	tested, known := cluster.TestedKubernetes(lab.CiliumVersion)
	v, ok := cluster.KubernetesVersion(lab.NodeImage)
	c.Summary = fmt.Sprintf("%s: %s for Cilium %s", kubernetesName, v, lab.CiliumVersion)
	switch {
	case !ok:
		c.Status = cluster.Warn
		c.Summary = kubernetesName + ": unknown (untagged node image)"
		c.Detail = fmt.Sprintf("unknown: the node image %s carries no vX.Y.Z tag to read it from", lab.NodeImage)
		if known {
			c.Detail += fmt.Sprintf(" (Cilium %s is tested with Kubernetes %s)", lab.CiliumVersion, tested)
		}
		c.Fix = "make sure the image runs a Kubernetes version Cilium " + lab.CiliumVersion + " supports, or drop --node-image to use " + cluster.DefaultNodeImage
	case !known:
		c.Detail = fmt.Sprintf("%s (node image %s); the lab knows no tested range for Cilium %s", v, lab.NodeImage, lab.CiliumVersion)
	case tested.Contains(v):
		c.Detail = fmt.Sprintf("%s (node image %s), which Cilium %s is tested with (%s)", v, lab.NodeImage, lab.CiliumVersion, tested)
	default:
		c.Status = cluster.Warn
		c.Summary = fmt.Sprintf("%s: %s, Cilium %s tests %s", kubernetesName, v, lab.CiliumVersion, tested)
		c.Detail = fmt.Sprintf("%s (node image %s) is outside the range Cilium %s is tested with (%s)", v, lab.NodeImage, lab.CiliumVersion, tested)
		c.Fix = "use a kindest/node image in that range with --node-image, such as the lab's default " + cluster.DefaultNodeImage
	}
	return c
}

// imagesCheck looks for the node image where kind looks for it (`docker
// inspect --type=image`, before it pulls): an image that is not there is
// pulled from Docker Hub, whose anonymous pulls are rate limited per IP
// address, which a room of learners behind one address reaches
// (shared/CILIUM.md, "Pitfalls").
func imagesCheck(ctx context.Context, env Env, eng Engine, engErr error, lab Lab) cluster.Check {
	c := cluster.Check{ID: IDImages, Name: imagesName, Summary: imagesName + ": node image already here"}
	if engErr != nil {
		c.Summary = imagesName + ": not checked"
		c.Detail = "not checked: no container engine answers"
		return c
	}
	cctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	const demo = "the nodes pull the demo's nginx and busybox from Docker Hub and Cilium's images from quay.io"
	if _, _, err := env.Run(cctx, eng.Name, "inspect", "--type=image", lab.NodeImage); err == nil {
		c.Detail = "the node image is already in the " + eng.Name + " engine, so kind pulls nothing; " + demo
		return c
	}
	c.Status = cluster.Warn
	c.Summary = imagesName + ": node image from Docker Hub (rate-limited)"
	c.Detail = "kind will pull the node image " + lab.NodeImage + " from Docker Hub, and " + demo +
		"; Docker Hub rate-limits anonymous pulls per IP address, which a room of learners behind one address reaches"
	c.Fix = "alone: nothing, or `" + eng.Name + " login` for a higher limit; in a workshop: pull it before the room does (`" +
		eng.Name + " pull " + lab.NodeImage + "`), log every laptop in, or serve the images from a registry mirror (--node-image and --cilium-values can point there)"
	return c
}
