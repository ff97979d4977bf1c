// SPDX-License-Identifier: GPL-2.0
// Palisade's in-kernel exec capture: BTF tracepoints on sched_process_exec, sched_process_fork
// and sched_process_exit write one record per event into a ring buffer, with everything the
// agent needs captured at exec time (the process may be gone before user space looks):
// pid, parent, credentials, comm, the exec'd file name, the executable's path (as
// /proc/PID/exe shows it), the working directory, argv (bounded), what the standard streams
// are, and the cgroup v2 id that names the container.
//
// CO-RE with minimal struct definitions of our own (preserve_access_index): the loader
// (aya) relocates each field against the running kernel's BTF (/sys/kernel/btf/vmlinux), so
// no generated vmlinux.h is needed at build time and the object runs on any kernel with BTF.
//
// The record layout is mirrored in crates/palisade-agent/src/source/bpf/record.rs. An exec
// record is built with fixed-size fields in a per-CPU scratch slot, then packed (the header,
// then only the used bytes of the file name, executable, working directory and argv) into a
// second slot and written with its used length: about 200 bytes for a typical exec instead of
// the 6,520 of the fixed layout, so a small ring buffer holds thousands of execs.

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define TASK_COMM_LEN 16
#define FILENAME_MAX_BYTES 256
/* argv: at most this many bytes of mm->arg_start..arg_end (NUL-separated). */
#define ARGS_MAX_BYTES 4096 /* 4095 bytes of argv are kept */
/* A path is written leaf first, one NUL-terminated component at a time; a component read
 * starts below PATH_HALF, so the buffer holds at least PATH_HALF bytes of path. */
#define PATH_BYTES 1024
#define PATH_HALF 512
#define NAME_BYTES 256
/* Components or mount crossings walked per path. */
#define PATH_DEPTH 40

#define KIND_EXEC 1
#define KIND_FORK 2
#define KIND_EXIT 3

#define FLAG_ARGS_TRUNCATED 1
#define FLAG_EXE_TRUNCATED 2
#define FLAG_CWD_TRUNCATED 4
#define FLAG_NO_MM 8

/* ---- the kernel types read, with only the fields used (CO-RE relocates them) ---- */

typedef struct { __u32 val; } kuid_t;
typedef struct { __u32 val; } kgid_t;

struct qstr {
	const unsigned char *name;
} __attribute__((preserve_access_index));

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
} __attribute__((preserve_access_index));

struct vfsmount {
	struct dentry *mnt_root;
} __attribute__((preserve_access_index));

struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
} __attribute__((preserve_access_index));

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
} __attribute__((preserve_access_index));

struct inode {
	unsigned short i_mode;
	__u32 i_rdev;
} __attribute__((preserve_access_index));

struct file {
	struct path f_path;
	struct inode *f_inode;
} __attribute__((preserve_access_index));

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct {
	struct fdtable *fdt;
} __attribute__((preserve_access_index));

struct fs_struct {
	struct path pwd;
} __attribute__((preserve_access_index));

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
	struct file *exe_file;
} __attribute__((preserve_access_index));

struct cred {
	kuid_t uid;
	kgid_t gid;
	kuid_t euid;
} __attribute__((preserve_access_index));

/* Kept whole: numbers[] is indexed by level, so the element size must be the kernel's. */
struct upid {
	int nr;
	void *ns;
};

struct pid {
	unsigned int level;
	struct upid numbers[1];
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	struct task_struct *real_parent;
	struct mm_struct *mm;
	struct fs_struct *fs;
	struct files_struct *files;
	const struct cred *cred;
	struct pid *thread_pid;
	__u64 start_boottime;
} __attribute__((preserve_access_index));

struct linux_binprm {
	const char *filename;
} __attribute__((preserve_access_index));

/* ---- records (little-endian, naturally aligned; see record.rs) ---- */

struct stdio_info {
	__u16 mode; /* i_mode; 0: closed */
	__u16 pad;
	__u32 rdev;
};

