// bpfload: stage 0's proof that a container may load and pin a BPF program.
// It loads the smallest valid program (a socket filter that returns 0) with
// the bpf(2) syscall, prints the verifier's verdict, and pins the program in
// bpffs at the path given (default /sys/fs/bpf/stage0), as Cilium pins its
// maps and programs. Built static on the host, copied into the container.
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
	const char *pin = argc > 1 ? argv[1] : "/sys/fs/bpf/stage0";
	struct bpf_insn prog[2];
	memset(prog, 0, sizeof prog);
	prog[0].code = BPF_ALU64 | BPF_MOV | BPF_K; /* r0 = 0 */
	prog[0].dst_reg = BPF_REG_0;
	prog[1].code = BPF_JMP | BPF_EXIT; /* return r0 */

	char verifier[4096] = "";
	union bpf_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (unsigned long)prog;
	attr.insn_cnt = 2;
	attr.license = (unsigned long)"GPL";
	attr.log_buf = (unsigned long)verifier;
	attr.log_size = sizeof verifier;
	attr.log_level = 1;
	int fd = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
	if (fd < 0) {
		fprintf(stderr, "bpfload: BPF_PROG_LOAD: %s\n%s\n", strerror(errno), verifier);
		return 1;
	}
	memset(&attr, 0, sizeof attr);
	attr.pathname = (unsigned long)pin;
	attr.bpf_fd = fd;
	if (syscall(SYS_bpf, BPF_OBJ_PIN, &attr, sizeof attr) < 0) {
		fprintf(stderr, "bpfload: BPF_OBJ_PIN %s: %s\n", pin, strerror(errno));
		return 1;
	}
	printf("bpfload: socket filter loaded (fd %d), pinned at %s\n", fd, pin);
	return 0;
}
