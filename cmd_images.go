package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/real"
)

// imageFlags are the flags of the image and bundle commands: what the lab
// would run with, as the lab's own flags of the same names say it.
type imageFlags struct {
	kind    kindOptions
	preload bool
	output  string
}

func (o *imageFlags) add(cmd *cobra.Command, withPreload bool) {
	f := cmd.Flags()
	f.StringVar(&o.kind.ciliumVersion, "cilium-version", "", "Cilium chart version the lab would install (default "+real.DefaultCiliumVersion+")")
	f.StringVar(&o.kind.ciliumChart, "cilium-chart", "", "local Cilium chart (.tgz or directory) instead of the cached or pulled one")
	f.StringVar(&o.kind.ciliumValues, "cilium-values", "", "your extra Helm values (YAML file), merged over the lab's as the lab merges them")
	f.StringVar(&o.kind.nodeImage, "node-image", "", "kind node image (default "+cluster.DefaultNodeImage+")")
	if withPreload {
		f.BoolVar(&o.preload, "preload", false, "name the chart's images as a lab run with --preload asks for them (no digests)")
	}
}

// backend builds a real backend for the image commands, which use no lab
// directory: only the chart cache and the engine.
func (o *imageFlags) backend() (*real.Backend, func(), error) {
	if err := o.kind.validate(); err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "clustermesh-lab-images-*")
	if err != nil {
		return nil, nil, err
	}
	b, err := real.New(real.Options{
		Dir:           dir,
		CiliumVersion: o.kind.ciliumVersion,
		ChartPath:     o.kind.ciliumChart,
		NodeImage:     o.kind.nodeImage,
		Values:        o.kind.values,
		ValuesFile:    o.kind.ciliumValues,
		Preload:       o.preload,
		DiagLog:       io.Discard,
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, usageError{err}
	}
	return b, func() { os.RemoveAll(dir) }, nil
}

// lineLogger writes a backend's progress lines to w.
type lineLogger struct{ w io.Writer }

// Logf implements cluster.Logger.
func (l lineLogger) Logf(format string, args ...any) { fmt.Fprintf(l.w, format+"\n", args...) }

func newImagesCmd(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "images",
		Short: "List or pull every image the real lab needs (for workshops: pull once, preload into the nodes)",
		Long: `The images the real lab needs: the kind node image, every image the Cilium
chart renders with the lab's values at each of its stages (install, enable,
connect; in both clusters, with your --cilium-values laid over), and the demo's.

  images list   prints them, one reference per line (or JSON with -o json)
  images pull   pulls them into this machine's engine once; then run the lab
                with --preload and every node loads them from there instead
                of pulling each image from its registry`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageError{cluster.WithHint(fmt.Errorf("images needs a command: list or pull"), "clustermesh-lab images list")}
		},
	}
	cmd.AddCommand(newImagesListCmd(stdout, stderr), newImagesPullCmd(stdout))
	return cmd
}

func newImagesListCmd(stdout, stderr io.Writer) *cobra.Command {
	o := &imageFlags{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Print every image the real lab needs, from the rendered chart",
		Example: `  clustermesh-lab images list
  clustermesh-lab images list --cilium-version 1.20.0 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.output != "text" && o.output != "json" {
				return usagef("invalid -o %q: want text or json", o.output)
			}
			b, done, err := o.backend()
			if err != nil {
				return err
			}
			defer done()
			imgs, version, err := b.Images(cmd.Context(), lineLogger{stderr})
			if err != nil {
				return err
			}
			if o.output == "json" {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					CiliumVersion string       `json:"ciliumVersion"`
					Images        []real.Image `json:"images"`
				}{version, imgs})
			}
			for _, img := range imgs {
				fmt.Fprintln(stdout, img.Ref)
			}
			return nil
		},
	}
	o.add(cmd, true)
	cmd.Flags().StringVarP(&o.output, "output", "o", "text", "text (one reference per line) or json")
	return cmd
}

func newImagesPullCmd(stdout io.Writer) *cobra.Command {
	o := &imageFlags{}
	cmd := &cobra.Command{
		Use:   "pull",
		Short: "Pull every image the real lab needs into this machine's engine, once",
		Long: `Pull every image the real lab needs (images list) into this machine's Docker
or Podman engine, each once: a digest-pinned image is pulled by its digest,
then tagged with its name. Images already there are not pulled again. Then
run the lab with --preload: the create step loads them into every node.`,
		Example: `  clustermesh-lab images pull && clustermesh-lab --preload`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.preload = true
			b, done, err := o.backend()
			if err != nil {
				return err
			}
			defer done()
			r, err := b.PullImages(cmd.Context(), lineLogger{stdout})
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%d images pulled, %d already here, %s in all, in %s. Run the lab with --preload to load them into every node.\n",
				len(r.Pulled), len(r.Present), humanSize(r.Bytes), r.Took.Round(time.Second))
			return nil
		},
	}
	o.add(cmd, false)
	return cmd
}

func newBundleCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bundle",
		Short: "Make or check an offline bundle: the chart and every image in one file, for a room with no network",
		Long: `An offline bundle is one file with the Cilium chart, every image the real
lab needs (images list) and a manifest with their versions and SHA256 sums.

  bundle create FILE   pull what is missing and write the bundle
  bundle verify FILE   check every file of it against its manifest

Copy it onto the laptops and run clustermesh-lab --bundle FILE: the bundle is
verified first (a damaged or changed one is refused), then its chart is used
and its images are loaded into the engine and every node, with no network.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageError{cluster.WithHint(fmt.Errorf("bundle needs a command: create or verify"), "clustermesh-lab bundle create workshop.bundle")}
		},
	}
	o := &imageFlags{}
	create := &cobra.Command{
		Use:     "create FILE",
		Short:   "Write the chart and every image into one bundle file",
		Example: `  clustermesh-lab bundle create /media/usb/clustermesh-lab.bundle`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.preload = true
			b, done, err := o.backend()
			if err != nil {
				return err
			}
			defer done()
			m, err := b.CreateBundle(cmd.Context(), args[0], lineLogger{stdout})
			if err != nil {
				return err
			}
			printManifest(stdout, args[0], m)
			return nil
		},
	}
	o.add(create, false)
	verify := &cobra.Command{
		Use:   "verify FILE",
		Short: "Check a bundle's files against its manifest",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := real.VerifyBundle(args[0])
			if err != nil {
				return err
			}
			printManifest(stdout, args[0], m)
			fmt.Fprintln(stdout, "Verified: every file matches its SHA256.")
			return nil
		},
	}
	cmd.AddCommand(create, verify)
	return cmd
}

// printManifest says what a bundle holds.
func printManifest(w io.Writer, path string, m real.BundleManifest) {
	fmt.Fprintf(w, "Bundle %s (made %s): Cilium %s, node image %s (Kubernetes %s), %d images\n",
		path, m.Created.Format(time.DateTime+" MST"), m.CiliumVersion, m.NodeImage, m.Kubernetes, len(m.Images))
	for _, f := range m.Files {
		fmt.Fprintf(w, "  %-24s %10s  sha256:%s\n", f.Name, humanSize(f.Size), f.SHA256)
	}
}

// humanSize formats bytes as the engines do (MB, GB).
func humanSize(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