struct exec_record {
	__u32 kind;
	__u32 pid;
	__u32 ppid;
	__u32 vpid;
	__u32 uid;
	__u32 euid;
	__u32 gid;
	__u32 flags;
	__u64 ts_ns;
	__u64 cgroup_id;
	__u64 start_boottime_ns;
	__u32 exe_mode;
	__u32 filename_len;
	__u32 args_len;
	__u32 exe_len;
	__u32 cwd_len;
	__u32 pad;
	struct stdio_info stdio[3];
	char comm[TASK_COMM_LEN];
	char filename[FILENAME_MAX_BYTES];
	char exe[PATH_BYTES];
	char cwd[PATH_BYTES];
	char args[ARGS_MAX_BYTES];
};

struct task_record {
	__u32 kind;
	__u32 pid;
	__u32 ppid;
	__u32 pad;
	__u64 ts_ns;
	__u64 cgroup_id;
};

/* 2 MiB: about 8,000 execs with their forks and exits at ~250 bytes each, some seconds of the
 * fastest exec rate measured here (docs/benchmarks.md); the DROPS counters prove it holds. User
 * space maps the data pages twice, so the agent's RSS grows by up to twice this size. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 2 << 20);
} EVENTS SEC(".maps");

/* Ring buffer reservations that failed (records dropped), per CPU, by kind (1..3). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} DROPS SEC(".maps");

static __always_inline void count_drop(__u32 kind)
{
	__u64 *n = bpf_map_lookup_elem(&DROPS, &kind);
	if (n)
		*n += 1;
}

/* The record is built in a per-CPU scratch slot (it is larger than the BPF stack), then copied
 * into the ring buffer. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_record);
} SCRATCH SEC(".maps");

/* The packed record written to the ring buffer: the header of struct exec_record (up to its
 * fixed-size fields), then file name, executable, working directory and argv, each of the
 * length the header gives. The masks below keep every copy inside `bytes` for the verifier;
 * they never cut a field (each bound is at least the field's largest length). */
#define EXEC_HEADER_BYTES __builtin_offsetof(struct exec_record, filename)
#define PACKED_OFF_MASK 8191
#define PACKED_BYTES 16384
struct packed {
	char bytes[PACKED_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct packed);
} PACKED SEC(".maps");

/* The state of one path walk (see walk_step). */
struct walk {
	__u64 vfsmnt;
	__u64 mnt;
	__u64 dentry;
	__u32 off;
	__u32 which; /* 0: exe, 1: cwd */
	__u32 done;
	__u32 truncated;
};

/* One step of writing the path of (mnt, dentry) into the scratch record's exe or cwd, leaf
 * first, as NUL-terminated components, the way the kernel's d_path walks it (crossing
 * mounts, stopping at a namespace's root). Run by bpf_loop, so the verifier checks one step
 * rather than every path through PATH_DEPTH unrolled steps. */
static long walk_step(__u32 index, struct walk *w)
{
	__u32 zero = 0;
	struct exec_record *r = bpf_map_lookup_elem(&SCRATCH, &zero);
	struct vfsmount *vfsmnt = (void *)w->vfsmnt;
	struct mount *mnt = (void *)w->mnt;
	struct dentry *dentry = (void *)w->dentry;
	struct dentry *parent;
	char *buf;

	if (!r)
		return 1;
	if (dentry == BPF_CORE_READ(vfsmnt, mnt_root)) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);
		if (up == mnt || !up) {
			w->done = 1;
			return 1;
		}
		w->dentry = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = (__u64)up;
		w->vfsmnt = (__u64)up + bpf_core_field_offset(struct mount, mnt);
		return 0;
	}
	parent = BPF_CORE_READ(dentry, d_parent);
	if (parent == dentry || !parent) {
		w->done = 1;
		return 1;
	}
	if (w->off >= PATH_HALF)
		return 1;
	buf = w->which ? r->cwd : r->exe;
	long n = bpf_probe_read_kernel_str(&buf[w->off & (PATH_HALF - 1)], NAME_BYTES,
					   BPF_CORE_READ(dentry, d_name.name));
	if (n <= 0) {
		w->done = 1;
		return 1;
	}
	w->off += n;
	w->dentry = (__u64)parent;
	return 0;
}

