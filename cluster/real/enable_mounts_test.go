package real

import (
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// TestEnableRendersWhatTheAPIServerMounts renders each published chart with
// the lab's install and enable values, as the release stands after the enable
// step, and checks that every ConfigMap and Secret the clustermesh-apiserver
// pod mounts without `optional` is rendered too, or is a Secret the
// certificate Job writes. A volume without a source keeps the pod in Init,
// and the enable step's wait for the Deployment runs out (found by make e2e:
// the 1.19 chart mounts ConfigMap clustermesh-remote-users, which it renders
// only with clustermesh.config.enabled).
func TestEnableRendersWhatTheAPIServerMounts(t *testing.T) {
	fromJob := map[string]bool{}
	for _, n := range []string{"server", "admin", "remote", "local"} {
		fromJob["clustermesh-apiserver-"+n+"-cert"] = true
	}
	for _, version := range chartVersions {
		t.Run(version, func(t *testing.T) {
			ch, err := loader.Load(chartPath(t, version))
			if err != nil {
				t.Fatal(err)
			}
			install := action.NewInstall(&action.Configuration{})
			install.DryRun, install.ClientOnly = true, true
			install.ReleaseName, install.Namespace = releaseName, namespace
			install.KubeVersion = &chartutil.KubeVersion{Version: "v1.35.8", Major: "1", Minor: "35"}
			vals := chartutil.CoalesceTables(EnableValues(), InstallValues(cluster.US))
			rel, err := install.Run(ch, vals)
			if err != nil {
				t.Fatal(err)
			}
			objs := manifestObjects(t, rel)
			rendered := func(kind, name string) bool {
				for _, o := range objs {
					n, err := metaName(o)
					if err != nil || n != name {
						continue
					}
					switch o.(type) {
					case *corev1.ConfigMap:
						if kind == "ConfigMap" {
							return true
						}
					case *corev1.Secret:
						if kind == "Secret" {
							return true
						}
					}
				}
				return kind == "Secret" && fromJob[name]
			}
			dep := find[*appsv1.Deployment](t, objs, meshAPIServer)
			for _, v := range dep.Spec.Template.Spec.Volumes {
				for _, src := range volumeSources(v) {
					if !src.optional && !rendered(src.kind, src.name) {
						t.Errorf("clustermesh-apiserver volume %q mounts %s %q, which neither the chart (with the lab's install and enable values) nor the certificate Job creates: the pod cannot start before connect", v.Name, src.kind, src.name)
					}
				}
			}
		})
	}
}

type volumeSource struct {
	kind, name string
	optional   bool
}

// volumeSources lists the ConfigMaps and Secrets a volume reads.
func volumeSources(v corev1.Volume) []volumeSource {
	opt := func(b *bool) bool { return b != nil && *b }
	var out []volumeSource
	if cm := v.ConfigMap; cm != nil {
		out = append(out, volumeSource{"ConfigMap", cm.Name, opt(cm.Optional)})
	}
	if s := v.Secret; s != nil {
		out = append(out, volumeSource{"Secret", s.SecretName, opt(s.Optional)})
	}
	if p := v.Projected; p != nil {
		for _, s := range p.Sources {
			if s.ConfigMap != nil {
				out = append(out, volumeSource{"ConfigMap", s.ConfigMap.Name, opt(s.ConfigMap.Optional)})
			}
			if s.Secret != nil {
				out = append(out, volumeSource{"Secret", s.Secret.Name, opt(s.Secret.Optional)})
			}
		}
	}
	return out
}
