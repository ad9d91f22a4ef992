# versions.sh: every version the e2e images are built at. Sourced.
# Kubernetes: the version of the lab's pinned node image (kindest/node:v1.35.8).
K8S_VERSION=v1.35.8       # = k8s.io/kubernetes in mod/k8s/go.mod
ETCD_K8S_VERSION=3.6.6    # kubeadm 1.35's DefaultEtcdVersion (image tag 3.6.6-0)
COREDNS_VERSION=v1.13.1   # kubeadm 1.35's CoreDNSVersion
PAUSE_VERSION=3.10.1      # kubeadm 1.35's PauseVersion; the node's sandbox_image too
# What kind v0.33.0's base image builds (images/base/Dockerfile).
CONTAINERD_VERSION=v2.3.4
RUNC_VERSION=v1.4.3
CRICTL_VERSION=v1.36.0
CNI_PLUGINS_VERSION=v1.9.1
# Cilium: the lab's DefaultCiliumVersion (cluster/cluster.go).
CILIUM_VERSION=1.19.5     # = github.com/cilium/cilium in mod/cilium/go.mod
ETCD_CILIUM_VERSION=3.6.12 # images/clustermesh-apiserver/Dockerfile's etcd
CERTGEN_TAG=v0.4.5        # the chart's certgen.image.tag, served by our stand-in
# The demo (assets/demo-*.yaml).
NGINX_IMAGE=docker.io/library/nginx:1.27.5-alpine
BUSYBOX_IMAGE=docker.io/library/busybox:1.37.0

# The node image's name, given to the lab with --node-image.
NODE_IMAGE=clustermesh-lab-e2e/node:$K8S_VERSION