/* Walks a path into the scratch record; returns its length and sets *truncated when the
 * walk was cut short (too deep or too long). */
static __always_inline __u32 walk_path(struct vfsmount *vfsmnt, struct dentry *dentry, __u32 which,
				       int *truncated)
{
	struct walk w = {
		.vfsmnt = (__u64)vfsmnt,
		.mnt = (__u64)vfsmnt - bpf_core_field_offset(struct mount, mnt),
		.dentry = (__u64)dentry,
		.which = which,
	};

	if (!vfsmnt || !dentry)
		return 0;
	bpf_loop(PATH_DEPTH, walk_step, &w, 0);
	*truncated = !w.done;
	return w.off;
}

static __always_inline void read_stdio(struct task_struct *task, struct stdio_info *out)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	unsigned int max;
	int i;

	if (!fdt)
		return;
	max = BPF_CORE_READ(fdt, max_fds);
	fds = BPF_CORE_READ(fdt, fd);
	for (i = 0; i < 3; i++) {
		struct file *f = 0;
		if ((unsigned int)i >= max)
			break;
		bpf_probe_read_kernel(&f, sizeof(f), &fds[i]);
		if (!f)
			continue;
		out[i].mode = BPF_CORE_READ(f, f_inode, i_mode);
		out[i].rdev = BPF_CORE_READ(f, f_inode, i_rdev);
	}
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(palisade_exec, struct task_struct *task, int old_pid, struct linux_binprm *bprm)
{
	__u32 zero = 0;
	struct exec_record *r = bpf_map_lookup_elem(&SCRATCH, &zero);
	int truncated = 0;

	if (!r)
		return 0;
	r->kind = KIND_EXEC;
	r->ts_ns = bpf_ktime_get_ns();
	r->pid = BPF_CORE_READ(task, tgid);
	r->ppid = BPF_CORE_READ(task, real_parent, tgid);
	r->cgroup_id = bpf_get_current_cgroup_id();
	r->start_boottime_ns = BPF_CORE_READ(task, start_boottime);
	r->uid = BPF_CORE_READ(task, cred, uid.val);
	r->gid = BPF_CORE_READ(task, cred, gid.val);
	r->euid = BPF_CORE_READ(task, cred, euid.val);
	{
		struct pid *p = BPF_CORE_READ(task, thread_pid);
		unsigned int level = BPF_CORE_READ(p, level);
		struct upid up = {};
		bpf_probe_read_kernel(&up, sizeof(up), &p->numbers[level & 31]);
		r->vpid = up.nr;
	}
	r->flags = 0;
	r->pad = 0;
	bpf_get_current_comm(r->comm, sizeof(r->comm));

	long n = bpf_probe_read_kernel_str(r->filename, sizeof(r->filename),
					   BPF_CORE_READ(bprm, filename));
	r->filename_len = n > 0 ? n : 0;

	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	r->args_len = 0;
	r->exe_len = 0;
	r->exe_mode = 0;
	if (mm) {
		unsigned long start = BPF_CORE_READ(mm, arg_start);
		unsigned long end = BPF_CORE_READ(mm, arg_end);
		unsigned long len = end > start ? end - start : 0;
		if (len > ARGS_MAX_BYTES - 1) {
			len = ARGS_MAX_BYTES - 1;
			r->flags |= FLAG_ARGS_TRUNCATED;
		}
		if (bpf_probe_read_user(r->args, len & (ARGS_MAX_BYTES - 1), (void *)start) == 0)
			r->args_len = len;

		struct file *exe = BPF_CORE_READ(mm, exe_file);
		if (exe) {
			r->exe_mode = BPF_CORE_READ(exe, f_inode, i_mode);
			r->exe_len = walk_path(BPF_CORE_READ(exe, f_path.mnt),
					       BPF_CORE_READ(exe, f_path.dentry), 0, &truncated);
			if (truncated)
				r->flags |= FLAG_EXE_TRUNCATED;
		}
	} else {
		r->flags |= FLAG_NO_MM;
	}

	truncated = 0;
	r->cwd_len = walk_path(BPF_CORE_READ(task, fs, pwd.mnt), BPF_CORE_READ(task, fs, pwd.dentry),
			       1, &truncated);
	if (truncated)
		r->flags |= FLAG_CWD_TRUNCATED;

	__builtin_memset(r->stdio, 0, sizeof(r->stdio));
	read_stdio(task, r->stdio);

	struct packed *out = bpf_map_lookup_elem(&PACKED, &zero);
	if (!out)
		return 0;
	__u32 off = EXEC_HEADER_BYTES;
	bpf_probe_read_kernel(out->bytes, EXEC_HEADER_BYTES, r);
	bpf_probe_read_kernel(&out->bytes[off & PACKED_OFF_MASK], r->filename_len & 511, r->filename);
	off += r->filename_len & 511;
	bpf_probe_read_kernel(&out->bytes[off & PACKED_OFF_MASK], r->exe_len & 1023, r->exe);
	off += r->exe_len & 1023;
	bpf_probe_read_kernel(&out->bytes[off & PACKED_OFF_MASK], r->cwd_len & 1023, r->cwd);
	off += r->cwd_len & 1023;
	bpf_probe_read_kernel(&out->bytes[off & PACKED_OFF_MASK], r->args_len & 4095, r->args);
	off += r->args_len & 4095;
	if (bpf_ringbuf_output(&EVENTS, out->bytes, off & PACKED_OFF_MASK, 0))
		count_drop(KIND_EXEC);
	return 0;
}

static __always_inline int task_event(__u32 kind, __u32 pid, __u32 ppid)
{
	struct task_record *r = bpf_ringbuf_reserve(&EVENTS, sizeof(*r), 0);

	if (!r) {
		count_drop(kind);
		return 0;
	}
	r->kind = kind;
	r->pid = pid;
	r->ppid = ppid;
	r->pad = 0;
	r->ts_ns = bpf_ktime_get_ns();
	r->cgroup_id = bpf_get_current_cgroup_id();
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(palisade_fork, struct task_struct *parent, struct task_struct *child)
{
	int pid = BPF_CORE_READ(child, pid);
	int tgid = BPF_CORE_READ(child, tgid);

	/* A new thread is not a new process. */
	if (pid != tgid)
		return 0;
	return task_event(KIND_FORK, tgid, BPF_CORE_READ(parent, tgid));
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(palisade_exit, struct task_struct *task)
{
	int pid = BPF_CORE_READ(task, pid);
	int tgid = BPF_CORE_READ(task, tgid);

	/* Only the thread group leader's exit ends the process. */
	if (pid != tgid)
		return 0;
	return task_event(KIND_EXIT, tgid, 0);
}

/* The layout record.rs decodes. */
_Static_assert(sizeof(struct exec_record) == 6520, "exec_record size");
_Static_assert(__builtin_offsetof(struct exec_record, stdio) == 80, "stdio offset");
_Static_assert(__builtin_offsetof(struct exec_record, comm) == 104, "comm offset");
_Static_assert(__builtin_offsetof(struct exec_record, filename) == 120, "filename offset");
_Static_assert(__builtin_offsetof(struct exec_record, exe) == 376, "exe offset");
_Static_assert(__builtin_offsetof(struct exec_record, cwd) == 1400, "cwd offset");
_Static_assert(__builtin_offsetof(struct exec_record, args) == 2424, "args offset");
_Static_assert(sizeof(struct task_record) == 32, "task_record size");
/* The masks above never cut a field. */
_Static_assert(FILENAME_MAX_BYTES <= 511 && PATH_HALF + NAME_BYTES <= 1023 &&
		       ARGS_MAX_BYTES - 1 <= 4095, "field masks");
_Static_assert(PACKED_OFF_MASK + 4095 < PACKED_BYTES, "packed bounds");
